package release_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// The EPS API's release translation (translation/response: identifiers.ts,
// practitioner.ts, practitioner-role, common/response-bundles.ts) gives a
// prescription Spine releases a FHIR shape of its own, unlike what a
// prescriber's FHIR or porxgate's reading of the v3 give:
//   - a person's code gets the identifier system its shape picks (GMC "C"
//     and seven digits, GMP "G" and seven, NMC, HCPC, a DIN for six digits
//     starting 3, 8 or 9, else professional-code), the value as Spine has
//     it; an NHSBSA spurious code (six digits starting 6) goes on the
//     PractitionerRole and the Practitioner has no identifier;
//   - an author and a responsible party with the same role profile id are
//     one PractitionerRole, its Practitioner holding the author's code and
//     then the responsible party's (the role the spurious ones), and the
//     ResponsiblePractitioner extension references that role;
//   - the ParentPrescription's effectiveTime is the prescription Bundle's
//     meta.lastUpdated, and validityPeriod comes from daysSupply only.
// epsReleaseCodeShapes and epsReleaseShape model those rules, so that the
// release writer is tested on the FHIR the EPS API really hands porxgate.

// epsReleaseCodeShapes are the EPS API's shape rules, in its order.
var epsReleaseCodeShapes = []struct {
	system string
	re     *regexp.Regexp
}{
	{core.SystemSpuriousCode, regexp.MustCompile(`^6\d{5}$`)},
	{"https://fhir.hl7.org.uk/Id/nmc-number", regexp.MustCompile(`^\d{2}[A-Z]\d{4}[A-Z]$`)},
	{"https://fhir.hl7.org.uk/Id/gmp-number", regexp.MustCompile(`^G[01234589]\d{6}$`)},
	{"https://fhir.hl7.org.uk/Id/gmc-number", regexp.MustCompile(`^C\d{7}$`)},
	{"https://fhir.hl7.org.uk/Id/hcpc-number", regexp.MustCompile(`^[A-Z]{2}\d{6}$`)},
	{"https://fhir.hl7.org.uk/Id/din-number", regexp.MustCompile(`^[389]\d{5}$`)},
}

// epsReleaseSystem is the system the EPS API gives a person's code.
func epsReleaseSystem(code string) string {
	for _, s := range epsReleaseCodeShapes {
		if s.re.MatchString(code) {
			return s.system
		}
	}
	return "https://fhir.hl7.org.uk/Id/professional-code"
}

// jsonObj is a decoded JSON object.
type jsonObj = map[string]any

// epsReleaseShape rewrites porxgate's FHIR of a release response (one
// prescription) into the EPS API's shape for it: codes as given (by
// code), the roles merged when sharedRole, and lastUpdated on the
// prescription Bundle instead of validityPeriod.
func epsReleaseShape(t *testing.T, body []byte, authorCode, respCode string, sharedRole bool, lastUpdated string) []byte {
	t.Helper()
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	var b jsonObj
	for _, p := range params["parameter"].([]any) {
		if p.(jsonObj)["name"] == release.ParamPassedPrescriptions {
			b = p.(jsonObj)["resource"].(jsonObj)["entry"].([]any)[0].(jsonObj)["resource"].(jsonObj)
		}
	}
	if b == nil {
		t.Fatal("no passed prescription")
	}
	entries := b["entry"].([]any)
	byURL := map[string]jsonObj{}
	for _, e := range entries {
		byURL[e.(jsonObj)["fullUrl"].(string)] = e.(jsonObj)["resource"].(jsonObj)
	}
	var authorRole, respRole string
	for _, e := range entries {
		r := e.(jsonObj)["resource"].(jsonObj)
		if r["resourceType"] != "MedicationRequest" {
			continue
		}
		authorRole = r["requester"].(jsonObj)["reference"].(string)
		exts, _ := r["extension"].([]any)
		if !slices.ContainsFunc(exts, func(x any) bool { return x.(jsonObj)["url"] == core.ExtensionResponsiblePractitioner }) {
			// porxgate, too, makes one role of an author and a responsible
			// party with the same role profile id; the EPS API then still
			// names it responsible.
			exts = append(exts, jsonObj{"url": core.ExtensionResponsiblePractitioner, "valueReference": jsonObj{"reference": authorRole}})
			r["extension"] = exts
		}
		for _, x := range exts {
			if x.(jsonObj)["url"] == core.ExtensionResponsiblePractitioner {
				respRole = x.(jsonObj)["valueReference"].(jsonObj)["reference"].(string)
				if sharedRole {
					x.(jsonObj)["valueReference"] = jsonObj{"reference": authorRole}
				}
			}
		}
		if dr, ok := r["dispenseRequest"].(jsonObj); ok {
			delete(dr, "validityPeriod")
		}
	}
	if authorRole == "" || respRole == "" {
		t.Fatalf("requester %q, responsible practitioner %q", authorRole, respRole)
	}
	// code puts a person's code where the EPS API puts it.
	code := func(role jsonObj, value string) {
		prac := byURL[role["practitioner"].(jsonObj)["reference"].(string)]
		id := jsonObj{"system": epsReleaseSystem(value), "value": value}
		if id["system"] == core.SystemSpuriousCode {
			ids, _ := role["identifier"].([]any)
			role["identifier"] = append(ids, id)
			return
		}
		ids, _ := prac["identifier"].([]any)
		prac["identifier"] = append(ids, id)
	}
	clearCodes := func(role jsonObj) {
		prac := byURL[role["practitioner"].(jsonObj)["reference"].(string)]
		delete(prac, "identifier")
		var keep []any
		for _, id := range role["identifier"].([]any) {
			if id.(jsonObj)["system"] != core.SystemSpuriousCode {
				keep = append(keep, id)
			}
		}
		role["identifier"] = keep
	}
	ar, rr := byURL[authorRole], byURL[respRole]
	clearCodes(ar)
	if rr != nil && respRole != authorRole {
		clearCodes(rr)
	}
	code(ar, authorCode)
	if sharedRole {
		if respCode != authorCode {
			code(ar, respCode)
		}
		if respRole != authorRole {
			var keep []any
			for _, e := range entries {
				if url := e.(jsonObj)["fullUrl"].(string); url != respRole && url != rr["practitioner"].(jsonObj)["reference"].(string) {
					keep = append(keep, e)
				}
			}
			b["entry"] = keep
		}
	} else {
		code(rr, respCode)
	}
	b["meta"] = jsonObj{"lastUpdated": lastUpdated}
	out, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReleaseAnswerInEPSShape: a release answer in the EPS API's own shape
// (epsReleaseShape) is written back as the v3 Spine released: the
// author's and responsible party's codes where they were, GMC numbers
// with their C, and the ParentPrescription's effectiveTime. Before, a
// shared role with two codes, a DIN-shaped or spurious author code were
// refused ("expected exactly one professional code"; the dispenser got no
// prescription) and effectiveTime became the author's time.
func TestReleaseAnswerInEPSShape(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		author, resp     string
		sharedRole       bool
		wantAuth, wantRp string
	}{
		{"shared role, two codes", "G9999999", "70201123456", true, "G9999999", "70201123456"},
		{"shared role, one DIN-shaped code", "999999", "999999", true, "999999", "999999"},
		{"shared role, GMC and spurious code", "C1234567", "612345", true, "C1234567", "612345"},
		{"shared role, two spurious codes", "612345", "654321", true, "612345", "654321"},
		{"own roles, spurious author", "612345", "G8123456", false, "612345", "G8123456"},
		{"own roles, GMC with its C and a DIN", "C7654321", "812345", false, "C7654321", "812345"},
		{"own roles, NMC and HCPC", "12A3456B", "PH123456", false, "12A3456B", "PH123456"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			rx := doc.FindElement("//pertinentPrescription")
			author := rx.FindElement("author/AgentPerson")
			author.FindElement("agentPerson/id").CreateAttr("extension", tc.author)
			// The responsible party: the author's AgentPerson under its own
			// code, with the author's role profile id when shared.
			rp := rx.FindElement("responsibleParty")
			rp.RemoveChildAt(rp.FindElement("AgentPerson").Index())
			ap := author.Copy()
			ap.FindElement("agentPerson/id").CreateAttr("extension", tc.resp)
			if !tc.sharedRole {
				ap.FindElement("id").CreateAttr("extension", "300200100999")
			}
			rp.AddChild(ap)
			tr, env := release.ReleaseResponseTranslator(), relEnv()
			body, meta := releaseFHIROf(t, doc, env)
			if strings.Contains(string(body), core.PorxgateExtensionBase) {
				t.Fatalf("porxgate's FHIR of the fixture carries porxgate extensions: %s", body)
			}
			eps := epsReleaseShape(t, body, tc.author, tc.resp, tc.sharedRole, "2024-06-01T10:30:00+00:00")
			got, err := tr.ToV3(eps, meta, env)
			if err != nil {
				t.Fatalf("EPS-shaped release answer refused: %v\n%s", err, eps)
			}
			// and as the gateway answers a dispenser's release request
			req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
			answer, _, err := release.ReleaseAnswerFromEPS(req, epsShaped(t, eps), 200, release.ReleaseReplyEnds{}, env)
			if err != nil {
				t.Fatalf("EPS-shaped release answer to a release request refused: %v", err)
			}
			for _, got := range [][]byte{got, answer} {
				checkReleasedPeople(t, got, tc.wantAuth, tc.wantRp)
			}
		})
	}
}

// releaseFHIROf returns the FHIR (and meta) the release response
// translator reads from doc.
func releaseFHIROf(t *testing.T, doc *etree.Document, env core.Env) ([]byte, core.Meta) {
	t.Helper()
	msg, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	body, meta, err := release.ReleaseResponseTranslator().ToFHIR(msg, env)
	if err != nil {
		t.Fatal(err)
	}
	return body, meta
}

// releaseV3Of returns, parsed, the v3 the release response translator
// writes from a $release answer; what names the answer in a refusal.
func releaseV3Of(t *testing.T, what string, body []byte, meta core.Meta, env core.Env) *etree.Document {
	t.Helper()
	got, err := release.ReleaseResponseTranslator().ToV3(body, meta, env)
	if err != nil {
		t.Fatalf("%s refused: %v", what, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	return doc
}

// checkReleasedPeople checks the released prescription's author and
// responsible party codes, effectiveTime and author time.
func checkReleasedPeople(t *testing.T, got []byte, wantAuth, wantRp string) {
	t.Helper()
	out := etree.NewDocument()
	if err := out.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	pp := out.FindElement("//ParentPrescription")
	if pp == nil {
		t.Fatalf("no ParentPrescription in %s", got)
	}
	for _, c := range []struct{ what, path, attr, want string }{
		{"author code", "pertinentInformation1/pertinentPrescription/author/AgentPerson/agentPerson/id", "extension", wantAuth},
		{"responsible party code", "pertinentInformation1/pertinentPrescription/responsibleParty/AgentPerson/agentPerson/id", "extension", wantRp},
		{"effectiveTime", "effectiveTime", "value", "20240601103000"},
		{"author time", "pertinentInformation1/pertinentPrescription/author/time", "value", "20240601103107"},
	} {
		got := "(none)"
		if el := pp.FindElement(c.path); el != nil {
			got = el.SelectAttrValue(c.attr, "")
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.what, got, c.want)
		}
	}
}

// TestUnsignedReleaseAuthorTime: the EPS API's release translation keeps
// no author time of an unsigned prescription (no Provenance, no
// authoredOn); without a validity period its ParentPrescription
// effectiveTime, the Bundle's meta.lastUpdated, is that time, and it is
// written as the author's. Before, the author's time was the time of the
// release.
func TestUnsignedReleaseAuthorTime(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tr := release.ReleaseResponseTranslator()
	env := relEnv()
	body, meta, err := tr.ToFHIR(raw, env)
	if err != nil {
		t.Fatal(err)
	}
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	b := params["parameter"].([]any)[0].(jsonObj)["resource"].(jsonObj)["entry"].([]any)[0].(jsonObj)["resource"].(jsonObj)
	var keep []any
	for _, e := range b["entry"].([]any) {
		r := e.(jsonObj)["resource"].(jsonObj)
		switch r["resourceType"] {
		case "Provenance":
			continue
		case "MedicationRequest":
			delete(r, "authoredOn")
			if dr, ok := r["dispenseRequest"].(jsonObj); ok {
				delete(dr, "validityPeriod")
			}
		}
		keep = append(keep, e)
	}
	b["entry"] = keep
	b["meta"] = jsonObj{"lastUpdated": "2024-06-01T10:31:07+00:00"}
	eps, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	doc := releaseV3Of(t, "unsigned release answer", eps, meta, env)
	if el := doc.FindElement("//pertinentPrescription/author/time"); el == nil || el.SelectAttrValue("value", "") != "20240601103107" {
		t.Errorf("author time %v, want 20240601103107 (meta.lastUpdated)", el)
	}
}
