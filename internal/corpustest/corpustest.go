// Package corpustest finds the shared EPS conformance corpus for tests.
//
// The corpus lives beside the project (../shared/corpus by default, or
// wherever PORXGATE_CORPUS points). Tests that need it call Dir: when the
// folder is absent the test is skipped with a message saying where it looked,
// except under CI (the CI variable set), where a missing corpus fails the test.
package corpustest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvVar names the environment variable that points at the corpus.
const EnvVar = "PORXGATE_CORPUS"

// Locate returns the corpus folder: $PORXGATE_CORPUS, or ../shared/corpus
// relative to the repository root.
func Locate() string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "shared", "corpus")
	}
	// file is <repo>/internal/corpustest/corpustest.go
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(filepath.Dir(repo), "shared", "corpus")
}

// Dir returns the corpus folder, skipping the test when it is absent (or
// failing it when CI is set).
func Dir(t testing.TB) string {
	t.Helper()
	dir := Locate()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance corpus not found at %s (set %s); CI must run corpus tests", dir, EnvVar)
		}
		t.Skipf("conformance corpus not found at %s: set %s to run corpus tests", dir, EnvVar)
	}
	return dir
}

// Walk returns the paths of the corpus files whose path relative to the
// corpus root satisfies match.
func Walk(t testing.TB, match func(rel string) bool) []string {
	t.Helper()
	root := Dir(t)
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if match(rel) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking corpus %s: %v", root, err)
	}
	return out
}

// Present reports whether the corpus folder exists, without skipping or
// failing: benchmarks use it to fall back to the project's own messages.
func Present() bool {
	st, err := os.Stat(Locate())
	return err == nil && st.IsDir()
}

// Files returns the contents of the corpus files whose path relative to the
// corpus root satisfies match, or nil when the corpus is absent. Unlike
// Walk it never skips, so a benchmark can fall back to its own messages.
func Files(t testing.TB, match func(rel string) bool) [][]byte {
	t.Helper()
	if !Present() {
		return nil
	}
	var out [][]byte
	for _, p := range Walk(t, match) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("reading corpus file %s: %v", p, err)
		}
		out = append(out, b)
	}
	return out
}
