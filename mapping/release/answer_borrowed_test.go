package release_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// outcomeText renders a ReleaseOutcome with what its pointers and errors
// hold, for comparing two.
func outcomeText(o release.ReleaseOutcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %+v released %d withheld %d ods %q unmapped %q", o.Interaction, o.Request, o.Released, o.Withheld, o.DispenserODS, o.Unmapped)
	if o.Rejection != nil {
		fmt.Fprintf(&b, " rejection %+v", *o.Rejection)
	}
	for _, u := range o.Unwritten {
		fmt.Fprintf(&b, " unwritten %q: %v", u.ShortFormID, u.Err)
	}
	return b.String()
}

// TestReleaseAnswerKeepsNothingOfItsInput checks that ReleaseAnswerFromEPS,
// which decodes EPS's answer in place (fhir.DecodeResourceBorrowed),
// returns nothing that refers to it: each answer (a release with 20
// prescriptions, ones with prescriptions that do not decode or cannot be
// written, the corpus's $release answers and refusals, each also cut
// short) is translated from a buffer that is then overwritten, as a
// server reuses a response's buffer, and the v3, the outcome (the
// rejection, the dispenser's ODS code, unmapped codes, the prescriptions
// left out and why) and the error text must stay as they were.
func TestReleaseAnswerKeepsNothingOfItsInput(t *testing.T) {
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	type answer struct {
		name   string
		body   []byte
		status int
	}
	full := scaledReleaseAnswer(t, 20)
	undecodable, _ := mutateReleased(t, full, 3, "MedicationRequest", func(r jsonObj) { r["status"] = 5 })
	unwritable, _ := mutateReleased(t, full, 7, "MedicationRequest", func(r jsonObj) { delete(r, "dosageInstruction") })
	both, _ := mutateReleased(t, unwritable, 11, "MedicationRequest", func(r jsonObj) { r["status"] = 5 })
	answers := []answer{{"20 prescriptions", full, 200}, {"one undecodable", undecodable, 200},
		{"one unwritable", unwritable, 200}, {"both", both, 200}}
	for i, body := range corpustest.Files(t, func(rel string) bool {
		return strings.HasSuffix(rel, ".json") && (strings.Contains(rel, "release/") || strings.Contains(rel, "Release-Response")) && !strings.Contains(rel, "-req")
	}) {
		status := 200
		if bytes.Contains(body, []byte(`"OperationOutcome"`)) && !bytes.Contains(body, []byte(`"Parameters"`)) {
			status = 400
		}
		answers = append(answers, answer{fmt.Sprintf("corpus %d", i), body, status})
	}
	for _, a := range answers[:len(answers):len(answers)] {
		answers = append(answers, answer{a.name + ", cut short", a.body[:len(a.body)*2/3], a.status})
	}
	seen := map[string]int{}
	for _, a := range answers {
		in := bytes.Clone(a.body)
		got, out, err := release.ReleaseAnswerFromEPS(req, in, a.status, release.ReleaseReplyEnds{}, relEnv())
		wantOut, wantOutcome, wantErr := bytes.Clone(got), outcomeText(out), fmt.Sprint(err)
		switch {
		case err != nil:
			seen["refused"]++
		case out.Rejection != nil:
			seen["rejection"]++
		case len(out.Unwritten) > 0:
			seen["some left out"]++
		default:
			seen["released"]++
		}
		for i := range in {
			in[i] = '#'
		}
		if !bytes.Equal(got, wantOut) {
			t.Errorf("%s: the v3 changed when the input buffer was overwritten", a.name)
		}
		if o := outcomeText(out); o != wantOutcome {
			t.Errorf("%s: the outcome changed when the input buffer was overwritten:\n%s\nwas\n%s", a.name, o, wantOutcome)
		}
		if e := fmt.Sprint(err); e != wantErr {
			t.Errorf("%s: the error changed when the input buffer was overwritten: %s, was %s", a.name, e, wantErr)
		}
	}
	for _, k := range []string{"refused", "released", "some left out"} {
		if seen[k] == 0 {
			t.Errorf("no answer %s (%v): the check needs each", k, seen)
		}
	}
	if corpustest.Present() && seen["rejection"] == 0 {
		t.Errorf("no rejection among the corpus's answers (%v)", seen)
	}
}
