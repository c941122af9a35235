package gateway

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"testing"
)

// encode compresses b with w's compressor.
func encode(t testing.TB, b []byte, newW func(io.Writer) io.WriteCloser) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newW(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipW(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }
func zlibW(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) }
func flateW(w io.Writer) io.WriteCloser {
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	return fw
}

func TestDecodeBody(t *testing.T) {
	msg := []byte("<x>Zoë ✓</x>")
	big := bytes.Repeat([]byte("a"), 101)
	tests := []struct {
		name        string
		enc         string
		raw         []byte
		want        []byte
		tooLarge    bool
		unsupported bool
		fails       bool
	}{
		{name: "none", raw: msg, want: msg},
		{name: "identity", enc: " Identity ", raw: msg, want: msg},
		{name: "none over the limit is left to the server's bound", raw: big, want: big},
		{name: "gzip", enc: "gzip", raw: encode(t, msg, gzipW), want: msg},
		{name: "x-gzip", enc: "X-GZIP", raw: encode(t, msg, gzipW), want: msg},
		{name: "deflate (zlib)", enc: "deflate", raw: encode(t, msg, zlibW), want: msg},
		{name: "raw deflate", enc: "deflate", raw: encode(t, msg, flateW), want: msg},
		{name: "gzip exactly at the limit", enc: "gzip", raw: encode(t, big[:100], gzipW), want: big[:100]},
		{name: "gzip one byte over", enc: "gzip", raw: encode(t, big, gzipW), tooLarge: true},
		{name: "deflate over", enc: "deflate", raw: encode(t, big, zlibW), tooLarge: true},
		{name: "gzip bomb", enc: "gzip", raw: encode(t, make([]byte, 10<<20), gzipW), tooLarge: true},
		{name: "not gzip", enc: "gzip", raw: []byte("plain text"), fails: true},
		{name: "empty gzip", enc: "gzip", raw: nil, fails: true},
		{name: "truncated gzip", enc: "gzip", raw: encode(t, msg, gzipW)[:12], fails: true},
		{name: "not deflate", enc: "deflate", raw: []byte{0xff, 0xff, 0xff}, fails: true},
		{name: "brotli", enc: "br", raw: msg, unsupported: true},
		{name: "a list", enc: "gzip, gzip", raw: msg, unsupported: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBody(tt.enc, tt.raw, 100)
			switch {
			case tt.tooLarge || tt.unsupported || tt.fails:
				if err == nil {
					t.Fatalf("decoded %q, want an error", got)
				}
				if err.tooLarge != tt.tooLarge || err.unsupported != tt.unsupported {
					t.Errorf("error %+v", err)
				}
				me := err.messageError()
				if tt.tooLarge && me.Number != NumBodyTooLarge || !tt.tooLarge && me.Number != NumContentEncoding {
					t.Errorf("MessageError number %d", me.Number)
				}
			case err != nil:
				t.Fatalf("error %v", err)
			case !bytes.Equal(got, tt.want):
				t.Errorf("decoded %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzDecodeBody: whatever the bytes and the encoding, decoding returns
// no more than the bound, or an error, and never panics.
func FuzzDecodeBody(f *testing.F) {
	msg := []byte("<PORX_IN020101UK31 xmlns=\"urn:hl7-org:v3\"/>")
	f.Add("gzip", encode(f, msg, gzipW))
	f.Add("deflate", encode(f, msg, zlibW))
	f.Add("deflate", encode(f, msg, flateW))
	f.Add("gzip", encode(f, make([]byte, 1<<16), gzipW))
	f.Add("", msg)
	f.Add("br", msg)
	f.Fuzz(func(t *testing.T, enc string, raw []byte) {
		const max = 4096
		got, err := decodeBody(enc, raw, max)
		switch e := strings.ToLower(strings.TrimSpace(enc)); {
		case err != nil:
		case e == "" || e == "identity":
			if !bytes.Equal(got, raw) {
				t.Fatal("a body without an encoding was changed")
			}
		case len(got) > max:
			t.Fatalf("decoded %d bytes past the bound", len(got))
		}
	})
}
