package prescribe

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// fhirPrescriptions are the FHIR prescription-order Bundles written as v3
// and prepared: the corpus Send requests (or the project's own without the
// corpus), the project's own, the corpus $prepare requests, and two
// refused (no MedicationRequest; a signature that is not base64).
func fhirPrescriptions(t *testing.T) [][]byte {
	t.Helper()
	reqs, _ := sendPairs(t)
	reqs = append(reqs, ownPrescriptions(t)...)
	reqs = append(reqs, corpustest.Files(t, func(rel string) bool {
		base := filepath.Base(rel)
		return strings.Contains(base, "Prepare-Request") || (strings.Contains(rel, "prepare") && strings.HasSuffix(base, "-req.json"))
	})...)
	signed := -1
	for i, r := range reqs {
		if bytes.Contains(r, []byte(`"signature"`)) {
			signed = i
			break
		}
	}
	if signed < 0 {
		t.Fatal("no signed prescription")
	}
	noItems := bytes.ReplaceAll(reqs[0], []byte(`"MedicationRequest"`), []byte(`"MedicationRequestX"`))
	badSig := bytes.Replace(reqs[signed], []byte(`"data": "`), []byte(`"data": "!`), 1)
	badSig = bytes.Replace(badSig, []byte(`"data":"`), []byte(`"data":"!`), 1)
	return append(reqs, noItems, badSig)
}

// written is what PrescribeToV3 and PrepareIn returned for one Bundle.
func written(body []byte, sc *v3.Scratch) string {
	env := core.FixedEnv()
	env.Scratch = sc
	out, err := PrescribeToV3(body, core.Meta{}, env)
	res, perr := PrepareIn(sc, body, time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC), v3.DigestSHA256)
	return fmt.Sprintf("%s\nerror: %v\nprepare: %+v %v", out, err, res, perr)
}

// TestPrescribeToV3ReusesNothingReturned writes prescriptions as v3 and
// prepares them one after another with one Scratch (each built in the
// memory of the ones before), twice round, and checks that each is what
// writing it in fresh memory gives: nothing returned refers to reused
// memory, nothing of one message leaks into the next.
func TestPrescribeToV3ReusesNothingReturned(t *testing.T) {
	bodies := fhirPrescriptions(t)
	want := make([]string, len(bodies))
	for i, b := range bodies {
		want[i] = written(b, nil)
	}
	for _, i := range []int{len(bodies) - 2, len(bodies) - 1} {
		if !strings.Contains(want[i], "error: ") || strings.Contains(want[i], "error: <nil>") {
			t.Fatalf("Bundle %d was written: %s", i, want[i])
		}
	}
	sc := v3.NewScratch()
	for round := 0; round < 2; round++ {
		for i, b := range bodies {
			if got := written(b, sc); got != want[i] {
				t.Fatalf("Bundle %d (round %d), written with a reused Scratch:\n%s\nwant\n%s", i, round, got, want[i])
			}
		}
	}
}

// TestPrescribeToV3ScratchConcurrent writes and prepares with one Scratch
// from several goroutines (run with -race).
func TestPrescribeToV3ScratchConcurrent(t *testing.T) {
	bodies := fhirPrescriptions(t)
	want := make([]string, len(bodies))
	for i, b := range bodies {
		want[i] = written(b, nil)
	}
	maptest.SameConcurrently(t, want, func(i int, sc *v3.Scratch) string { return written(bodies[i], sc) })
}
