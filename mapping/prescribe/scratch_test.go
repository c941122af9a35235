package prescribe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// translation is what PrescribeToFHIR returned for one message.
type translation struct {
	out  []byte
	meta core.Meta
	err  string
}

// translate runs PrescribeToFHIR with the fixed Env and the given Scratch
// (nil: fresh memory).
func translate(msg []byte, sc *v3.Scratch) translation {
	env := core.FixedEnv()
	env.Scratch = sc
	out, meta, err := PrescribeToFHIR(msg, env)
	t := translation{out: out, meta: meta}
	if err != nil {
		t.err = err.Error()
	}
	return t
}

// differs reports how two translations differ, "" when they do not.
func (t translation) differs(want translation) string {
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

// scratchMessages are the corpus Send messages (or porxgate's v3 of the
// project's prescriptions), the signed variants (each carrying something
// FHIR cannot say, or read by etree's reader) and a message refused.
func scratchMessages(t *testing.T) [][]byte {
	t.Helper()
	_, msgs := sendPairs(t)
	variants, err := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "signed-variants", "*.xml"))
	if err != nil || len(variants) == 0 {
		t.Fatalf("no signed variants: %v", err)
	}
	for _, f := range variants {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	refused := bytes.Replace(msgs[0], []byte("<pertinentPrescription"), []byte("<pertinentPrescriptionX"), 1)
	refused = bytes.Replace(refused, []byte("</pertinentPrescription>"), []byte("</pertinentPrescriptionX>"), 1)
	return append(msgs, refused)
}

// freshTranslations translates each message in fresh memory.
func freshTranslations(msgs [][]byte) []translation {
	want := make([]translation, len(msgs))
	for i, m := range msgs {
		want[i] = translate(m, nil)
	}
	return want
}

// TestPrescribeToFHIRReusesNothingReturned translates messages one after
// another with one Scratch, so that each is read and written back in the
// memory of the ones before, and checks that what each returned (FHIR,
// wrapper values, error) is, after all the others, what a translation in
// fresh memory returns: nothing returned refers to reused memory, and
// nothing of one message leaks into the next.
func TestPrescribeToFHIRReusesNothingReturned(t *testing.T) {
	msgs := scratchMessages(t)
	want := freshTranslations(msgs)
	if want[len(want)-1].err == "" {
		t.Fatal("the refused message was translated")
	}
	sc := v3.NewScratch()
	got := make([]translation, 0, 2*len(msgs))
	for round := 0; round < 2; round++ {
		for _, m := range msgs {
			got = append(got, translate(m, sc))
		}
	}
	for k, g := range got {
		if d := g.differs(want[k%len(msgs)]); d != "" {
			t.Fatalf("message %d (round %d), translated with a reused Scratch: %s", k%len(msgs), k/len(msgs), d)
		}
	}
}

// TestPrescribeToFHIRScratchConcurrent translates with one Scratch from
// several goroutines (run with -race).
func TestPrescribeToFHIRScratchConcurrent(t *testing.T) {
	msgs := scratchMessages(t)
	want := freshTranslations(msgs)
	maptest.SameConcurrently(t, render(want), func(i int, sc *v3.Scratch) string {
		return render([]translation{translate(msgs[i], sc)})[0]
	})
}

// render renders translations for maptest's checks.
func render(ts []translation) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		m, err := json.Marshal(t.meta) // pointers followed
		if err != nil {
			m = []byte(err.Error())
		}
		out[i] = fmt.Sprintf("%s\nmeta: %s\nerror: %s", t.out, m, t.err)
	}
	return out
}
