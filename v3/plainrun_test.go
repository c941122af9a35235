package v3

import (
	"bytes"
	"testing"
)

// TestPlainRun checks PlainRun against its definition (the run of bytes
// the table marks) with a byte that is not plain at each place of values
// of every length up to 13: in each of the four-byte tests and in the
// bytes after them.
func TestPlainRun(t *testing.T) {
	var plain [256]uint8
	for c := 0x20; c < 0x80; c++ {
		if c != '&' && c != '<' {
			plain[c] = 1
		}
	}
	for n := 0; n <= 13; n++ {
		for at := -1; at < n; at++ {
			for _, c := range []byte{'&', '<', '\n', 0x01, 0xc3, 0xff} {
				b := bytes.Repeat([]byte("a"), n)
				want := n
				if at >= 0 {
					b[at], want = c, at
				}
				if got := PlainRun(string(b), &plain); got != want {
					t.Errorf("PlainRun(%q) = %d, want %d", b, got, want)
				}
			}
		}
	}
}
