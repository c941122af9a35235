package journal

import (
	"bytes"
	"compress/flate"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// stepPayloads returns real step payloads: the corpus's XML and JSON
// messages and the project's testdata (v3 requests and answers, FHIR
// bundles, EPS answers).
func stepPayloads(b testing.TB) [][]byte {
	b.Helper()
	var out [][]byte
	add := func(path string) {
		if !strings.HasSuffix(path, ".xml") && !strings.HasSuffix(path, ".json") {
			return
		}
		if d, err := os.ReadFile(path); err == nil && len(d) > 0 {
			out = append(out, d)
		}
	}
	if corpustest.Present() {
		for _, p := range corpustest.Walk(b, func(string) bool { return true }) {
			add(p)
		}
	}
	_ = filepath.WalkDir(filepath.Join("..", "..", "testdata"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			add(p)
		}
		return nil
	})
	if len(out) == 0 {
		b.Skip("no payloads")
	}
	return out
}

// benchCodec is a codec BenchmarkCodecCompare weighs: enc appends src
// encoded to dst[:0], dec src decoded.
type benchCodec struct {
	name string
	enc  func(dst, src []byte) []byte
	dec  func(dst, src []byte) []byte
}

// benchCodecs are the codecs weighed for the journal's payloads: the
// standard library's flate at BestSpeed, S2 at its three levels (default,
// better, Snappy-compatible) and zstd at its fastest.
func benchCodecs(b testing.TB) []benchCodec {
	b.Helper()
	fw, err := flate.NewWriter(io.Discard, flate.BestSpeed)
	if err != nil {
		b.Fatal(err)
	}
	var fb bytes.Buffer
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		b.Fatal(err)
	}
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		b.Fatal(err)
	}
	return []benchCodec{
		{"flate1", func(dst, src []byte) []byte {
			fb.Reset()
			fw.Reset(&fb)
			if _, err := fw.Write(src); err != nil {
				b.Fatal(err)
			}
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
			return append(dst[:0], fb.Bytes()...)
		}, func(dst, src []byte) []byte {
			d, _ := io.ReadAll(flate.NewReader(bytes.NewReader(src)))
			return d
		}},
		{"s2", func(dst, src []byte) []byte { return s2.Encode(dst[:cap(dst)], src) },
			func(dst, src []byte) []byte { d, _ := s2.Decode(dst[:cap(dst)], src); return d }},
		{"s2better", func(dst, src []byte) []byte { return s2.EncodeBetter(dst[:cap(dst)], src) },
			func(dst, src []byte) []byte { d, _ := s2.Decode(dst[:cap(dst)], src); return d }},
		{"s2snappy", func(dst, src []byte) []byte { return s2.EncodeSnappy(dst[:cap(dst)], src) },
			func(dst, src []byte) []byte { d, _ := s2.Decode(dst[:cap(dst)], src); return d }},
		{"zstd1", func(dst, src []byte) []byte { return zenc.EncodeAll(src, dst[:0]) },
			func(dst, src []byte) []byte { d, _ := zdec.DecodeAll(src, dst[:0]); return d }},
	}
}

// BenchmarkCodecCompare weighs the codecs of benchCodecs on real step
// payloads (stepPayloads): each's encoding speed, ratio (bytes recorded
// over bytes kept) and decoding speed. Measured (2-core PVM guest shared
// with other work, -benchtime 100x -count 3, 395 payloads of 12 KB on
// average): flate 65-110 MB/s, ratio 4.44; S2 1.10-1.11 GB/s, 3.69; S2
// better 274-282 MB/s, 3.83; S2 Snappy-compatible 1.01-1.05 GB/s, 3.53;
// zstd fastest 253-295 MB/s, 4.72. S2 at its default is what the journal
// keeps (redis_codec.go).
func BenchmarkCodecCompare(b *testing.B) {
	ps := stepPayloads(b)
	var total int
	for _, p := range ps {
		total += len(p)
	}
	for _, c := range benchCodecs(b) {
		b.Run(c.name+"/enc", func(b *testing.B) {
			dst := make([]byte, 0, 1<<20)
			var out int
			b.SetBytes(int64(total))
			for b.Loop() {
				out = 0
				for _, p := range ps {
					e := c.enc(dst, p)
					out += len(e)
				}
			}
			b.ReportMetric(float64(total)/float64(out), "ratio")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ps)), "ns/payload")
		})
		b.Run(c.name+"/dec", func(b *testing.B) {
			dst := make([]byte, 0, 1<<20)
			encs := make([][]byte, len(ps))
			for i, p := range ps {
				encs[i] = c.enc(nil, p)
				if !bytes.Equal(c.dec(nil, encs[i]), p) {
					b.Fatalf("%s: round trip", c.name)
				}
			}
			b.SetBytes(int64(total))
			for b.Loop() {
				for _, e := range encs {
					c.dec(dst, e)
				}
			}
		})
	}
	b.Logf("%d payloads, %d bytes, mean %d", len(ps), total, total/len(ps))
}

// BenchmarkPackMessage is the writer's compression of one prescription's
// payloads (those of BenchmarkRedisJournalPayloads): packBody on each,
// as applyRun does. Run under valgrind --tool=cachegrind for its
// instructions, which a busy machine does not change.
func BenchmarkPackMessage(b *testing.B) {
	read := func(path string) string {
		d, err := os.ReadFile(path)
		if err != nil {
			b.Skip(err)
		}
		return string(d)
	}
	payloads := []string{
		read(filepath.Join(corpustest.Dir(b), "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/3-Convert-Response-Send-200_OK.xml")),
		read("../../testdata/eps-fhir/Send--acute-dosage-sequenced.json"),
		read("../../testdata/acks/eps_success.json"),
		read("../../testdata/acks/aa_prescription.xml"),
	}
	var in, out int
	b.ReportAllocs()
	for b.Loop() {
		in, out = 0, 0
		for _, p := range payloads {
			stored, _, done := packBody(p, true)
			in, out = in+len(p), out+len(stored)
			done()
		}
	}
	b.ReportMetric(float64(in), "B-recorded/msg")
	b.ReportMetric(float64(out), "B-kept/msg")
}
