package prescribe

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestAppendBase64AsStd holds appendBase64 to base64.StdEncoding.AppendEncode
// on every length up to 100 (each way the six-byte loop can end, and the
// padding of one and two bytes left over), every byte value in each place
// of a word and of a twelve-byte run (base64Blocks'), and onto a slice
// that already holds bytes.
func TestAppendBase64AsStd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cases [][]byte
	for n := 0; n <= 100; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		cases = append(cases, b)
	}
	for c := 0; c < 256; c++ {
		for at := 0; at < 9; at++ {
			b := bytes.Repeat([]byte{0x5a}, 17)
			b[at] = byte(c)
			cases = append(cases, b)
		}
	}
	for c := 0; c < 256; c++ {
		for at := 12; at < 24; at++ { // the second of base64Blocks' runs
			b := bytes.Repeat([]byte{0xa5}, 29)
			b[at] = byte(c)
			cases = append(cases, b)
		}
	}
	cases = append(cases, bytes.Repeat([]byte{0xff}, 4096), bytes.Repeat([]byte{0}, 4097))
	for _, src := range cases {
		want := base64.StdEncoding.AppendEncode(nil, src)
		if got := appendBase64(nil, src); !bytes.Equal(got, want) {
			t.Fatalf("% x:\n got %s\nwant %s", src, got, want)
		}
		prefix := []byte("data:")
		if got := appendBase64(prefix, src); !bytes.Equal(got, append([]byte("data:"), want...)) {
			t.Fatalf("% x after a prefix: %s", src, got)
		}
	}
	if got := appendBase64(nil, nil); len(got) != 0 {
		t.Errorf("nothing encoded as %q", got)
	}
}

// TestBase64BlocksAsStd holds base64Blocks, where it runs, to
// base64.StdEncoding: every byte value in each of a run's twelve places
// (and in the four past them it loads and must not look at), then runs of
// random bytes, one to forty at a time, each ending where its source does
// but for the four bytes it may load past the last run.
func TestBase64BlocksAsStd(t *testing.T) {
	if !haveBase64Blocks {
		t.Skip("base64Blocks does not run here")
	}
	for c := 0; c < 256; c++ {
		for at := 0; at < 16; at++ {
			src := bytes.Repeat([]byte{0xa5}, 16)
			src[at] = byte(c)
			var dst [16]byte
			base64Blocks(&dst[0], &src[0], 1)
			if want := base64.StdEncoding.EncodeToString(src[:12]); string(dst[:]) != want {
				t.Fatalf("% x: got %s, want %s", src[:12], dst[:], want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for runs := 1; runs <= 40; runs++ {
		src := make([]byte, runs*12+4)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		dst := bytes.Repeat([]byte{'#'}, runs*16+1)
		base64Blocks(&dst[0], &src[0], runs)
		if want := base64.StdEncoding.EncodeToString(src[:runs*12]) + "#"; string(dst) != want {
			t.Fatalf("%d runs: got %s, want %s", runs, dst, want)
		}
	}
}

// FuzzAppendBase64 holds appendBase64 to base64.StdEncoding on any bytes.
func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"))
	f.Fuzz(func(t *testing.T, src []byte) {
		want := base64.StdEncoding.AppendEncode(nil, src)
		if got := appendBase64(nil, src); !bytes.Equal(got, want) {
			t.Fatalf("% x: got %s, want %s", src, got, want)
		}
	})
}
