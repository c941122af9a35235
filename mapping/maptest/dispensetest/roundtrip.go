package dispensetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
)

// RoundTripFixtures runs every v3 fixture (*.xml) of the named folders of
// the repository's testdata, each as a subtest named folder/file, through
// roundTripFixture with the translator the registry gives its interaction.
// A folder without fixtures fails the test.
func RoundTripFixtures(t *testing.T, dirs ...string) {
	t.Helper()
	reg := mapping.NewRegistry()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(maptest.TestdataDir(), dir, "*.xml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no v3 fixtures in testdata/%s (%v)", dir, err)
		}
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
				roundTripFixture(t, tr, f)
			})
		}
	}
}

// RoundTrip takes msg v3 → FHIR → v3 through toFHIR and toV3 and fails the
// test unless the result equals msg under the corpus comparison rules with
// every UUID required back; it returns the FHIR for further checks.
func RoundTrip(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), toV3 func([]byte, core.Meta, core.Env) ([]byte, error), msg []byte) []byte {
	t.Helper()
	body, meta, err := toFHIR(msg, Env())
	if err != nil {
		t.Fatalf("ToFHIR: %v", err)
	}
	got, err := toV3(body, meta, Env())
	if err != nil {
		t.Fatalf("ToV3: %v\nFHIR: %s", err, body)
	}
	d, err := conformance.Compare(msg, got, conformance.Rules{FHIRRequest: msg})
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		t.Fatalf("v3 → FHIR → v3 differs: %s", d)
	}
	return body
}

// roundTripFixture runs the v3 fixture at path through tr's ToFHIR and ToV3
// and checks the result equals the fixture under the corpus comparison
// rules with every UUID required to come back (only creationTime and ASIDs
// are free).
func roundTripFixture(t *testing.T, tr *core.Translator, path string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	RoundTrip(t, tr.ToFHIR, tr.ToV3, want)
}
