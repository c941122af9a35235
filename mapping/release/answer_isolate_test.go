package release_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// pieces cuts s at the given offsets: what the EPS API gives for the text
// of a v3 element that holds a comment there (its xml-js reading of mixed
// content: "_text": ["4 times a ", "day - Oral"]).
func pieces(s string, cuts ...int) []any {
	var out []any
	from := 0
	for _, c := range cuts {
		out = append(out, s[from:c])
		from = c
	}
	return append(out, s[from:])
}

// TestReleaseAnswerTextPieces: where a released prescription's v3 holds a
// comment inside an element's text, EPS's release answer gives that text
// in pieces (a JSON array). Spine would have released the text whole (a
// comment is no part of the text nor of the signed fragments), so the
// pieces are joined and every prescription is released as Spine released
// it, signatures valid. Before, the decoding of the whole answer failed (a
// JSON array is no string) and none of the 20 prescriptions reached the
// dispenser.
func TestReleaseAnswerTextPieces(t *testing.T) {
	orig := relCorpus(t, "release-responses/full_successful_release.xml")
	body, _, err := release.ReleaseResponseToFHIR(orig, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	tests := []struct {
		name     string
		rx       int
		resource string
		split    func(r jsonObj)
	}{
		{"dosage text", 3, "MedicationRequest", func(r jsonObj) {
			d := r["dosageInstruction"].([]any)[0].(jsonObj)
			d["text"] = pieces(d["text"].(string), 5)
		}},
		{"dosage text, two comments", 7, "MedicationRequest", func(r jsonObj) {
			d := r["dosageInstruction"].([]any)[0].(jsonObj)
			d["text"] = pieces(d["text"].(string), 2, 6)
		}},
		{"family name", 0, "Patient", func(r jsonObj) {
			n := r["name"].([]any)[0].(jsonObj)
			n["family"] = pieces(n["family"].(string), 3)
		}},
		{"a given name", 1, "Patient", func(r jsonObj) {
			g := r["name"].([]any)[0].(jsonObj)["given"].([]any)
			g[0] = pieces(g[0].(string), 2)
		}},
		{"an address line and the postcode", 2, "Patient", func(r jsonObj) {
			a := r["address"].([]any)[0].(jsonObj)
			a["line"].([]any)[0] = pieces(a["line"].([]any)[0].(string), 4)
			a["postalCode"] = pieces(a["postalCode"].(string), 2)
		}},
		{"organisation name", 5, "Organization", func(r jsonObj) {
			r["name"] = pieces(r["name"].(string), 6)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eps, _ := mutateReleased(t, epsShaped(t, body), tc.rx, tc.resource, tc.split)
			got, out, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, relEnv())
			if err != nil {
				t.Fatalf("release answer refused: %v", err)
			}
			if out.Interaction != v3.NominatedReleaseResponse || out.Released != 20 || len(out.Unwritten) != 0 {
				t.Fatalf("outcome = %+v", out)
			}
			checkSignaturesKept(t, orig, got)
			want, gotPP := prescriptionsOf(t, orig)[tc.rx], prescriptionsOf(t, got)[tc.rx]
			d, err := conformance.Compare(elementDoc(want), elementDoc(gotPP), conformance.Rules{FHIRRequest: orig})
			if err != nil {
				t.Fatal(err)
			}
			if d != nil {
				t.Errorf("prescription %d is not Spine's: %s", tc.rx, d)
			}
		})
	}
}

// mutateReleased applies f to the first resource of type resource of the
// released prescription at index rx of a $release answer and returns the
// answer and that prescription's short-form id.
func mutateReleased(t *testing.T, body []byte, rx int, resource string, f func(r jsonObj)) ([]byte, string) {
	t.Helper()
	var params jsonObj
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		t.Fatal(err)
	}
	for _, p := range params["parameter"].([]any) {
		if p.(jsonObj)["name"] != release.ParamPassedPrescriptions {
			continue
		}
		outer := p.(jsonObj)["resource"].(jsonObj)["entry"].([]any)[rx]
		var sf string
		var target jsonObj
		for _, e := range outer.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
			r := e.(jsonObj)["resource"].(jsonObj)
			if gi, ok := r["groupIdentifier"].(jsonObj); ok && sf == "" {
				sf, _ = gi["value"].(string)
			}
			if r["resourceType"] == resource && target == nil {
				target = r
			}
		}
		if target == nil {
			break
		}
		f(target)
		out, err := json.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		return out, sf
	}
	t.Fatalf("no %s in released prescription %d", resource, rx)
	return nil, ""
}

// TestReleaseAnswerIsolatesUnwritable: a prescription of EPS's release
// answer that porxgate cannot write as v3 (one it cannot decode, one the
// prescribing mapper refuses) is left out of the release response and
// named, with its short-form id and the reason, in the outcome; the others
// reach the dispenser, their signatures valid, the batch count theirs.
// Before, one such prescription failed the whole answer: none of the 20
// reached the dispenser.
func TestReleaseAnswerIsolatesUnwritable(t *testing.T) {
	orig := relCorpus(t, "release-responses/full_successful_release.xml")
	body, _, err := release.ReleaseResponseToFHIR(orig, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	undecodable := func(mr jsonObj) { mr["status"] = 5 }
	unwritable := func(mr jsonObj) { delete(mr, "dosageInstruction") }
	tests := []struct {
		name    string
		breaks  map[int]func(jsonObj)
		want    []int // prescriptions left out, in the answer's order
		wantErr string
	}{
		{"one undecodable", map[int]func(jsonObj){4: undecodable}, []int{4}, ""},
		{"one unwritable", map[int]func(jsonObj){9: unwritable}, []int{9}, ""},
		{"both", map[int]func(jsonObj){2: unwritable, 17: undecodable}, []int{17, 2}, ""},
		{"every one", func() map[int]func(jsonObj) {
			m := map[int]func(jsonObj){}
			for i := range 20 {
				m[i] = unwritable
			}
			return m
		}(), nil, "dosageInstruction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eps := epsShaped(t, body)
			sfs := map[int]string{}
			for rx, f := range tc.breaks {
				eps, sfs[rx] = mutateReleased(t, eps, rx, "MedicationRequest", f)
			}
			got, out, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, relEnv())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("release answer refused: %v", err)
			}
			if out.Interaction != v3.NominatedReleaseResponse || out.Released != 20-len(tc.want) || len(out.Unwritten) != len(tc.want) {
				t.Fatalf("outcome = %+v", out)
			}
			for i, rx := range tc.want {
				u := out.Unwritten[i]
				if u.ShortFormID != sfs[rx] || u.Err == nil || !strings.Contains(u.Err.Error(), fmt.Sprintf("entry[%d]", rx)) {
					t.Errorf("unwritten %d = %q %v, want %s naming entry[%d]", i, u.ShortFormID, u.Err, sfs[rx], rx)
				}
			}
			// Spine's release with the unwritten ones taken out
			want := etree.NewDocument()
			if err := want.ReadFromBytes(orig); err != nil {
				t.Fatal(err)
			}
			prr := want.FindElement("//PrescriptionReleaseResponse")
			comps := prr.SelectElements("component")
			for rx := range tc.breaks {
				prr.RemoveChild(comps[rx])
			}
			wantMsg, err := want.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			checkSignaturesKept(t, wantMsg, got)
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(got); err != nil {
				t.Fatal(err)
			}
			if n := attrAt(doc.Root(), "ControlActEvent/subject/PrescriptionReleaseResponse/pertinentInformation[1]/pertinentBatchInfo/value/@value"); n != fmt.Sprint(20-len(tc.want)) {
				t.Errorf("batch count %s, want %d", n, 20-len(tc.want))
			}
		})
	}
}

// TestReleaseAnswerUndecodableWithheld: a prescription EPS withheld
// (failedPrescriptions: its signature failed EPS's check and EPS returned
// it to Spine) is only counted, never written; one that does not decode
// must not keep the passed ones from the dispenser. Before, it failed the
// whole answer: none of the 19 passed prescriptions reached the dispenser.
func TestReleaseAnswerUndecodableWithheld(t *testing.T) {
	orig := relCorpus(t, "release-responses/full_successful_release.xml")
	body, _, err := release.ReleaseResponseToFHIR(orig, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	// prescription 0 withheld, as EPS answers it: an OperationOutcome and
	// the Bundle in failedPrescriptions; its Bundle does not decode
	eps, _ := mutateReleased(t, epsShaped(t, body), 0, "MedicationRequest", func(r jsonObj) { r["status"] = 5 })
	var params jsonObj
	dec := json.NewDecoder(bytes.NewReader(eps))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		t.Fatal(err)
	}
	var passed, failed jsonObj
	for _, p := range params["parameter"].([]any) {
		switch p.(jsonObj)["name"] {
		case release.ParamPassedPrescriptions:
			passed = p.(jsonObj)["resource"].(jsonObj)
		case release.ParamFailedPrescriptions:
			failed = p.(jsonObj)["resource"].(jsonObj)
		}
	}
	if passed == nil || failed == nil {
		t.Fatal("no passedPrescriptions or failedPrescriptions")
	}
	entries := passed["entry"].([]any)
	oo := jsonObj{"resource": jsonObj{"resourceType": "OperationOutcome", "issue": []any{jsonObj{"severity": "error", "code": "invalid",
		"details": jsonObj{"coding": []any{jsonObj{"system": "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode", "code": "INVALID_VALUE", "display": "Signature is invalid."}}}}}}}
	failed["entry"] = []any{oo, entries[0]}
	passed["entry"] = entries[1:]
	if eps, err = json.Marshal(params); err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	got, out, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, relEnv())
	if err != nil {
		t.Fatalf("release answer refused: %v", err)
	}
	if out.Interaction != v3.NominatedReleaseResponse || out.Released != 19 || out.Withheld != 1 || len(out.Unwritten) != 0 {
		t.Fatalf("outcome = %+v", out)
	}
	spine := etree.NewDocument()
	if err := spine.ReadFromBytes(orig); err != nil {
		t.Fatal(err)
	}
	prr := spine.FindElement("//PrescriptionReleaseResponse")
	prr.RemoveChild(prr.SelectElements("component")[0])
	wantMsg, err := spine.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	checkSignaturesKept(t, wantMsg, got)
}
