package dispense_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestDispenseToV3ReusesNothingReturned writes dispense notifications as
// v3 one after another with one Scratch (each message built in the memory
// of the ones before) and checks that each is what writing it in fresh
// memory gives: porxgate's FHIR of the project's own notifications, the
// corpus's, and one refused.
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
	write := func(sc *v3.Scratch) []string {
		var got []string
		for i, b := range bodies {
			env := dispensetest.Env()
			env.Scratch = sc
			out, err := dispense.DispenseToV3(b, metas[i], env)
			e := ""
			if err != nil {
				e = err.Error()
			}
			got = append(got, string(out)+"|"+e)
		}
		return got
	}
	want := write(nil)
	if strings.HasSuffix(want[len(files)], "|") {
		t.Fatal("the refused notification was written")
	}
	sc := v3.NewScratch()
	for round := 0; round < 2; round++ {
		for i, g := range write(sc) {
			if g != want[i] {
				t.Fatalf("notification %d (round %d), written with a reused Scratch:\n%s\nwant\n%s", i, round, g, want[i])
			}
		}
	}
}
