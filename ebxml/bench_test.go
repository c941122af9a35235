package ebxml

import (
	"testing"
	"time"
)

// benchParse reports ParseRequest throughput on one request body.
func benchParse(b *testing.B, ct string, body []byte) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseRequest(ct, testSOAPAction, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkParseRequest(b *testing.B) {
	benchParse(b, testContentType, requestLF(b))
}

func BenchmarkParseRequestCRLF(b *testing.B) {
	benchParse(b, testContentType, toCRLF(requestLF(b)))
}

func BenchmarkParseSOAPRequest(b *testing.B) {
	body := readTestdata(b, "soap/inherited_ns.xml")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseSOAPRequest(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkBuildMessage(b *testing.B) {
	o := goldenOutbound(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := BuildMessage(o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkBuildAcknowledgment(b *testing.B) {
	m := mustParse(b, testContentType, testSOAPAction, requestLF(b))
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildAcknowledgment(m, "A3C5E7F9-1B2D-4F6A-8C0E-2D4F6A8C0E1B", now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
