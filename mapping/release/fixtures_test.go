package release_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// relEnv is a deterministic environment in the UK family with the short-form
// id check character enforced.
func relEnv() core.Env {
	return core.FixedEnvAt(time.Date(2024, 6, 12, 10, 15, 0, 0, time.UTC), v3.FamilyUK)
}

// relRoundTrip runs msg through the translator of its interaction, v3 →
// FHIR → v3, checks the result against msg under the corpus comparison
// rules with every UUID required back, and returns the FHIR and the v3.
func relRoundTrip(t *testing.T, msg []byte) (body, got []byte) {
	t.Helper()
	reg := mapping.NewRegistry()
	_, root, err := v3.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	tr := reg.ByInteraction(root.El.Tag)
	if tr == nil {
		t.Fatalf("no translator for %s", root.El.Tag)
	}
	env := relEnv()
	body, meta, err := tr.ToFHIR(msg, env)
	if err != nil {
		t.Fatalf("ToFHIR: %v", err)
	}
	got, err = tr.ToV3(body, meta, env)
	if err != nil {
		t.Fatalf("ToV3: %v\nFHIR: %s", err, body)
	}
	d, err := conformance.Compare(msg, got, conformance.Rules{FHIRRequest: msg})
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		t.Fatalf("round trip differs: %s\nFHIR: %s", d, body)
	}
	return body, got
}

func TestReleaseFixturesRoundTrip(t *testing.T) {
	tests := []struct {
		file string
		// carried are the porxgate extensions the FHIR must hold (by URL
		// part); every other porxgate extension is unexpected.
		carried []string
		check   func(t *testing.T, body []byte)
	}{
		{"nominated-release-request-060102.xml", []string{"Extension-Porxgate-PersonName"}, func(t *testing.T, body []byte) {
			p := decodeParams(t, body)
			if p.Find(release.ParamGroupIdentifier) != nil {
				t.Error("a nominated release has no group-identifier")
			}
			role := p.Find(release.ParamAgent).Resource.(*fhir.PractitionerRole)
			// EPS takes the person as a logical reference only (it refuses a
			// contained Practitioner): the structured name is its display,
			// the parts ride in porxgate's extension.
			pr := role.Practitioner
			kept := fhir.FindExtension(pr.Extension, core.ExtensionPersonName)
			if len(role.Contained) != 0 || pr.Reference != "" || pr.Display != "MS PRIYA SHAH" || kept == nil || kept.ValueHumanName == nil || kept.ValueHumanName.Family != "SHAH" {
				t.Errorf("a structured name: practitioner %+v, contained %d; want identifier, display and the name kept", pr, len(role.Contained))
			}
			owner := p.Find(release.ParamOwner).Resource.(*fhir.Organization)
			// The author's CMET (UKCT_MT120201UK03) has no healthCareProviderLicense.
			if owner.PartOf != nil {
				t.Errorf("owner.partOf = %+v, want none", owner.PartOf)
			}
		}},
		{"patient-release-response-070103.xml", nil, func(t *testing.T, body []byte) {
			p := decodeParams(t, body)
			passed := p.Find(release.ParamPassedPrescriptions).Resource.(*fhir.Bundle)
			if len(passed.Entry) != 1 {
				t.Fatalf("passed entries = %d, want 1", len(passed.Entry))
			}
			b := passed.Entry[0].Resource.(*fhir.Bundle)
			var statuses []string
			for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
				ds := fhir.FindExtension(fhir.FindExtension(mr.Extension, core.ExtensionDispensingInformation).Extension, "dispenseStatus")
				statuses = append(statuses, ds.ValueCoding.Code+"/"+mr.Status)
			}
			if got := strings.Join(statuses, " "); got != "0008/active 0007/active 0005/cancelled 0007/active" {
				t.Errorf("item statuses = %s", got)
			}
		}},
		{"release-rejection-110101-with-another-dispenser.xml", []string{"Extension-Porxgate-ReleaseRejection"}, func(t *testing.T, body []byte) {
			oo := decodeOutcomeT(t, body)
			if len(oo.Contained) != 1 || fhir.FindExtension(oo.Extension, core.ExtensionSpineSupportingInfo) == nil {
				t.Fatalf("want the holding organisation contained and referenced, got %s", body)
			}
			if cd := fhir.FindCoding(oo.Issue[0].Details, fhir.CodeSystemEPSIssueCode); cd == nil || cd.Code != "PRESCRIPTION_WITH_ANOTHER_DISPENSER" {
				t.Errorf("issue coding = %+v", oo.Issue[0].Details)
			}
		}},
		{"release-rejection-110101-expired.xml", []string{"Extension-Porxgate-ReleaseRejection"}, func(t *testing.T, body []byte) {
			oo := decodeOutcomeT(t, body)
			if oo.Issue[0].Diagnostics == "" || oo.Issue[0].Code != "business-rule" {
				t.Errorf("issue = %+v", oo.Issue[0])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			msg := maptest.Testdata(t, "release/"+tc.file)
			body, got := relRoundTrip(t, msg)
			if n := strings.Count(string(body), core.PorxgateExtensionBase); n != len(tc.carried) {
				t.Errorf("FHIR carries %d porxgate extensions, want %v: %s", n, tc.carried, body)
			}
			for _, name := range tc.carried {
				if !strings.Contains(string(body), core.PorxgateExtensionBase+name) {
					t.Errorf("FHIR lacks %s", name)
				}
			}
			tc.check(t, body)
			checkSignaturesKept(t, msg, got)
		})
	}
}

// checkSignaturesKept checks that every ParentPrescription of got carries
// the signature of the one of want at its place unchanged (SignedInfo,
// SignatureValue, certificate), signs the same fragments, and verifies as
// the original does.
func checkSignaturesKept(t *testing.T, want, got []byte) {
	t.Helper()
	wp, gp := prescriptionsOf(t, want), prescriptionsOf(t, got)
	if len(wp) != len(gp) {
		t.Fatalf("%d ParentPrescriptions, want %d", len(gp), len(wp))
	}
	for i := range wp {
		ws, werr := v3.ReadSignature(wp[i])
		gs, gerr := v3.ReadSignature(gp[i])
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("prescription %d: reading the signature: want %v, got %v", i, werr, gerr)
		}
		if werr == nil {
			if string(ws.SignedInfo) != string(gs.SignedInfo) || string(ws.Value) != string(gs.Value) || !ws.Certificate.Equal(gs.Certificate) {
				t.Errorf("prescription %d: SignedInfo, SignatureValue or certificate changed", i)
			}
		}
		if err := v3.CompareSignatureFragments(wp[i], gp[i]); err != nil {
			t.Errorf("prescription %d: %v", i, err)
		}
		if werr, gerr := v3.VerifySignature(wp[i]), v3.VerifySignature(gp[i]); (werr == nil) != (gerr == nil) {
			t.Errorf("prescription %d: verification was %v, is %v", i, werr, gerr)
		}
		if w, g := signatureTextRaw(t, want, i), signatureTextRaw(t, got, i); w != g {
			t.Errorf("prescription %d: signatureText bytes changed", i)
		}
	}
}

// prescriptionsOf returns the ParentPrescription elements of a message.
func prescriptionsOf(t *testing.T, msg []byte) []*etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	return doc.FindElements("//ParentPrescription")
}

// signatureTextRaw returns the bytes inside the i-th signatureText of msg.
func signatureTextRaw(t *testing.T, msg []byte, i int) string {
	t.Helper()
	s := string(msg)
	for ; i >= 0; i-- {
		j := strings.Index(s, "<signatureText")
		if j < 0 {
			t.Fatal("too few signatureText elements")
		}
		s = s[j+len("<signatureText"):]
	}
	open := strings.IndexByte(s, '>')
	if open > 0 && s[open-1] == '/' {
		return ""
	}
	end := strings.Index(s, "</signatureText>")
	return s[open+1 : end]
}

func decodeParams(t testing.TB, body []byte) *fhir.Parameters {
	t.Helper()
	r, err := fhir.DecodeResource(body)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := r.(*fhir.Parameters)
	if !ok {
		t.Fatalf("got %s, want Parameters", r.GetResourceType())
	}
	return p
}

func decodeOutcomeT(t *testing.T, body []byte) *fhir.OperationOutcome {
	t.Helper()
	r, err := fhir.DecodeResource(body)
	if err != nil {
		t.Fatal(err)
	}
	oo, ok := r.(*fhir.OperationOutcome)
	if !ok {
		t.Fatalf("got %s, want OperationOutcome", r.GetResourceType())
	}
	return oo
}

// TestReleaseRequestTranslatorTakesAnswers: the "Release" kind's ToV3 also
// writes a $release answer (porxgate convert picks it for any Parameters).
func TestReleaseRequestTranslatorTakesAnswers(t *testing.T) {
	msg := maptest.Testdata(t, "release/"+"patient-release-response-070103.xml")
	body, meta, err := release.ReleaseResponseToFHIR(msg, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	tr := mapping.NewRegistry().ByKind("Release")
	got, err := tr.ToV3(body, meta, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if d, err := conformance.Compare(msg, got, conformance.Rules{FHIRRequest: msg}); err != nil || d != nil {
		t.Fatalf("differs: %v %v", d, err)
	}
}

// TestReleaseCarried: what the FHIR form cannot say comes back all the same,
// carried verbatim, and the signatures with it.
func TestReleaseCarried(t *testing.T) {
	resp := string(maptest.Testdata(t, "release/"+"patient-release-response-070103.xml"))
	nominated := string(maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml"))
	rejection := string(maptest.Testdata(t, "release/"+"release-rejection-110101-with-another-dispenser.xml"))
	cut := func(s, from, to string) string {
		i := strings.Index(s, from)
		j := strings.Index(s[i:], to) + i + len(to)
		return s[:i] + s[j:]
	}
	tests := []struct {
		name, msg string
		want      string // text the FHIR must hold
	}{
		{"released prescription without exemptions", cut(resp, "<pertinentInformation9 ", "</pertinentInformation9>"), "Extension-Porxgate-ReleaseVerbatim"},
		{"released prescription with an odd typeId", strings.Replace(resp, `<typeId root="2.16.840.1.113883.2.1.3.2.4.18.7" extension="PORX_MT122003UK32"/>`,
			`<typeId root="2.16.840.1.113883.2.1.3.2.4.18.7" extension="PORX_MT122003UK30"/>`, 1), "Extension-Porxgate-ReleaseVerbatim"},
		{"batch counts before the prescriptions", strings.Replace(resp, `<effectiveTime value="20240612101500"/>
        <component`, `<effectiveTime value="20240612101500"/>
        <pertinentInformation typeCode="PERT" contextConductionInd="true"><seperatableInd value="false"/><pertinentBatchInfo moodCode="EVN" classCode="OBS"><code codeSystem="2.16.840.1.113883.2.1.3.2.4.17.14" code="1"/><value value="1"/></pertinentBatchInfo></pertinentInformation>
        <component`, 1), `"name":"shell"`},
		{"request time with an offset", strings.Replace(nominated, `<effectiveTime value="20240612101455"/>`, `<effectiveTime value="20240612111455+0100"/>`, 1), "ReleaseRequest"},
		{"request author's id under another root", strings.Replace(nominated, `<id root="1.2.826.0.1285.0.2.1.54" extension="7654321"/>`, `<id root="1.2.826.0.1285.0.2.0.65" extension="7654321"/>`, 1), `"valueCode":"AgentPerson"`},
		{"holding dispenser's person", strings.Replace(rejection, `<AgentPerson classCode="AGNT">
                <representedOrganization`, `<AgentPerson classCode="AGNT">
                <telecom use="WP" value="tel:01619998800"/>
                <representedOrganization`, 1), `"valueCode":"AgentPerson"`},
		{"rejection with a second text", strings.Replace(rejection, `<value code="0004"`, `<text>one</text><text>two</text><value code="0004"`, 1), `"valueCode":"PrescriptionReleaseReject"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, got := relRoundTrip(t, []byte(tc.msg))
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("FHIR lacks %s: %s", tc.want, body)
			}
			checkSignaturesKept(t, []byte(tc.msg), got)
		})
	}
}

// TestReleaseRequestCarryKeepsNamespaces: a release request whose author
// AgentPerson holds an attribute of a namespace declared on the message's
// root (an xsi:type naming an identifier's datatype, as Spine's schema
// validator takes it) is carried verbatim (its parts do not all map to
// FHIR), and the request written back from the FHIR alone still binds the
// prefix: before, the carried element lost the root's declaration, and the
// v3 written back held xsi:type with no namespace (an unbound prefix, not
// namespace-well-formed XML).
func TestReleaseRequestCarryKeepsNamespaces(t *testing.T) {
	const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"
	msg := string(maptest.Testdata(t, "release/nominated-release-request-060102.xml"))
	for _, r := range [][2]string{
		{`<PORX_IN060102UK30 xmlns="urn:hl7-org:v3">`, `<PORX_IN060102UK30 xmlns="urn:hl7-org:v3" xmlns:xsi="` + xsiNS + `">`},
		{`<id root="1.2.826.0.1285.0.2.0.67" extension="741555508105"/>
            <code code="R8003"`, `<id xsi:type="II" root="1.2.826.0.1285.0.2.0.67" extension="741555508105"/>
            <code code="R8003"`},
	} {
		if !strings.Contains(msg, r[0]) {
			t.Fatalf("fixture lacks %q", r[0])
		}
		msg = strings.Replace(msg, r[0], r[1], 1)
	}
	_, got := relRoundTrip(t, []byte(msg))
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	typed := 0
	for _, el := range doc.FindElements("//*") {
		for _, a := range el.Attr {
			if a.Space == "xsi" {
				typed++
				if ns := a.NamespaceURI(); ns != xsiNS {
					t.Errorf("%s/@%s: namespace %q, want %s (the prefix is unbound)", el.GetPath(), a.FullKey(), ns, xsiNS)
				}
			}
		}
	}
	if typed != 1 {
		t.Errorf("%d xsi attributes written back, want the 1 sent:\n%s", typed, got)
	}
}
