package mapping_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestCorpusDispensingTestData runs every FHIR request of
// fhir-test-data/dispensing (dispense notifications, claims, a return)
// and the claim requests of examples/spec/dispensing/claim FHIR → v3,
// then v3 → FHIR → v3, which must give the same v3. The three
// files the EPS API rejects must fail with the reason it gives.
func TestCorpusDispensingTestData(t *testing.T) {
	dir := filepath.Join(corpustest.Dir(t), "fhir-test-data", "dispensing")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	more, _ := filepath.Glob(filepath.Join(dir, "claim", "*.json"))
	spec, _ := filepath.Glob(filepath.Join(corpustest.Dir(t), "examples", "spec", "dispensing", "claim", "*-req.json"))
	files = append(append(files, more...), spec...)
	if len(files) == 0 {
		t.Fatalf("no test data in %s", dir)
	}
	rejected := map[string]string{
		"Process-Request-Dispense-Not-Dispensed-Inconsistent.json":                                     "NonDispensingReason must be consistent",
		"Process-Request-Dispense-Notifications-No-Extension-for-ReimbursementAuthority.json":          "the reimbursement authority is missing",
		"Process-Request-Dispense-Notifications-No-ODS-Code-Extension-for-ReimbursementAuthority.json": "ODS code of the reimbursement authority is missing",
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tr := dispTranslatorFor(t, body)
			env := dispensetest.Env()
			first, err := tr.ToV3(body, core.Meta{}, env)
			if want, ok := rejected[name]; ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("want an error saying %q, got %v", want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			fh, meta, err := tr.ToFHIR(first, env)
			if err != nil {
				t.Fatalf("v3 → FHIR: %v", err)
			}
			again, err := tr.ToV3(fh, meta, env)
			if err != nil {
				t.Fatalf("FHIR → v3 again: %v", err)
			}
			if d, err := conformance.Compare(first, again, conformance.Rules{FHIRRequest: first}); err != nil || d != nil {
				t.Fatalf("v3 → FHIR → v3 differs: %v %v", d, err)
			}
		})
	}
}

// dispTranslatorFor picks the translator of a FHIR request body.
func dispTranslatorFor(t *testing.T, body []byte) *core.Translator {
	t.Helper()
	kind, err := mapping.KindOfFHIR(body)
	if err != nil {
		t.Fatal(err)
	}
	tr := mapping.NewRegistry().ByKind(kind)
	if tr == nil {
		t.Fatalf("no translator for kind %s", kind)
	}
	return tr
}
