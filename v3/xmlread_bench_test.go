package v3

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// homecareV3 is the 19 KB homecare Parent Prescription the speed budget
// is set on.
const homecareV3 = "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Convert-Response-Send-200_OK.xml"

// BenchmarkReadXML reads the homecare prescription with ReadXML.
func BenchmarkReadXML(b *testing.B) {
	benchRead(b, func(data []byte) error {
		_, err := ReadXML(data)
		return err
	})
}

// BenchmarkReadXMLEtree reads the homecare prescription with etree's own
// reader, for comparison.
func BenchmarkReadXMLEtree(b *testing.B) {
	benchRead(b, func(data []byte) error {
		return etree.NewDocument().ReadFromBytes(data)
	})
}

func benchRead(b *testing.B, read func([]byte) error) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(corpustest.Dir(b), homecareV3))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := read(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReadXMLCDATA reads the project's signed prescription whose
// dosage instruction is a CDATA section (which the scanner reads itself).
func BenchmarkReadXMLCDATA(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "prescribe", "signed-variants", "cdata-dosage.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadXML(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReadXMLSpace reads each Parent Prescription of the corpus
// (its Send messages) and its 20-prescription release response into a
// Space from a Scratch, as the translations read a message: the
// scanner's cost a message on the paths that count (one op reads them
// all).
func BenchmarkReadXMLSpace(b *testing.B) {
	files := corpustest.Walk(b, func(rel string) bool {
		return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml") ||
			strings.HasSuffix(rel, "release-responses/full_successful_release.xml")
	})
	if len(files) == 0 {
		b.Skip("no Send messages in the corpus")
	}
	var msgs [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, data)
	}
	scratch := NewScratch()
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range msgs {
			sp := scratch.Get()
			if _, _, err := readXMLPrefixed(data, sp); err != nil {
				b.Fatal(err)
			}
			scratch.Put(sp)
		}
	}
}
