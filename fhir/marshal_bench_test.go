package fhir

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// BenchmarkMarshalMessages writes each corpus FHIR prescription request
// in turn, as read (ParseBundle), with Marshal: the encoder's share of a
// v3 → FHIR translation, on Bundles of the same resources.
func BenchmarkMarshalMessages(b *testing.B) {
	files := corpustest.Files(b, func(rel string) bool {
		return strings.HasSuffix(rel, "-Process-Request-Send-200_OK.json")
	})
	if len(files) == 0 {
		b.Skip("no corpus messages")
	}
	var bundles []*Bundle
	for _, f := range files {
		bd, err := ParseBundle(f)
		if err != nil {
			b.Fatal(err)
		}
		bundles = append(bundles, bd)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Marshal(bundles[i%len(bundles)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
