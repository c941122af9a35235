package mapping_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestArrows keeps the house plan of docs/mappings/README.md: each family
// package imports the shared core and, only where the domain nests one
// message in another, the nested family; the core imports no family; no
// mapping package imports the gateway. The compiler forbids cycles; this test
// forbids the sideways arrows a cycle-free graph still allows.
func TestArrows(t *testing.T) {
	const mod = "github.com/porxgate/porxgate/"
	allowed := map[string][]string{
		"mapping/core":        {"v3", "fhir"},
		"mapping/prescribe":   {"v3", "fhir", "mapping/core"},
		"mapping/release":     {"v3", "fhir", "mapping/core", "mapping/prescribe"},
		"mapping/dispense":    {"v3", "fhir", "mapping/core"},
		"mapping/claim":       {"v3", "fhir", "mapping/core", "mapping/dispense", "mapping/prescribe"},
		"mapping/cancel":      {"v3", "fhir", "mapping/core"},
		"mapping/task":        {"v3", "fhir", "mapping/core"},
		"mapping/ack":         {"v3", "fhir", "mapping/core"},
		"mapping/tracker":     {"v3", "fhir", "mapping/core"},
		"mapping/maptest":     {"v3", "fhir"},
		"mapping/conformance": {"v3", "fhir", "mapping", "mapping/core"},
	}
	root := filepath.Join("..")
	for pkg, ok := range allowed {
		imports := packageImports(t, filepath.Join(root, pkg), mod)
		for _, imp := range imports {
			if !slices.Contains(ok, imp) && !strings.HasPrefix(imp, "internal/") {
				t.Errorf("%s imports %s; it may import only %v", pkg, imp, ok)
			}
		}
	}
	// Every package under mapping/ is in the plan.
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" {
			if _, ok := allowed["mapping/"+e.Name()]; !ok {
				t.Errorf("mapping/%s is not in the house plan: add it to TestArrows and docs/mappings/README.md", e.Name())
			}
		}
	}
}

// packageImports returns the module-local imports of the non-test Go files
// of dir, without the module prefix.
func packageImports(t *testing.T, dir, mod string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if strings.HasPrefix(p, mod) {
				seen[strings.TrimPrefix(p, mod)] = true
			}
		}
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
