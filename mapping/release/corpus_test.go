package release_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// relCorpus reads a corpus file.
func relCorpus(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpustest.Dir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var relCorpusResponses = []string{
	"full_successful_release.xml", "release_invalid.xml", "release_success.xml",
	"repeat_dispensing_release_success.xml", "repeat_prescribing_release_success.xml",
}

// TestReleaseCorpusResponses: every release response of the corpus comes
// back unchanged through FHIR, every signature byte for byte, and the FHIR
// says it all in EPS's own terms (no porxgate extension).
func TestReleaseCorpusResponses(t *testing.T) {
	for _, name := range relCorpusResponses {
		t.Run(name, func(t *testing.T) {
			msg := relCorpus(t, filepath.Join("release-responses", name))
			body, got := relRoundTrip(t, msg)
			if strings.Contains(string(body), core.PorxgateExtensionBase) {
				t.Errorf("FHIR carries porxgate extensions")
			}
			checkSignaturesKept(t, msg, got)
		})
	}
}

// epsShaped turns the FHIR of a v3 release response into what the EPS API
// answers: no porxgate parameter, no statuses, no MessageHeader.response.
func epsShaped(t testing.TB, body []byte) []byte {
	t.Helper()
	p := decodeParams(t, body)
	keep := p.Parameter[:0]
	for _, prm := range p.Parameter {
		if prm.Name != release.ParamReleaseResponse {
			keep = append(keep, prm)
		}
	}
	p.Parameter = keep
	for _, e := range p.Find(release.ParamPassedPrescriptions).Resource.(*fhir.Bundle).Entry {
		b := e.Resource.(*fhir.Bundle)
		for _, mh := range fhir.EntriesOf[*fhir.MessageHeader](b) {
			mh.Response = nil
		}
		for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
			exts := mr.Extension[:0]
			for _, x := range mr.Extension {
				if x.URL != core.ExtensionTaskBusinessStatus && x.URL != core.ExtensionDispensingInformation {
					exts = append(exts, x)
				}
			}
			mr.Extension, mr.Status = exts, "active"
		}
	}
	out, err := fhir.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReleaseAnswerFullRelease: the 20 prescriptions of the corpus's full
// release, as EPS would answer a nominated release with them, become a
// release response whose ParentPrescriptions are Spine's exactly (what
// Spine adds on release derived as Spine does) and whose signatures verify.
func TestReleaseAnswerFullRelease(t *testing.T) {
	orig := relCorpus(t, "release-responses/full_successful_release.xml")
	body, _, err := release.ReleaseResponseToFHIR(orig, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml")
	got, out, err := release.ReleaseAnswerFromEPS(req, epsShaped(t, body), 200, release.ReleaseReplyEnds{}, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if out.Interaction != v3.NominatedReleaseResponse || out.Released != 20 || out.Rejection != nil {
		t.Fatalf("outcome = %+v", out)
	}
	checkSignaturesKept(t, orig, got)
	want, gotPPs := prescriptionsOf(t, orig), prescriptionsOf(t, got)
	for i := range want {
		d, err := conformance.Compare(elementDoc(want[i]), elementDoc(gotPPs[i]), conformance.Rules{FHIRRequest: orig})
		if err != nil {
			t.Fatal(err)
		}
		if d != nil {
			t.Errorf("prescription %d: %s", i, d)
		}
		if err := v3.VerifySignature(gotPPs[i]); err != nil {
			t.Errorf("prescription %d: %v", i, err)
		}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	for path, wantValue := range map[string]string{
		"acknowledgement/messageRef/id/@root": "B7A1E6C2-54D0-4F8B-9C3A-2E1D0F9A8B71",
		"ControlActEvent/subject/PrescriptionReleaseResponse/inFulfillmentOf/priorDownloadRequestRef/id/@root":        "5D2E8F41-6A3B-4C9D-8E7F-1A2B3C4D5E6F",
		"communicationFunctionRcv/device/id/@extension":                                                               "230811201324",
		"ControlActEvent/subject/PrescriptionReleaseResponse/pertinentInformation[1]/pertinentBatchInfo/value/@value": "20",
		"ControlActEvent/subject/PrescriptionReleaseResponse/pertinentInformation[2]/pertinentBatchInfo/value/@value": "25",
	} {
		if got := attrAt(doc.Root(), path); got != wantValue {
			t.Errorf("%s = %q, want %q", path, got, wantValue)
		}
	}
}

// elementDoc serialises an element as a document.
func elementDoc(el *etree.Element) []byte {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, _ := doc.WriteToBytes()
	return b
}

// attrAt returns the attribute at an element path ending in /@name.
func attrAt(root *etree.Element, path string) string {
	i := strings.LastIndex(path, "/@")
	el := root.FindElement(path[:i])
	if el == nil {
		return ""
	}
	return el.SelectAttrValue(path[i+2:], "")
}

// TestReleaseAnswerSpec: the EPS API's own $release answers and refusals
// become the v3 answers a dispenser expects.
func TestReleaseAnswerSpec(t *testing.T) {
	patientReq := relCorpus(t, "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Convert-Response-Release-200_OK.xml")
	nominatedReq := maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml")
	tests := []struct {
		name, req, body string
		status          int
		interaction     string
		check           func(t *testing.T, doc *etree.Document, out release.ReleaseOutcome)
	}{
		{"acute answer", "patient", "examples/spec/dispensing/release/acute-primary-example-res.json", 200, "PORX_IN070103SM31",
			func(t *testing.T, doc *etree.Document, out release.ReleaseOutcome) {
				if out.Released != 1 || out.Withheld != 1 {
					t.Errorf("released %d withheld %d, want 1 and 1", out.Released, out.Withheld)
				}
				var codes []string
				for _, v := range doc.FindElements("//pertinentItemStatus/value") {
					codes = append(codes, v.SelectAttrValue("code", ""))
				}
				if got := strings.Join(codes, " "); got != "0008 0008 0008 0005" {
					t.Errorf("item statuses %s, want 0008 0008 0008 0005 (EPS's dispenseStatus)", got)
				}
				if ps := doc.FindElement("//pertinentPrescriptionStatus/value"); ps == nil || ps.SelectAttrValue("code", "") != "0001" {
					t.Errorf("prescription status missing or not 0001")
				}
				if n := len(doc.FindElements("//pertinentBatchInfo")); n != 0 {
					t.Errorf("a patient release response has no batch counts, got %d", n)
				}
			}},
		{"eRD answer", "nominated", "examples/spec/dispensing/release/eRD-primary-example-res.json", 200, "PORX_IN070101UK31", nil},
		{"sandbox answer, nominated", "nominated", "examples/sandbox/Release-Response-200_OK.json", 200, "", nil},
		{"with another dispenser", "patient", "examples/spec/errors/release/with-another-dispenser-error.json", 400, "PORX_IN110101SM30",
			func(t *testing.T, doc *etree.Document, out release.ReleaseOutcome) {
				if out.Rejection == nil || out.Rejection.Code != "0004" || out.DispenserODS != "VNFKT" {
					t.Fatalf("outcome %+v", out)
				}
				org := doc.FindElement("//pertinentRejectionReason/performer/AgentPerson/representedOrganization")
				if org == nil || attrAt(org, "id/@extension") != "VNFKT" || org.FindElement("name").Text() != "The Simple Pharmacy" ||
					len(org.FindElements("addr/streetAddressLine")) != 4 {
					t.Errorf("performer organisation not written from the contained Organization")
				}
			}},
		{"not found", "patient", "examples/spec/errors/release/not-found-error.json", 404, "PORX_IN110101SM30",
			func(t *testing.T, doc *etree.Document, out release.ReleaseOutcome) {
				if out.Rejection == nil || out.Rejection.Code != "0003" {
					t.Fatalf("outcome %+v", out)
				}
				if attrAt(doc.Root(), "ControlActEvent/subject/PrescriptionReleaseReject/reversalOf/priorPrescriptionReleaseRequestRef/id/@root") != "CCCBCC52-481B-4F5F-9E69-5125CF46166F" {
					t.Error("the rejection does not refer to the request")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := patientReq
			if tc.req == "nominated" {
				req = nominatedReq
			}
			got, out, err := release.ReleaseAnswerFromEPS(req, relCorpus(t, tc.body), tc.status, release.ReleaseReplyEnds{}, relEnv())
			if tc.interaction == "" {
				// The prescribing mapper cannot (yet) write this bundle: the
				// error must then name the place in the answer.
				if err != nil && !strings.Contains(err.Error(), "Parameters.parameter[0].resource.entry[0].resource.entry[") {
					t.Fatalf("error %q does not name the prescription's element", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Interaction != tc.interaction {
				t.Errorf("interaction %s, want %s", out.Interaction, tc.interaction)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(got); err != nil {
				t.Fatal(err)
			}
			if root := doc.Root(); root.Tag != tc.interaction {
				t.Errorf("root %s, want %s", root.Tag, tc.interaction)
			}
			if tc.check != nil {
				tc.check(t, doc, out)
			}
			// The answer reads back.
			if _, _, err := mapping.NewRegistry().ByInteraction(tc.interaction).ToFHIR(got, relEnv()); err != nil {
				t.Errorf("the answer does not read back: %v", err)
			}
		})
	}
}

// TestReleaseAnswerNothingReleased: Spine refuses a download that finds
// nothing with 0006; a patient release whose prescription EPS withheld gets
// 5000 saying why.
func TestReleaseAnswerNothingReleased(t *testing.T) {
	empty := []byte(`{"resourceType":"Parameters","parameter":[
		{"name":"passedPrescriptions","resource":{"resourceType":"Bundle","type":"searchset","total":0}},
		{"name":"failedPrescriptions","resource":{"resourceType":"Bundle","type":"searchset","total":0}}]}`)
	got, out, err := release.ReleaseAnswerFromEPS(maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml"), empty, 200, release.ReleaseReplyEnds{}, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if out.Interaction != v3.ReleaseRejection || out.Rejection == nil || out.Rejection.Code != "0006" {
		t.Fatalf("outcome %+v", out)
	}
	if !bytes.Contains(got, []byte(`displayName="No more prescriptions available"`)) {
		t.Errorf("want the 0006 displayName in %s", got)
	}
	patient := relCorpus(t, "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Convert-Response-Release-200_OK.xml")
	_, out, err = release.ReleaseAnswerFromEPS(patient, empty, 200, release.ReleaseReplyEnds{}, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if out.Rejection == nil || out.Rejection.Code != "5000" {
		t.Fatalf("outcome %+v", out)
	}
}
