package cancel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// cancelFixture reads a file of testdata/cancel at the repository root.
func cancelFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cancel", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return b
}

// payloadOf returns the element of a v3 message reached by the tags, with
// namespace prefixes and declarations dropped.
func payloadOf(t testing.TB, msg []byte, tags ...string) *etree.Element {
	t.Helper()
	_, root, err := v3.Parse(msg)
	if err != nil {
		t.Fatalf("parsing v3: %v", err)
	}
	n := root
	for _, tag := range tags {
		n = n.Child(tag)
	}
	if !n.Exists() {
		t.Fatalf("no %s in %s", strings.Join(tags, "/"), msg)
	}
	return normalizedV3(n.El)
}

func TestCancelRequestRoundTrip(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	env := core.FixedEnv()
	body, meta, err := CancelToFHIR(req, env)
	if err != nil {
		t.Fatalf("CancelToFHIR: %v", err)
	}
	if meta.MessageID != "5B1C9E0A-3D2F-4A6B-9C8D-7E6F5A4B3C21" || meta.SenderASID != "918273645546" || meta.Agent == nil || meta.Agent.UserID != "700044455566" {
		t.Errorf("meta = %+v", meta)
	}
	if strings.Contains(string(body), ExtensionV3Layout) || strings.Contains(string(body), ExtensionCancelV3) {
		t.Errorf("a plain request needed porxgate extensions:\n%s", body)
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
	if len(mrs) != 1 {
		t.Fatalf("%d MedicationRequests", len(mrs))
	}
	mr := mrs[0]
	if mr.Status != "cancelled" || mr.StatusReason.Coding[0].Code != "0005" || mr.Identifier[0].Value != "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d" ||
		mr.GroupIdentifier.Value != "7D3E21-B86019-4A2C9F" || b.Timestamp != "2024-06-07T08:14:55+00:00" {
		t.Errorf("MedicationRequest = %+v, timestamp %s", mr, b.Timestamp)
	}
	if fhir.FindExtension(mr.Extension, core.ExtensionResponsiblePractitioner) == nil {
		t.Error("no ResponsiblePractitioner extension for a responsible party that differs from the author")
	}
	var sds, gmc int
	for _, p := range fhir.EntriesOf[*fhir.Practitioner](b) {
		switch p.Identifier[0].System {
		case fhir.SystemSDSUser:
			sds++
		case fhir.SystemGMC:
			gmc++
		}
	}
	if sds != 1 || gmc != 1 {
		t.Errorf("practitioners: %d SDS user ids, %d GMC numbers; want 1 and 1", sds, gmc)
	}
	if n := len(fhir.EntriesOf[*fhir.Organization](b)); n != 1 {
		t.Errorf("%d organisations; the author and responsible party share one", n)
	}

	back, err := CancelToV3(body, meta, env)
	if err != nil {
		t.Fatalf("CancelToV3: %v", err)
	}
	if !strings.Contains(string(back), "<PORX_IN030101UK32 ") {
		t.Errorf("family not kept:\n%s", back)
	}
	want := payloadOf(t, req, "ControlActEvent", "subject", "CancellationRequest")
	got := payloadOf(t, back, "ControlActEvent", "subject", "CancellationRequest")
	if !core.SameElement(want, got, nil) {
		t.Errorf("CancellationRequest changed on the round trip:\n%s", back)
	}
}

func TestCancelToV3SMFamilyAndTimes(t *testing.T) {
	env := core.FixedEnv()
	body, _, err := CancelToFHIR(cancelFixture(t, "cancel_request_uk.xml"), env)
	if err != nil {
		t.Fatal(err)
	}
	env.Family = v3.FamilySM
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "timestamp")
	body, _ = json.Marshal(m)
	out, err := CancelToV3(body, core.Meta{}, env)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"<PORX_IN030101SM32 ", `<effectiveTime value="20240607080910"/>`, `extension="555254239107"`, `<id root="0E5D4C3B-2A19-4F08-8E7D-6C5B4A392817"/>`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
}

func TestCancelToFHIRMalformed(t *testing.T) {
	good := string(cancelFixture(t, "cancel_request_uk.xml"))
	const cr = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest"
	cases := []struct {
		name, old, new, wantPath string
	}{
		{"not xml", "<?xml", "<<", "/"},
		{"other interaction", "PORX_IN030101UK32", "PORX_IN020101UK31", "/PORX_IN020101UK31"},
		{"line item missing", `<pertinentInformation1 typeCode="PERT" inversionInd="false" negationInd="false">
          <seperatableInd value="true"/>
          <pertinentLineItemRef classCode="SBADM" moodCode="RQO">
            <id root="A9B8C7D6-E5F4-4A3B-8C2D-1E0F9A8B7C6D"/>
          </pertinentLineItemRef>
        </pertinentInformation1>`, "", cr + "/pertinentInformation1"},
		{"line item not a uuid", "A9B8C7D6-E5F4-4A3B-8C2D-1E0F9A8B7C6D", "item-1", cr + "/pertinentInformation1/pertinentLineItemRef/id/@root"},
		{"short-form id not hexadecimal", "7D3E21-B86019-4A2C9F", "7D3E2X-B86019-4A2C9F", cr + "/pertinentInformation2/pertinentPrescriptionID/value/@extension"},
		{"short-form id root", `root="2.16.840.1.113883.2.1.3.2.4.18.8"`, `root="1.2.3"`, cr + "/pertinentInformation2/pertinentPrescriptionID/value/@root"},
		{"person id root", `root="1.2.826.0.1285.0.2.1.54" extension="7654321"`, `root="1.2.3.4" extension="7654321"`, cr + "/responsibleParty/AgentPerson/agentPerson/id"},
		{"reason code system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"`, `codeSystem="1.2.3"`, cr + "/pertinentInformation/pertinentCancellationReason/value/@codeSystem"},
		{"reason code missing", `<value code="0005" codeSystem`, `<value codeSystem`, cr + "/pertinentInformation/pertinentCancellationReason/value/@code"},
		{"unexpected element", `<effectiveTime value="20240607081455"/>`, `<effectiveTime value="20240607081455"/><foo/>`, cr + "/foo"},
		{"out of order", `<effectiveTime value="20240607081455"/>
        <recordTarget`, `<recordTarget`, cr + "/effectiveTime"},
		{"class code", `<CancellationRequest classCode="INFO"`, `<CancellationRequest classCode="OBS"`, cr + "/@classCode"},
		{"unexpected attribute", `<pertinentLineItemRef classCode="SBADM"`, `<pertinentLineItemRef nullFlavor="NA" classCode="SBADM"`, cr + "/pertinentInformation1/pertinentLineItemRef/@nullFlavor"},
		// Either boolean is accepted (docs/mappings/accepting.md); a value
		// that is no boolean is not.
		{"seperatableInd", `<seperatableInd value="true"/>
          <pertinentLineItemRef`, `<seperatableInd value="yes"/>
          <pertinentLineItemRef`, cr + "/pertinentInformation1/seperatableInd/@value"},
		{"patient gender", `<administrativeGenderCode code="2"`, `<administrativeGenderCode code="7"`, cr + "/recordTarget/Patient/patientPerson/administrativeGenderCode"},
		{"no organisation", `<representedOrganization classCode="ORG" determinerCode="INSTANCE">
              <id root="1.2.826.0.1285.0.1.10" extension="B86019"/>
              <code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/>
              <name>PORXGATE TEST SURGERY</name>
              <telecom use="WP" value="tel:01130000000"/>
              <addr use="WP">
                <streetAddressLine>1 Gateway Street</streetAddressLine>
                <streetAddressLine>Testville</streetAddressLine>
                <postalCode>ZZ1 1ZZ</postalCode>
              </addr>
            </representedOrganization>
          </AgentPerson>
        </author>`, `</AgentPerson>
        </author>`, cr + "/author/AgentPerson/representedOrganization"},
		{"text with markup", `<text>At the Patient's request</text>`, `<text><b>x</b></text>`, cr + "/pertinentInformation/pertinentCancellationReason/text/b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.ReplaceAll(good, tc.old, tc.new)
			if in == good {
				t.Fatalf("the case changes nothing")
			}
			_, _, err := CancelToFHIR([]byte(in), core.FixedEnv())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantPath+":") {
				t.Errorf("error %q does not name %s", msg, tc.wantPath)
			}
			if tc.wantPath != "/" && !strings.HasPrefix(msg, "PORX_IN") && !strings.Contains(msg, ": PORX_IN") {
				t.Errorf("error %q does not name the interaction", msg)
			}
		})
	}
}

// mutateJSON decodes a Bundle as generic JSON, applies f and encodes it.
func mutateJSON(t *testing.T, body []byte, f func(b map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entryOf returns the resource of the first entry of a resourceType.
func entryOf(b map[string]any, resourceType string) map[string]any {
	for _, e := range b["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		if r["resourceType"] == resourceType {
			return r
		}
	}
	return nil
}

func TestCancelToV3Malformed(t *testing.T) {
	body, _, err := CancelToFHIR(cancelFixture(t, "cancel_request_uk.xml"), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		mutate   func(b map[string]any)
		wantPath string
	}{
		{"event", func(b map[string]any) {
			entryOf(b, "MessageHeader")["eventCoding"].(map[string]any)["code"] = "prescription-order"
		}, "Bundle.entry[0].resource.eventCoding.code"},
		{"no identifier", func(b map[string]any) { delete(b, "identifier") }, "Bundle.identifier"},
		{"status", func(b map[string]any) { entryOf(b, "MedicationRequest")["status"] = "active" }, "Bundle.entry[1].resource.status"},
		{"no status reason", func(b map[string]any) { delete(entryOf(b, "MedicationRequest"), "statusReason") }, "Bundle.entry[1].resource.statusReason.coding"},
		{"no line item", func(b map[string]any) { delete(entryOf(b, "MedicationRequest"), "identifier") }, "Bundle.entry[1].resource.identifier"},
		{"no group identifier", func(b map[string]any) { delete(entryOf(b, "MedicationRequest"), "groupIdentifier") }, "Bundle.entry[1].resource.groupIdentifier"},
		{"no long-form id", func(b map[string]any) {
			delete(entryOf(b, "MedicationRequest")["groupIdentifier"].(map[string]any), "extension")
		}, "Bundle.entry[1].resource.groupIdentifier.extension"},
		{"dangling requester", func(b map[string]any) {
			entryOf(b, "MedicationRequest")["requester"] = map[string]any{"reference": "urn:uuid:nowhere"}
		}, "Bundle.entry[1].resource.requester.reference"},
		{"two line items", func(b map[string]any) {
			b["entry"] = append(b["entry"].([]any), map[string]any{"fullUrl": "urn:uuid:x", "resource": entryOf(b, "MedicationRequest")})
		}, "resource: a cancel request cancels one line item"},
		{"no patient", func(b map[string]any) {
			var keep []any
			for _, e := range b["entry"].([]any) {
				if e.(map[string]any)["resource"].(map[string]any)["resourceType"] != "Patient" {
					keep = append(keep, e)
				}
			}
			b["entry"] = keep
		}, "Bundle.entry: no Patient"},
		{"bad timestamp", func(b map[string]any) { b["timestamp"] = "yesterday" }, "Bundle.timestamp"},
		{"no job role", func(b map[string]any) {
			entryOf(b, "PractitionerRole")["code"] = []any{map[string]any{"text": "a role"}}
		}, ".resource.code: no job role code"},
		// The EPS API refuses it (organization.ts, onlyElement over
		// Organization.telecom: TOO_MANY_VALUES_SUBMITTED); the v3
		// representedOrganization holds one.
		{"organisation with two telecoms", func(b map[string]any) {
			entryOf(b, "Organization")["telecom"] = []any{
				map[string]any{"system": "phone", "value": "01234567890", "use": "work"},
				map[string]any{"system": "phone", "value": "09999111222", "use": "work"}}
		}, ".resource.telecom: more than one telecom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CancelToV3(mutateJSON(t, body, tc.mutate), core.Meta{}, core.FixedEnv())
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "PORX_IN030101UK32: ") || !strings.Contains(msg, tc.wantPath) {
				t.Errorf("error %q does not name the interaction and %s", msg, tc.wantPath)
			}
		})
	}
	if _, err := CancelToV3([]byte("{"), core.Meta{}, core.FixedEnv()); err == nil || !strings.Contains(err.Error(), "PORX_IN030101UK32: Bundle") {
		t.Errorf("not JSON: %v", err)
	}
}

func TestCancelLayoutFHIRWins(t *testing.T) {
	// A layout the FHIR resource no longer agrees with is ignored.
	req := cancelFixture(t, "cancel_request_uk.xml")
	odd := strings.Replace(string(req), `<postalCode>ZZ9 9ZZ</postalCode>`, `<postalCode partType="ZIP">ZZ9 9ZZ</postalCode>`, 1)
	body, meta, err := CancelToFHIR([]byte(odd), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), ExtensionV3Layout) {
		t.Fatalf("no layout kept for a partType:\n%s", body)
	}
	out, err := CancelToV3(body, meta, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `<postalCode partType="ZIP">ZZ9 9ZZ</postalCode>`) {
		t.Errorf("layout not used:\n%s", out)
	}
	edited := mutateJSON(t, body, func(b map[string]any) {
		entryOf(b, "Patient")["address"].([]any)[0].(map[string]any)["postalCode"] = "AA1 1AA"
	})
	out, err = CancelToV3(edited, meta, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `<postalCode>AA1 1AA</postalCode>`) || strings.Contains(string(out), "partType") {
		t.Errorf("the edited FHIR address lost to the layout:\n%s", out)
	}
}

// TestCancelToFHIRAcceptsDisplayNames: the reason value and the fixed
// codes of a CancellationRequest are CVs, whose displayName the MIM allows
// (Spine takes it; many prescribing systems write one on every code). It
// is the code's own name: the FHIR is that of the same message without it.
// An empty displayName is no st and is refused.
func TestCancelToFHIRAcceptsDisplayNames(t *testing.T) {
	good := string(cancelFixture(t, "cancel_request_uk.xml"))
	const cr = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest"
	want, _, err := CancelToFHIR([]byte(good), core.FixedEnv())
	if err != nil {
		t.Fatalf("CancelToFHIR: %v", err)
	}
	const (
		pidCode    = `<code code="PID" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>`
		reasonCode = `<code code="CR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>`
		value      = `<value code="0005" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"/>`
	)
	cases := []struct {
		name, old, new, wantPath string
	}{
		{"reason value", value, `<value code="0005" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27" displayName="At the Patient's request"/>`, ""},
		{"reason code", reasonCode, `<code code="CR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" displayName="Cancellation Reason"/>`, ""},
		{"prescription id code", pidCode, `<code code="PID" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" displayName="Prescription ID"/>`, ""},
		{"empty on the reason value", value, `<value code="0005" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27" displayName=""/>`,
			cr + "/pertinentInformation/pertinentCancellationReason/value/@displayName"},
		{"empty on a fixed code", reasonCode, `<code code="CR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" displayName=""/>`,
			cr + "/pertinentInformation/pertinentCancellationReason/code/@displayName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(good, tc.old, tc.new, 1)
			if in == good {
				t.Fatalf("the case changes nothing")
			}
			got, _, err := CancelToFHIR([]byte(in), core.FixedEnv())
			if tc.wantPath != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantPath+":") {
					t.Fatalf("error %v, want one naming %s", err, tc.wantPath)
				}
				return
			}
			if err != nil {
				t.Fatalf("CancelToFHIR: %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("FHIR differs from the message without displayName:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestCancelRequestAuthorPerson: the canceller's AgentPerson names its
// person by a choice of agentPerson or agentPersonSDS (UKCT_MT120201UK04;
// the corpus has a responsible party naming neither, an organisation
// only). An agentPersonSDS is the Practitioner's SDS user id, the role's
// layout keeping the element, so the v3 comes back as sent; both at once
// are refused. Before, agentPersonSDS was refused as an unexpected element.
func TestCancelRequestAuthorPerson(t *testing.T) {
	good := string(cancelFixture(t, "cancel_request_uk.xml"))
	const person = `<agentPerson classCode="PSN" determinerCode="INSTANCE">
              <id root="1.2.826.0.1285.0.2.0.65" extension="700044455566"/>`
	start := strings.Index(good, person)
	if start < 0 {
		t.Fatal("the fixture's author agentPerson was not found")
	}
	end := start + strings.Index(good[start:], "</agentPerson>") + len("</agentPerson>")
	const author = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/author/AgentPerson"
	tests := []struct {
		name, person, wantUser, wantErr string
	}{
		{"agentPersonSDS", `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.65" extension="700044455566"/></agentPersonSDS>`, "700044455566", ""},
		{"agentPersonSDS of another root", `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.3" extension="700044455566"/></agentPersonSDS>`, "", author + "/agentPersonSDS/id"},
		{"both", person + `<name>DR A PRESCRIBER</name></agentPerson><agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.65" extension="700044455566"/></agentPersonSDS>`, "", author + "/agentPersonSDS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(good[:start] + tc.person + good[end:])
			env := core.FixedEnv()
			body, meta, err := CancelToFHIR(in, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr+":") {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CancelToFHIR: %v", err)
			}
			b, err := fhir.ParseBundle(body)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range b.Entry {
				if p, ok := e.Resource.(*fhir.Practitioner); ok && fhir.FindIdentifier(p.Identifier, fhir.SystemSDSUser) == tc.wantUser {
					found = true
				}
			}
			if !found {
				t.Errorf("no Practitioner with sds-user-id %s in\n%s", tc.wantUser, body)
			}
			back, err := CancelToV3(body, meta, env)
			if err != nil {
				t.Fatalf("CancelToV3: %v", err)
			}
			if got, want := payloadOf(t, back, "ControlActEvent", "subject", "CancellationRequest", "author"), payloadOf(t, in, "ControlActEvent", "subject", "CancellationRequest", "author"); !core.SameElement(want, got, nil) {
				t.Errorf("the author did not come back as sent")
			}
		})
	}
}
