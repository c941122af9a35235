package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
)

func TestDecodeMessageMalformed(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `{`, "Bundle:"},
		{"not a Bundle", `{"resourceType":"Parameters"}`, errNotBundleOfTypeMsg},
		{"not a message", `{"resourceType":"Bundle","type":"collection","entry":[{}]}`, errNotBundleOfTypeMsg},
		{"no entries", `{"resourceType":"Bundle","type":"message"}`, "must contain 'entry'"},
		{"entry not an object", `{"resourceType":"Bundle","type":"message","entry":[{"resource":7}]}`, "entry[0]"},
		{"header not first", `{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Patient"}}]}`, errNoMessageHeaderFirst},
		{"header wrong shape", `{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MessageHeader","eventCoding":[]}}]}`, "MessageHeader:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeMessage([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decodeMessage = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

const minimalHeader = `{"fullUrl":"urn:uuid:h","resource":{"resourceType":"MessageHeader","eventCoding":{"code":"%s"},"sender":{"identifier":{"value":"FH542"}}}}`

func TestDecodeEventsMalformed(t *testing.T) {
	msg := func(event string, entries ...string) []byte {
		all := append([]string{strings.Replace(minimalHeader, "%s", event, 1)}, entries...)
		return []byte(`{"resourceType":"Bundle","type":"message","entry":[` + strings.Join(all, ",") + `]}`)
	}
	mr := func(body string) string {
		return `{"fullUrl":"urn:uuid:m","resource":{"resourceType":"MedicationRequest",` + body + `}}`
	}
	tests := []struct {
		name   string
		body   []byte
		decode func(m *message, raw []byte) error
		want   string
	}{
		{"order without MedicationRequest", msg("prescription-order"), orderDecoder, "no MedicationRequest"},
		{"order without groupIdentifier", msg("prescription-order", mr(`"identifier":[]`)), orderDecoder, "groupIdentifier missing"},
		{"order without item id", msg("prescription-order", mr(`"groupIdentifier":{"value":"X"}`)), orderDecoder, "identifier"},
		{"order without patient", msg("prescription-order", mr(`"groupIdentifier":{"value":"X"},"identifier":[{"system":"`+fhir.SystemLineItemID+`","value":"i"}]`)), orderDecoder, "NHS number"},
		{"order with two ids", msg("prescription-order", mr(`"groupIdentifier":{"value":"X"}`), mr(`"groupIdentifier":{"value":"Y"}`)), orderDecoder, "differs"},
		{"cancel not cancelled", msg("prescription-order-update", mr(`"groupIdentifier":{"value":"X"},"status":"active"`)), cancelDecoder, "status cancelled"},
		{"dispense without MedicationDispense", msg("dispense-notification"), dispenseDecoder, "no MedicationDispense"},
		{"dispense without type", msg("dispense-notification", `{"resource":{"resourceType":"MedicationDispense"}}`), dispenseDecoder, "type"},
		{"dispense without contained request", msg("dispense-notification",
			`{"resource":{"resourceType":"MedicationDispense","type":{"coding":[{"system":"`+fhir.CodeSystemMedicationDispenseType+`","code":"0001"}]}}}`), dispenseDecoder, "no contained MedicationRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeMessage(tt.body)
			if err != nil {
				t.Fatalf("decodeMessage: %v", err)
			}
			err = tt.decode(m, tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func orderDecoder(m *message, raw []byte) error {
	_, err := decodePrescriptionOrder(m, raw)
	return err
}

func cancelDecoder(m *message, _ []byte) error {
	_, err := decodeCancel(m)
	return err
}

func dispenseDecoder(m *message, _ []byte) error {
	_, err := decodeDispense(m)
	return err
}

// validReturn is what the EPS API's own checks ask of a return Task
// (taskIssues), for the Tasks that test what comes after them.
const validReturn = `"intent":"order","status":"rejected","statusReason":{"coding":[{"system":"` + codeSystemReturnReason + `","code":"0003"}]},` +
	`"contained":[{"resourceType":"PractitionerRole","id":"r"}],"requester":{"reference":"#r"},` +
	`"identifier":[{"system":"` + fhir.SystemRFC4122 + `","value":"t1"}]`

// telecomAgent is the agent parameter the EPS API's own checks ask of a
// release (decodeRelease), for the releases that test what comes after.
const telecomAgent = `{"name":"agent","resource":{"resourceType":"PractitionerRole","telecom":[{"system":"phone","value":"01234567890"}]}}`

// validClaim is what a Claim needs to pass the EPS API's own checks
// (claimIssues): one insurance of a known authority, an endorsement.
const validClaim = `"insurance":[{"coverage":{"identifier":{"value":"T1450"}}}],` +
	`"item":[{"detail":[{"programCode":[{"coding":[{"system":"` + codeSystemEndorsement + `","code":"NDEC"}]}]}]}]`

func TestDecodeResourcesMalformed(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
		want   string
	}{
		{"release not JSON", releaseDecoder, `[`, "Parameters:"},
		{"release wrong type", releaseDecoder, `{"resourceType":"Task"}`, "must be Parameters"},
		{"release no agent", releaseDecoder, `{"resourceType":"Parameters","parameter":[]}`, "Parameter with name agent not found"},
		{"release no owner", releaseDecoder, `{"resourceType":"Parameters","parameter":[` + telecomAgent + `]}`, "Required parameter owner is missing."},
		{"release owner not a resource", releaseDecoder, `{"resourceType":"Parameters","parameter":[{"name":"owner","resource":3},` + telecomAgent + `]}`, "owner"},
		{"release owner without ODS code", releaseDecoder, `{"resourceType":"Parameters","parameter":[{"name":"owner","resource":{"resourceType":"Organization"}},` +
			telecomAgent + `]}`, "owner"},
		{"task wrong type", taskDecoder, `{"resourceType":"Claim"}`, "must be Task"},
		{"task no group", taskDecoder, `{"resourceType":"Task",` + validReturn + `}`, "groupIdentifier"},
		{"task no dispenser", taskDecoder, `{"resourceType":"Task",` + validReturn + `,"groupIdentifier":{"value":"X"}}`, "owner"},
		{"task neither", taskDecoder, `{"resourceType":"Task","intent":"order","groupIdentifier":{"value":"X"},"owner":{"identifier":{"value":"FH542"}},"status":"completed",` +
			`"contained":[{"resourceType":"PractitionerRole","id":"r"}],"requester":{"reference":"#r"}}`,
			"Task.status must be one of: 'in-progress', 'rejected'."},
		{"claim wrong type", claimDecoder, `{"resourceType":"Task"}`, "must be Claim"},
		{"claim no prescription", claimDecoder, `{"resourceType":"Claim",` + validClaim + `,"identifier":[{"system":"` + fhir.SystemRFC4122 + `","value":"c"}]}`, "shortForm"},
		// EPS reads the message id with onlyElement: "Required field missing."
		{"claim no id", claimDecoder, `{"resourceType":"Claim",` + validClaim + `,"prescription":{"extension":[{"url":"` + fhir.ExtensionGroupIdentifier + `","extension":[{"url":"shortForm","valueIdentifier":{"value":"X"}}]}]}}`, "Required field missing."},
		{"claim without insurance", claimDecoder, `{"resourceType":"Claim"}`, "Expected 1 item(s) in Claim.insurance, but received 0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func releaseDecoder(b []byte) error { _, err := decodeRelease(b); return err }
func taskDecoder(b []byte) error    { _, err := decodeTask(b); return err }
func claimDecoder(b []byte) error   { _, err := decodeClaim(b); return err }

func TestDecodeFixtures(t *testing.T) {
	p := newRx(t, 5, "FH542")
	m, err := decodeMessage(fixture(t, "prescription-order.json", p.repl(nil)))
	if err != nil {
		t.Fatal(err)
	}
	np, err := decodePrescriptionOrder(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if np.ShortFormID != p.sf || np.NHSNumber != p.nhs || np.Nominated != "FH542" || np.Prescriber != "A83008" ||
		len(np.ItemIDs) != 2 || np.ItemIDs[0] != p.item1 {
		t.Fatalf("prescription-order decoded as %+v", np)
	}
	m, err = decodeMessage(fixture(t, "dispense-notification.json", p.repl(map[string]string{"STATUS1": "0003", "STATUS2": "0004", "REPLACES": "prev"})))
	if err != nil {
		t.Fatal(err)
	}
	dr, err := decodeDispense(m)
	if err != nil {
		t.Fatal(err)
	}
	if dr.ShortFormID != p.sf || dr.Dispenser != "FH542" || dr.ReplacementOf != "prev" || dr.Items[p.item1] != ItemPartial || dr.Items[p.item2] != ItemOwing {
		t.Fatalf("dispense-notification decoded as %+v", dr)
	}
	ta, err := decodeTask(fixture(t, "return.json", p.repl(nil)))
	if err != nil || ta.withdraw || ta.ret.Dispenser != "FH542" || ta.ret.Reason != "0003" {
		t.Fatalf("return decoded as %+v, %v", ta, err)
	}
	ta, err = decodeTask(fixture(t, "withdraw.json", p.repl(map[string]string{"FOCUSID": "d1"})))
	if err != nil || !ta.withdraw || ta.wd.DispenseID != "d1" || ta.wd.Reason != "LD" {
		t.Fatalf("withdraw decoded as %+v, %v", ta, err)
	}
	cr, err := decodeClaim(fixture(t, "claim.json", p.repl(nil)))
	if err != nil || cr.ShortFormID != p.sf || cr.Claimant != "FH542" || cr.ReplacementOf != "" {
		t.Fatalf("claim decoded as %+v, %v", cr, err)
	}
}

// corpusDir finds the shared corpus (PORXGATE_CORPUS, default
// ../shared/corpus beside the repository root).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PORXGATE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus not found at %s (set PORXGATE_CORPUS): %v", dir, err)
		}
		t.Skipf("corpus not found at %s (set PORXGATE_CORPUS)", dir)
	}
	return dir
}

// TestDecodeCorpus checks that the decoders read EPS's own example requests.
func TestDecodeCorpus(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "examples", "spec")
	read := func(t *testing.T, rel string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("prescription-order", func(t *testing.T) {
		b := read(t, "prescribing/prescription-order/repeat-primary-example-req.json")
		m, err := decodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		np, err := decodePrescriptionOrder(m, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkShortFormID(np.ShortFormID); err != nil {
			t.Fatal(err)
		}
		if np.NHSNumber == "" || len(np.ItemIDs) == 0 || np.LongFormID == "" {
			t.Fatalf("decoded %+v", np)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		m, err := decodeMessage(read(t, "prescribing/prescription-order-update/repeat-primary-example-req.json"))
		if err != nil {
			t.Fatal(err)
		}
		cr, err := decodeCancel(m)
		if err != nil || cr.ShortFormID != "24F5DA-A83008-7EFE6Z" || len(cr.ItemIDs) != 1 || cr.Requester == "" {
			t.Fatalf("decoded %+v, %v", cr, err)
		}
	})
	t.Run("dispense", func(t *testing.T) {
		for _, f := range []string{"acute-primary-example-01-req.json", "acute-primary-example-04-req.json", "eRD-primary-example-req.json"} {
			m, err := decodeMessage(read(t, "dispensing/dispense-notification/"+f))
			if err != nil {
				t.Fatal(err)
			}
			dr, err := decodeDispense(m)
			if err != nil || dr.ShortFormID == "" || dr.Dispenser != "VNE51" || len(dr.Items) == 0 {
				t.Fatalf("%s decoded %+v, %v", f, dr, err)
			}
		}
	})
	t.Run("release", func(t *testing.T) {
		rr, err := decodeRelease(read(t, "dispensing/release/acute-primary-example-req.json"))
		if err != nil || rr.Owner != "VNE51" || rr.ShortFormID != "24F5DA-A83008-7EFE6Z" {
			t.Fatalf("decoded %+v, %v", rr, err)
		}
		rr, err = decodeRelease(read(t, "dispense/Nominated-Pharmacy-Request-Release-200_OK.json"))
		if err != nil || rr.Owner != "VNE51" || rr.ShortFormID != "" {
			t.Fatalf("decoded %+v, %v", rr, err)
		}
	})
	t.Run("return and withdraw", func(t *testing.T) {
		ta, err := decodeTask(read(t, "dispensing/return/acute-primary-example-req.json"))
		if err != nil || ta.withdraw || ta.ret.Dispenser != "VNE51" {
			t.Fatalf("return decoded %+v, %v", ta, err)
		}
		ta, err = decodeTask(read(t, "dispensing/withdraw/acute-primary-example-req.json"))
		if err != nil || !ta.withdraw || ta.wd.Dispenser != "VNE51" || ta.wd.Reason != "MU" {
			t.Fatalf("withdraw decoded %+v, %v", ta, err)
		}
	})
	t.Run("claim", func(t *testing.T) {
		cr, err := decodeClaim(read(t, "dispensing/claim/acute-primary-example-req.json"))
		if err != nil || cr.ShortFormID != "24F5DA-A83008-7EFE6Z" || cr.ClaimID == "" {
			t.Fatalf("decoded %+v, %v", cr, err)
		}
	})
}

// FuzzDecodeMessage feeds arbitrary bytes through every message decoder: no
// panics, and a decoded order always names a prescription.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MessageHeader"}}]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if np, err := decodePrescriptionOrder(m, b); err == nil && (np.ShortFormID == "" || len(np.ItemIDs) == 0) {
			t.Fatalf("order decoded without id or items: %+v", np)
		}
		_, _ = decodeCancel(m)
		if dr, err := decodeDispense(m); err == nil && dr.ShortFormID == "" {
			t.Fatalf("dispense decoded without prescription: %+v", dr)
		}
	})
}

// FuzzDecodeResources feeds arbitrary bytes to the Parameters, Task and
// Claim decoders.
func FuzzDecodeResources(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"owner","resource":{"identifier":[]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeRelease(b); err == nil && r.Owner == "" {
			t.Fatal("release decoded without owner")
		}
		_, _ = decodeTask(b)
		if c, err := decodeClaim(b); err == nil && c.ShortFormID == "" {
			t.Fatal("claim decoded without prescription")
		}
	})
}

// TestWithdrawNamesItsDispense: EPS withdraws the dispense notification
// the Task names; a withdraw Task without focus.identifier is refused
// rather than taken as "whatever is last" (a repeat would withdraw a
// second dispense).
func TestWithdrawNamesItsDispense(t *testing.T) {
	p := newRx(t, 7, "FH542")
	body := strings.Replace(string(fixture(t, "withdraw.json", p.repl(map[string]string{"FOCUSID": "d1"}))), `"focus"`, `"focusX"`, 1)
	if _, err := decodeTask([]byte(body)); err == nil || !strings.Contains(err.Error(), "focus.identifier") {
		t.Fatalf("withdraw without focus decoded: %v", err)
	}
}
