package prescribe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// ownPrescriptions reads the project's own prescription Bundles
// (testdata/prescribe), the benchmarks' fallback when the corpus is absent.
func ownPrescriptions(tb testing.TB) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no prescriptions in testdata/prescribe: %v", err)
	}
	out := make([][]byte, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// prepareInputs returns the corpus $prepare requests porxgate answers (EPS's
// own refusals left out), or the project's prescriptions without the corpus.
func prepareInputs(b *testing.B, now time.Time) [][]byte {
	b.Helper()
	reqs := corpustest.Files(b, func(rel string) bool {
		base := filepath.Base(rel)
		return strings.Contains(base, "Prepare-Request") || (strings.Contains(rel, "prepare") && strings.HasSuffix(base, "-req.json"))
	})
	if reqs == nil {
		reqs = ownPrescriptions(b)
	}
	var ok [][]byte
	for _, r := range reqs {
		if _, err := Prepare(r, now, v3.DigestSHA256); err == nil {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		b.Fatal("no $prepare request porxgate answers")
	}
	return ok
}

// BenchmarkPrepare computes the $prepare digest (FHIR → v3, signature
// fragments, Exclusive C14N, SHA-256, SignedInfo) of each corpus $prepare
// request in turn (the project's own prescriptions without the corpus),
// with one Scratch, as the simulator does.
func BenchmarkPrepare(b *testing.B) {
	now := time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC)
	reqs := prepareInputs(b, now)
	sc := v3.NewScratch()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := PrepareIn(sc, reqs[i%len(reqs)], now, v3.DigestSHA256); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
