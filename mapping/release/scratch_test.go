package release_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// relTranslation is what ReleaseResponseToFHIR returned for one message.
type relTranslation struct {
	out  []byte
	meta core.Meta
	err  error
}

// relTranslate runs ReleaseResponseToFHIR with the fixed Env and the given
// Scratch (nil: fresh memory).
func relTranslate(msg []byte, sc *v3.Scratch) relTranslation {
	env := relEnv()
	env.Scratch = sc
	out, meta, err := release.ReleaseResponseToFHIR(msg, env)
	return relTranslation{out, meta, err}
}

// String renders the translation: the FHIR, the wrapper values (as JSON,
// pointers followed) and the error.
func (r relTranslation) String() string {
	m, err := json.Marshal(r.meta)
	if err != nil {
		m = []byte(err.Error())
	}
	return fmt.Sprintf("%s\nmeta: %s\nerror: %v", r.out, m, r.err)
}

// relScratchMessages are release responses that take each way through
// ReleaseResponseToFHIR: the project's own, scaled to several
// prescriptions; one whose prescription is carried verbatim (an unknown
// typeId); one whose response is kept as a shell (an attribute Spine does
// not write); refusals, at the response and inside a prescription; and the
// corpus's when it is present.
func relScratchMessages(t *testing.T) [][]byte {
	t.Helper()
	own := maptest.Testdata(t, "release/"+"patient-release-response-070103.xml")
	swap := func(old, repl string) []byte {
		t.Helper()
		if !bytes.Contains(own, []byte(old)) {
			t.Fatalf("no %q in the release response", old)
		}
		return bytes.Replace(own, []byte(old), []byte(repl), 1)
	}
	msgs := [][]byte{
		own,
		scaledReleaseResponse(t, 3),
		swap(`<typeId root="2.16.840.1.113883.2.1.3.2.4.18.7" extension="PORX_MT122003UK32"/>`,
			`<typeId root="2.16.840.1.113883.2.1.3.2.4.18.7" extension="PORX_MT122003UK99"/>`),
		swap(`type="ControlAct">`, `type="ControlAct" xml:lang="en">`),
		swap(`<effectiveTime value="20240612101500"/>`, `<effectiveTime value="2024061210150"/>`),
		swap(`<pertinentPrescription `, `<pertinentPrescriptionX `),
	}
	if corpustest.Present() {
		for _, name := range relCorpusResponses {
			msgs = append(msgs, relCorpus(t, filepath.Join("release-responses", name)))
		}
	}
	return msgs
}

// TestReleaseResponseReusesNothingReturned translates release responses
// with a reused Scratch and in fresh memory (maptest.SameWithScratch), so
// that each is read and written back in the memory of the ones before.
func TestReleaseResponseReusesNothingReturned(t *testing.T) {
	msgs := relScratchMessages(t)
	fresh := maptest.SameWithScratch(t, func(sc *v3.Scratch) []string {
		// Every message is translated before any result is looked at:
		// a result that refers to a Space changes with the messages
		// after it.
		done := make([]relTranslation, len(msgs))
		for i, m := range msgs {
			done[i] = relTranslate(m, sc)
		}
		got := make([]string, len(msgs))
		for i, d := range done {
			got[i] = d.String()
		}
		return got
	})
	refused, carried := 0, 0
	for _, f := range fresh {
		if !strings.HasSuffix(f, "error: <nil>") {
			refused++
		}
		if strings.Contains(f, release.ExtensionReleaseVerbatim) {
			carried++
		}
	}
	if refused < 2 || carried == 0 {
		t.Fatalf("%d messages refused, %d carried verbatim: the messages no longer take every way", refused, carried)
	}
}

// TestReleaseResponseScratchConcurrent translates with one Scratch from
// several goroutines (run with -race).
func TestReleaseResponseScratchConcurrent(t *testing.T) {
	msgs := relScratchMessages(t)
	want := make([]string, len(msgs))
	for i, m := range msgs {
		want[i] = relTranslate(m, nil).String()
	}
	maptest.SameConcurrently(t, want, func(i int, sc *v3.Scratch) string { return relTranslate(msgs[i], sc).String() })
}

// relAnswers runs each $release answer through ReleaseAnswerFromEPS (the
// gateway's way) and ReleaseResponseToV3, with the given Scratch (nil:
// fresh memory), and renders what each returned.
func relAnswers(t *testing.T, answers [][]byte, sc *v3.Scratch) []string {
	t.Helper()
	req := maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml")
	// Every answer is written before any result is rendered: a result
	// that refers to a Space changes with the answers after it.
	var render []func() string
	for _, a := range answers {
		env := relEnv()
		env.Scratch = sc
		out, outcome, err := release.ReleaseAnswerFromEPS(req, a, 200, release.ReleaseReplyEnds{}, env)
		render = append(render, func() string { return fmt.Sprintf("%s\noutcome: %+v\nerror: %v", out, outcome, err) })
		v3Out, v3Err := release.ReleaseResponseToV3(a, core.Meta{}, env)
		render = append(render, func() string { return fmt.Sprintf("%s\nerror: %v", v3Out, v3Err) })
	}
	got := make([]string, len(render))
	for i, r := range render {
		got[i] = r()
	}
	return got
}

// TestReleaseAnswerReusesNothingReturned writes $release answers as v3 one
// after another with one Scratch, a prescription that cannot be written
// among them, and checks that each answer is what writing it in fresh
// memory gives.
func TestReleaseAnswerReusesNothingReturned(t *testing.T) {
	var answers [][]byte
	for _, msg := range relScratchMessages(t) {
		body, _, err := release.ReleaseResponseToFHIR(msg, relEnv())
		if err != nil {
			continue
		}
		eps := epsShaped(t, body)
		answers = append(answers, body, eps)
		if corpustest.Present() && bytes.Count(msg, []byte("<ParentPrescription")) >= 3 {
			broken, _ := mutateReleased(t, eps, 1, "MedicationRequest", func(mr jsonObj) { delete(mr, "dosageInstruction") })
			answers = append(answers, broken)
		}
	}
	fresh := maptest.SameWithScratch(t, func(sc *v3.Scratch) []string { return relAnswers(t, answers, sc) })
	written := 0
	for _, f := range fresh {
		if strings.HasSuffix(f, "error: <nil>") {
			written++
		}
	}
	if written == 0 {
		t.Fatal("no answer was written")
	}
}
