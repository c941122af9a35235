package v3

import (
	"path/filepath"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// BenchmarkPrepareDigest measures fragments, Exclusive C14N, SHA-256 and the
// SignedInfo for porxgate's fixture prescription (2 line items).
func BenchmarkPrepareDigest(b *testing.B) {
	root := readXMLFile(b, fixturePath).Root()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PrepareDigest(root, DigestSHA256); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkVerifySignature measures full verification (digest and RSA-SHA1
// signature) of the corpus's ValidSignature.xml.
func BenchmarkVerifySignature(b *testing.B) {
	root := readXMLFile(b, filepath.Join(corpustest.Dir(b), "signed-prescriptions", "ValidSignature.xml")).Root()
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(root); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
