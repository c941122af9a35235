package gateway

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
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

// TestReadAllSized: the front door's sized read gives what io.ReadAll of
// the same bounded reader gives, whatever size the sender said (true, too
// small, too large, none) and however the bytes arrive, and reads a body
// of the size it said in one allocation.
func TestReadAllSized(t *testing.T) {
	const max = 100
	body := bytes.Repeat([]byte("0123456789"), 7) // 70 bytes
	long := bytes.Repeat([]byte("x"), max+50)
	errBroken := errors.New("connection reset")
	tests := []struct {
		name string
		b    []byte
		size int
		slow bool  // one byte a Read
		fail error // the reader fails after its bytes
	}{
		{"said its size", body, len(body), false, nil},
		{"said its size, one byte a read", body, len(body), true, nil},
		{"said less", body, 10, false, nil},
		{"said less, one byte a read", body, 10, true, nil},
		{"said more", body, 90, false, nil},
		{"said nothing", body, -1, false, nil},
		{"said zero", nil, 0, false, nil},
		{"over the bound, said its size", long, len(long), false, nil},
		{"over the bound, said less", long, 20, true, nil},
		{"exactly the bound", long[:max], max, false, nil},
		{"one over the bound", long[:max+1], max + 1, false, nil},
		{"cut short", body[:30], len(body), false, errBroken},
		{"cut short, said nothing", body[:30], -1, true, errBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := func() io.Reader {
				var r io.Reader = bytes.NewReader(tt.b)
				if tt.fail != nil {
					r = io.MultiReader(r, iotest.ErrReader(tt.fail))
				}
				if tt.slow {
					r = iotest.OneByteReader(r)
				}
				return r
			}
			want, wantErr := io.ReadAll(io.LimitReader(open(), max+1))
			got, err := readAllSized(open(), tt.size, max)
			if !bytes.Equal(got, want) || !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
				t.Fatalf("readAllSized = %d bytes, %v; io.ReadAll %d bytes, %v", len(got), err, len(want), wantErr)
			}
		})
	}
	r := bytes.NewReader(body)
	if n := testing.AllocsPerRun(50, func() {
		r.Reset(body)
		if _, err := readAllSized(r, len(body), max); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("a body of the size it said: %v allocations, want 1", n)
	}
}
