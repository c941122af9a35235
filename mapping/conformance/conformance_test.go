package conformance

import (
	"bytes"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestCorpus runs the conformance checks over the corpus, so CI counts them.
// Checks of kinds with no translator yet are skipped, not failed.
func TestCorpus(t *testing.T) {
	dir := corpustest.Dir(t)
	var out bytes.Buffer
	res, err := Run(Options{Corpus: dir}, &out)
	if err != nil {
		t.Fatalf("conformance run: %v", err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			t.Error(line)
		}
	}
	t.Logf("conformance: %d passed, %d failed, %d skipped %v", res.Passed, res.Failed, res.Skipped, res.SkippedByKind)
	if res.Passed+res.Failed+res.Skipped == 0 {
		t.Fatal("no pairs found in the corpus")
	}
}

func TestFindPairsCountsCorpusKinds(t *testing.T) {
	dir := corpustest.Dir(t)
	pairs, err := FindPairs(dir)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, p := range pairs {
		counts[p.Kind]++
	}
	if counts["Send"] != 20 {
		t.Errorf("Send pairs = %d, want 20", counts["Send"])
	}
	if counts["Cancel"] != 10 {
		t.Errorf("Cancel pairs = %d, want 10", counts["Cancel"])
	}
}
