package mapping_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// dispTestEnv is a deterministic environment in the UK family with the
// short-form id check character enforced.
func dispTestEnv() mapping.Env {
	return core.FixedEnvAt(time.Date(2024, 3, 11, 9, 30, 0, 0, time.UTC), v3.FamilyUK)
}

// dispRoundTripFixture runs a v3 dispFixture through ToFHIR and ToV3 and checks the
// result equals the dispFixture under the corpus comparison rules with every
// UUID required to come back (only creationTime and ASIDs are free).
func dispRoundTripFixture(t *testing.T, tr *core.Translator, path string) []byte {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body, meta, err := tr.ToFHIR(want, dispTestEnv())
	if err != nil {
		t.Fatalf("ToFHIR: %v", err)
	}
	got, err := tr.ToV3(body, meta, dispTestEnv())
	if err != nil {
		t.Fatalf("ToV3: %v\nFHIR: %s", err, body)
	}
	d, err := conformance.Compare(want, got, conformance.Rules{FHIRRequest: want})
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		t.Fatalf("v3 → FHIR → v3 differs: %s", d)
	}
	return body
}

func TestFixturesRoundTrip(t *testing.T) {
	reg := mapping.NewRegistry()
	for _, dir := range []string{"dispense", "claim", "rebuild", "return", "withdraw"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*.xml"))
		for _, f := range files {
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				_, tag, err := conformance.ExtractPayload(data)
				if err != nil {
					t.Fatal(err)
				}
				tr := reg.ByInteraction(tag)
				if tr == nil {
					t.Fatalf("no translator for %s", tag)
				}
				dispRoundTripFixture(t, tr, f)
			})
		}
	}
}
