package prescribe_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// roundTrip checks v3 → FHIR → v3 gives msg back exactly (corpus rules,
// every UUID of msg must come back).
func roundTrip(t *testing.T, msg []byte, e core.Env) []byte {
	t.Helper()
	body, meta, err := prescribe.PrescribeToFHIR(msg, e)
	if err != nil {
		t.Fatalf("v3 → FHIR: %v", err)
	}
	back, err := prescribe.PrescribeToV3(body, meta, e)
	if err != nil {
		t.Fatalf("FHIR → v3: %v\nFHIR: %s", err, body)
	}
	d, err := conformance.Compare(msg, back, conformance.Rules{FHIRRequest: msg})
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		t.Fatalf("v3 → FHIR → v3 differs: %s\nFHIR: %s", d, body)
	}
	return body
}

// TestPrescribeFixtures maps porxgate's own prescription-order fixtures
// (testdata/prescribe: repeat dispensing with a pharmacist prescriber and
// endorsements; an unsigned acute controlled drug by a nurse in secondary
// care with a separate responsible party; repeat prescribing by a dentist
// with four items, sequenced dosages and an organisation-only responsible
// party) to v3 and back, and checks the FHIR that comes back says the same.
func TestPrescribeFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "*.json"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/prescribe")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			req, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := prescribe.PrescribeToV3(req, core.Meta{}, core.FixedEnv())
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			body := roundTrip(t, msg, core.FixedEnv())
			compareOrders(t, req, body)
		})
	}
}

// order is what a prescription-order says, for semantic comparison.
type order struct {
	ShortID, LongID, NHS, Gender, Birth, Signature, When string
	Names                                                []fhir.HumanName
	Items                                                []item
	Requester                                            []string
}

type item struct {
	ID, Code, Display, Qty, Unit, Course, Note, Words, Review, Repeats string
	Endorsements                                                       []string
}

func summarise(t *testing.T, body []byte) order {
	t.Helper()
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	var o order
	for _, p := range fhir.EntriesOf[*fhir.Patient](b) {
		o.NHS, o.Gender, o.Birth, o.Names = fhir.FindIdentifier(p.Identifier, fhir.SystemNHSNumber), p.Gender, p.BirthDate, p.Name
	}
	for _, pr := range fhir.EntriesOf[*fhir.Provenance](b) {
		for _, s := range pr.Signature {
			o.Signature, o.When = s.Data, s.When
		}
	}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		o.ShortID = mr.GroupIdentifier.Value
		o.LongID = strings.ToLower(fhir.FindExtension(mr.GroupIdentifier.Extension, fhir.ExtensionPrescriptionID).ValueIdentifier.Value)
		it := item{ID: fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID), Course: mr.CourseOfTherapyType.Coding[0].Code,
			Qty: string(mr.DispenseRequest.Quantity.Value), Unit: mr.DispenseRequest.Quantity.Code}
		if mr.MedicationCodeableConcept != nil {
			it.Code = mr.MedicationCodeableConcept.Coding[0].Code
		}
		if len(mr.Note) > 0 {
			it.Note = mr.Note[0].Text
		}
		if n := mr.DispenseRequest.NumberOfRepeatsAllowed; n != nil {
			it.Repeats = string(*n)
		}
		for _, e := range mr.Extension {
			switch e.URL {
			case core.ExtensionControlledDrug:
				it.Words = *fhir.FindExtension(e.Extension, "quantityWords").ValueString
			case core.ExtensionPrescriptionEndorsement:
				it.Endorsements = append(it.Endorsements, e.ValueCodeableConcept.Coding[0].Code)
			case core.ExtensionUKCoreRepeatInformation:
				it.Review = *fhir.FindExtension(e.Extension, "authorisationExpiryDate").ValueDateTime
			}
		}
		o.Items = append(o.Items, it)
	}
	for _, r := range fhir.EntriesOf[*fhir.PractitionerRole](b) {
		o.Requester = append(o.Requester, fhir.FindIdentifier(r.Identifier, fhir.SystemSDSRoleProfile))
	}
	return o
}

// compareOrders checks that the FHIR made from v3 says what the original
// FHIR said, on the fields a prescription is about.
func compareOrders(t *testing.T, want, got []byte) {
	t.Helper()
	w, g := summarise(t, want), summarise(t, got)
	w.When, g.When = "", ""  // same instant, written in UTC on the way back
	for i := range w.Names { // v3 has one "legal" use for both
		if w.Names[i].Use == "official" {
			w.Names[i].Use = "usual"
		}
	}
	for i := range w.Items { // medicationReference comes back as a code
		if w.Items[i].Code == "" && i < len(g.Items) {
			w.Items[i].Code = g.Items[i].Code
		}
	}
	wj, _ := json.Marshal(w)
	gj, _ := json.Marshal(g)
	if !bytes.Equal(wj, gj) {
		t.Errorf("FHIR → v3 → FHIR changed the prescription:\nwant %s\n got %s", wj, gj)
	}
}

// TestPrescribeCorpusBundlesRoundTrip maps every prescription-order Bundle
// in the corpus (Send, Prepare and cancellation set-up requests) to v3 and
// checks v3 → FHIR → v3 gives the same v3 back.
func TestPrescribeCorpusBundlesRoundTrip(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool {
		return strings.HasPrefix(rel, "examples") && !strings.Contains(rel, "errors") && strings.HasSuffix(rel, ".json")
	})
	e := core.FixedEnv()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(`"prescription-order"`)) || bytes.Contains(data, []byte(`"prescription-order-update"`)) {
			continue
		}
		b, err := fhir.ParseBundle(data)
		if err != nil || b.Type != "message" {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(f, corpustest.Dir(t)), func(t *testing.T) {
			msg, err := prescribe.PrescribeToV3(data, core.Meta{}, e)
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			body := roundTrip(t, msg, e)
			if bytes.Contains(body, []byte(core.PorxgateExtensionBase)) {
				t.Errorf("FHIR made from EPS-shaped v3 carries porxgate extensions: %s", body)
			}
		})
	}
	if n < 20 {
		t.Errorf("found %d prescription-order bundles, want at least the 20 Send requests", n)
	}
}

// TestPrescribeSignedPrescriptionsRoundTrip reads the corpus's signed
// ParentPrescriptions (bare payloads) into FHIR and writes them back: the
// ParentPrescription must come back exactly, signature included.
func TestPrescribeSignedPrescriptionsRoundTrip(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool {
		return strings.HasPrefix(rel, "signed-prescriptions") && strings.HasSuffix(rel, ".xml")
	})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg := wrapParentPrescription(t, raw)
			roundTrip(t, msg, core.FixedEnv())
		})
	}
}

// wrapParentPrescription puts a bare ParentPrescription (no namespace) into
// a PORX_IN020101UK31 with wrappers, as a legacy system would send it.
func wrapParentPrescription(t *testing.T, raw []byte) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	w := core.Meta{}.Wrapper(v3.ParentPrescription, "C0FFEE00-0000-4000-8000-000000000001", "20240101000000")
	out, subject := v3.BuildWrapper(w)
	subject.AddChild(doc.Root())
	b, err := out.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrescribeV3Variations checks v3 → FHIR → v3 is exact for the ways a
// legacy prescriber's ParentPrescription can differ from what the EPS API
// writes: values carried in porxgate extensions, and parts carried whole.
func TestPrescribeV3Variations(t *testing.T) {
	signed := fixtureV3(t, "repeat-dispensing-pharmacist-endorsed.json")
	acute := fixtureV3(t, "acute-nurse-controlled-drug-unsigned.json")
	tests := []struct {
		name     string
		base     []byte
		old, new string
		// carried says the FHIR must carry a part verbatim.
		carried bool
	}{
		{"token issued", signed, `<value value="false"/>`, `<value value="true"/>`, false},
		{"organisation type codes", signed, `<code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/>
                  <name>PARK ROW PHARMACY</name>`, `<code code="001" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/>
                  <name>PARK ROW PHARMACY</name>`, false},
		{"effective time with an offset", acute, `<effectiveTime value="20240502152005"/>`, `<effectiveTime value="20240502162005+0100"/>`, false},
		{"effective time before the validity period", signed, `<effectiveTime value="20240301000000"/>`, `<effectiveTime value="20240229235959"/>`, false},
		{"repeat dispensing issue 3 of 6", signed, `<low value="1"/>
              <high value="6"/>
            </repeatNumber>`, `<low value="3"/>
              <high value="6"/>
            </repeatNumber>`, false},
		{"a line item with its own repeat number", signed, `<low value="1"/>
                  <high value="6"/>
                </repeatNumber>
                <product`, `<low value="1"/>
                  <high value="4"/>
                </repeatNumber>
                <product`, false},
		{"unsigned", signed, signatureTextOf(t, signed), `<signatureText nullFlavor="NA"/>`, false},
		{"non-urgent", signed, "PORX_IN020101UK31", "PORX_IN020102UK31", false},
		{"address key", acute, `<postalCode>TA1 1AA</postalCode>`, `<postalCode>TA1 1AA</postalCode><addressKey>5901431</addressKey>`, true},
		{"empty suffix", acute, `<family>JONES</family>`, `<family>JONES</family><suffix/>`, false},
		{"legacy professional code root", acute, `<id root="1.2.826.0.1285.0.2.1.54" extension="12A3456B"/>`, `<id root="1.2.826.0.1285.0.2.0.54" extension="12A3456B"/>`, true},
		{"telecom without a scheme", acute, `value="tel:01823333666"`, `value="01823333666"`, true},
		{"medication code with original text", acute, `displayName="Oxycodone 10mg modified-release tablets"/>`, `displayName="Oxycodone 10mg modified-release tablets"><originalText>Oxycodone</originalText></code>`, true},
		{"prescription code without display name", acute, `<code code="163501000000109" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Prescription - FocusActOrEvent (record artifact)"/>`, `<code code="163501000000109" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(tt.base), tt.old) {
				t.Fatalf("base message has no %q", tt.old)
			}
			msg := []byte(strings.ReplaceAll(string(tt.base), tt.old, tt.new))
			e := core.FixedEnv()
			body := roundTrip(t, msg, e)
			if got := bytes.Contains(body, []byte(core.ExtensionV3Original)); got != tt.carried {
				t.Errorf("part carried verbatim = %v, want %v", got, tt.carried)
			}
		})
	}
}

// fixtureV3 is the v3 porxgate makes of a testdata/prescribe fixture.
func fixtureV3(t *testing.T, name string) []byte {
	t.Helper()
	req, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prescribe", name))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := prescribe.PrescribeToV3(req, core.Meta{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// signatureTextOf returns the signatureText element of a message as written.
func signatureTextOf(t *testing.T, msg []byte) string {
	t.Helper()
	s := string(msg)
	i, j := strings.Index(s, "<signatureText>"), strings.Index(s, "</signatureText>")
	if i < 0 || j < i {
		t.Fatal("message has no signatureText")
	}
	return s[i : j+len("</signatureText>")]
}
