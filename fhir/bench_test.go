package fhir

import (
	"os"
	"path/filepath"
	"strings"
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

// BenchmarkParseMessagesRef decodes each corpus FHIR request of the
// FHIR → v3 paths in turn (the prescriptions, dispense notifications and
// cancellations EPS processes) as their mappers do (ParseBundleRef).
func BenchmarkParseMessagesRef(b *testing.B) {
	msgs := corpustest.Files(b, func(rel string) bool {
		return strings.HasSuffix(rel, "-Process-Request-Send-200_OK.json") ||
			strings.HasSuffix(rel, "-Process-Request-Dispense-200_OK.json") ||
			strings.HasSuffix(rel, "-Process-Request-Cancel-200_OK.json")
	})
	if len(msgs) == 0 {
		b.Skip("no corpus messages")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseBundleRef(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
