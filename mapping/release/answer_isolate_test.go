package release_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// splitDosageText makes the first dosage text of the released prescription
// at index rx of an EPS-shaped $release answer a JSON array of its pieces,
// cut at the given offsets: what the EPS API answers when Spine's
// <value> holds a comment (its xml-js reading of mixed content gives
// "_text": ["take one ", " daily"]). It returns the answer and the text.
func splitDosageText(t *testing.T, body []byte, rx int, cuts ...int) ([]byte, string) {
	t.Helper()
	var text string
	out, _ := mutateReleased(t, body, rx, func(mr jsonObj) {
		d := mr["dosageInstruction"].([]any)[0].(jsonObj)
		text = d["text"].(string)
		var pieces []any
		from := 0
		for _, c := range cuts {
			pieces = append(pieces, text[from:c])
			from = c
		}
		d["text"] = append(pieces, text[from:])
	})
	return out, text
}

// TestReleaseAnswerDosageTextPieces: a dosage instruction whose v3 value
// holds a comment reaches the FHIR of EPS's release answer as an array of
// the text's pieces. Spine would have released the text whole (a comment
// is no part of the text nor of the signed fragments), so the pieces are
// joined and the prescription is released as Spine would release it, its
// signature valid. Before, the decoding of the whole answer failed (a JSON
// array is no string) and none of the 20 prescriptions reached the
// dispenser.
func TestReleaseAnswerDosageTextPieces(t *testing.T) {
	orig := relCorpus(t, "release-responses/full_successful_release.xml")
	body, _, err := release.ReleaseResponseToFHIR(orig, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	tests := []struct {
		name string
		rx   int
		cuts []int
	}{
		{"one comment", 3, []int{5}},
		{"two comments", 7, []int{2, 6}},
		{"comment near the end", 0, []int{9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eps, text := splitDosageText(t, epsShaped(t, body), tc.rx, tc.cuts...)
			got, out, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, relEnv())
			if err != nil {
				t.Fatalf("release answer refused: %v", err)
			}
			if out.Interaction != v3.NominatedReleaseResponse || out.Released != 20 {
				t.Fatalf("outcome = %+v", out)
			}
			checkSignaturesKept(t, orig, got)
			pp := prescriptionsOf(t, got)[tc.rx]
			if di := pp.FindElement(".//pertinentDosageInstructions/value"); di == nil || di.Text() != text {
				t.Errorf("dosage text %v, want %q", di, text)
			}
		})
	}
}

// mutateReleased applies f to the first MedicationRequest of the released
// prescription at index rx of a $release answer and returns the answer
// and that prescription's short-form id.
func mutateReleased(t *testing.T, body []byte, rx int, f func(mr jsonObj)) ([]byte, string) {
	t.Helper()
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	for _, p := range params["parameter"].([]any) {
		if p.(jsonObj)["name"] != release.ParamPassedPrescriptions {
			continue
		}
		outer := p.(jsonObj)["resource"].(jsonObj)["entry"].([]any)[rx]
		for _, e := range outer.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
			r := e.(jsonObj)["resource"].(jsonObj)
			if r["resourceType"] != "MedicationRequest" {
				continue
			}
			sf := r["groupIdentifier"].(jsonObj)["value"].(string)
			f(r)
			out, err := json.Marshal(params)
			if err != nil {
				t.Fatal(err)
			}
			return out, sf
		}
	}
	t.Fatalf("no released prescription %d", rx)
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
				eps, sfs[rx] = mutateReleased(t, eps, rx, f)
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
