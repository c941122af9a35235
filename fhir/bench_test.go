package fhir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// BenchmarkParseBundle decodes the 19 KB homecare prescription-order Bundle.
func BenchmarkParseBundle(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpustest.Dir(b), "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Process-Request-Send-200_OK.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseBundle(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
