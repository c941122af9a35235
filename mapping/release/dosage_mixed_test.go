package release_test

import (
	"encoding/json"
	"testing"

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
			d := r["dosageInstruction"].([]any)[0].(jsonObj)
			text := d["text"].(string)
			var pieces []any
			from := 0
			for _, c := range cuts {
				pieces = append(pieces, text[from:c])
				from = c
			}
			d["text"] = append(pieces, text[from:])
			out, err := json.Marshal(params)
			if err != nil {
				t.Fatal(err)
			}
			return out, text
		}
	}
	t.Fatalf("no released prescription %d", rx)
	return nil, ""
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
