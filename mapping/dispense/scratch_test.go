package dispense_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestDispenseToV3ReusesNothingReturned writes dispense notifications as
// v3 with a reused Scratch and in fresh memory (maptest.SameWithScratch):
// porxgate's FHIR of the project's own notifications, the corpus's, and one
// refused.
func TestDispenseToV3ReusesNothingReturned(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "dispense", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dispense notifications: %v", err)
	}
	var bodies [][]byte
	var metas []core.Meta
	for _, f := range files {
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, meta, err := dispense.DispenseToFHIR(msg, dispensetest.Env())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		bodies, metas = append(bodies, body), append(metas, meta)
	}
	bodies = append(bodies, bytes.Replace(bodies[0], []byte(`"identifier"`), []byte(`"identifierX"`), 1))
	metas = append(metas, metas[0])
	for _, b := range corpustest.Files(t, func(rel string) bool { return strings.HasSuffix(rel, "-Process-Request-Dispense-200_OK.json") }) {
		bodies, metas = append(bodies, b), append(metas, core.Meta{})
	}
	fresh := maptest.SameWithScratch(t, func(sc *v3.Scratch) []string {
		// Every notification is written before any result is rendered:
		// one that refers to a Space changes with the ones after it.
		outs, errs := make([][]byte, len(bodies)), make([]error, len(bodies))
		for i, b := range bodies {
			env := dispensetest.Env()
			env.Scratch = sc
			outs[i], errs[i] = dispense.DispenseToV3(b, metas[i], env)
		}
		got := make([]string, len(bodies))
		for i := range got {
			got[i] = fmt.Sprintf("%s\nerror: %v", outs[i], errs[i])
		}
		return got
	})
	if strings.HasSuffix(fresh[len(files)], "error: <nil>") {
		t.Fatal("the refused notification was written")
	}
}
