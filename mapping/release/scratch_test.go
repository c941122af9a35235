package release_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
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
	err  string
}

// relTranslate runs ReleaseResponseToFHIR with the fixed Env and the given
// Scratch (nil: fresh memory).
func relTranslate(msg []byte, sc *v3.Scratch) relTranslation {
	env := relEnv()
	env.Scratch = sc
	out, meta, err := release.ReleaseResponseToFHIR(msg, env)
	t := relTranslation{out: out, meta: meta}
	if err != nil {
		t.err = err.Error()
	}
	return t
}

// differs reports how two translations differ, "" when they do not.
func (t relTranslation) differs(want relTranslation) string {
	switch {
	case !bytes.Equal(t.out, want.out):
		return fmt.Sprintf("FHIR\n%s\nwant\n%s", t.out, want.out)
	case !reflect.DeepEqual(t.meta, want.meta):
		return fmt.Sprintf("meta %+v, want %+v", t.meta, want.meta)
	case t.err != want.err:
		return fmt.Sprintf("error %q, want %q", t.err, want.err)
	}
	return ""
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
// one after another with one Scratch, so that each is read and written back
// in the memory of the ones before, and checks that what each returned
// (FHIR, wrapper values, error) is, after all the others, what a
// translation in fresh memory returns.
func TestReleaseResponseReusesNothingReturned(t *testing.T) {
	msgs := relScratchMessages(t)
	want := make([]relTranslation, len(msgs))
	refused, carried := 0, 0
	for i, m := range msgs {
		want[i] = relTranslate(m, nil)
		if want[i].err != "" {
			refused++
		}
		if bytes.Contains(want[i].out, []byte(release.ExtensionReleaseVerbatim)) {
			carried++
		}
	}
	if refused < 2 || carried == 0 {
		t.Fatalf("%d messages refused, %d carried verbatim: the messages no longer take every way", refused, carried)
	}
	sc := v3.NewScratch()
	got := make([]relTranslation, 0, 2*len(msgs))
	for round := 0; round < 2; round++ {
		for _, m := range msgs {
			got = append(got, relTranslate(m, sc))
		}
	}
	for k, g := range got {
		if d := g.differs(want[k%len(msgs)]); d != "" {
			t.Fatalf("message %d (round %d), translated with a reused Scratch: %s", k%len(msgs), k/len(msgs), d)
		}
	}
}

// TestReleaseResponseScratchConcurrent translates with one Scratch from
// several goroutines (run with -race).
func TestReleaseResponseScratchConcurrent(t *testing.T) {
	msgs := relScratchMessages(t)
	want := make([]relTranslation, len(msgs))
	for i, m := range msgs {
		want[i] = relTranslate(m, nil)
	}
	sc := v3.NewScratch()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 2*len(msgs); k++ {
				i := (g*5 + k) % len(msgs)
				if d := relTranslate(msgs[i], sc).differs(want[i]); d != "" {
					errs <- fmt.Sprintf("message %d: %s", i, d)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// relAnswer is what ReleaseAnswerFromEPS or ReleaseResponseToV3 returned
// for one message.
type relAnswer struct {
	out     []byte
	outcome string
	err     string
}

// relAnswers runs each $release answer through ReleaseAnswerFromEPS (the
// gateway's way) and ReleaseResponseToV3, with the given Scratch (nil:
// fresh memory).
func relAnswers(t *testing.T, answers [][]byte, sc *v3.Scratch) []relAnswer {
	t.Helper()
	req := maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml")
	var got []relAnswer
	for _, a := range answers {
		env := relEnv()
		env.Scratch = sc
		out, outcome, err := release.ReleaseAnswerFromEPS(req, a, 200, release.ReleaseReplyEnds{}, env)
		r := relAnswer{out: out, outcome: fmt.Sprintf("%+v", outcome)}
		if err != nil {
			r.err = err.Error()
		}
		got = append(got, r)
		out, err = release.ReleaseResponseToV3(a, core.Meta{}, env)
		r = relAnswer{out: out}
		if err != nil {
			r.err = err.Error()
		}
		got = append(got, r)
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
	want := relAnswers(t, answers, nil)
	written := 0
	for _, w := range want {
		if w.err == "" {
			written++
		}
	}
	if written == 0 {
		t.Fatal("no answer was written")
	}
	sc := v3.NewScratch()
	for round := 0; round < 2; round++ {
		for k, g := range relAnswers(t, answers, sc) {
			w := want[k]
			if !bytes.Equal(g.out, w.out) || g.outcome != w.outcome || g.err != w.err {
				t.Fatalf("answer %d (round %d), written with a reused Scratch:\n%s\n%s %s\nwant\n%s\n%s %s", k, round, g.out, g.outcome, g.err, w.out, w.outcome, w.err)
			}
		}
	}
}
