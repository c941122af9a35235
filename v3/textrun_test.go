package v3

import "testing"

// refTextRun is textRun by its definition: the first byte chars must look
// at ('&', '<', third, below 0x20, 0x80 and above) in s's whole blocks of
// sixteen, else the index after them; where textRun looks at no block, 0.
func refTextRun(s string, third byte) int {
	if !markTagReads {
		return 0
	}
	whole := len(s) &^ 15
	for i := range whole {
		if c := s[i]; c == '&' || c == '<' || c == third || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return whole
}

// TestTextRun puts every byte value at every place of printable runs of 0
// to 50 bytes, alone and with a later stop, for each byte that ends a run
// (a quote, or '>' in text), and requires textRun's answer.
func TestTextRun(t *testing.T) {
	for _, third := range []byte{'>', '"', '\''} {
		thirds := uint64(third) * eachByte
		for n := 0; n <= 50; n++ {
			b := make([]byte, n)
			for pos := range n {
				for c := range 256 {
					for i := range b {
						b[i] = 'a' + byte(i%26)
					}
					b[pos] = byte(c)
					if got, want := textRun(string(b), thirds), refTextRun(string(b), third); got != want {
						t.Fatalf("%d bytes, %#x at %d, third %q: %d, want %d", n, c, pos, third, got, want)
					}
					if pos+5 < n {
						b[pos+5] = third
						if got, want := textRun(string(b), thirds), refTextRun(string(b), third); got != want {
							t.Fatalf("%d bytes, %#x at %d, %q at %d: %d, want %d", n, c, pos, third, pos+5, got, want)
						}
					}
				}
			}
		}
	}
}

// FuzzTextRun holds textRun to its definition on any bytes, from any of
// the first places in them, for each byte that ends a run.
func FuzzTextRun(f *testing.F) {
	f.Add([]byte("MIIFVjCCBD6gAwIBAgIT\nQAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==</X509Certificate>"))
	f.Add([]byte("Take one tablet three times a day &amp; with food\r\n\"quoted\" 'x' >\x7f\xc3\xa9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i := 0; i <= len(data) && i < 20; i++ {
			for _, third := range []byte{'>', '"', '\''} {
				if got, want := textRun(string(data[i:]), uint64(third)*eachByte), refTextRun(string(data[i:]), third); got != want {
					t.Fatalf("%q from %d, third %q: %d, want %d", data, i, third, got, want)
				}
			}
		}
	})
}

// TestCharsEveryByte puts every byte value at every place of a text and of
// an attribute value that chars reads (in a tag with a reference, which
// anyTag reads), both longer than two of textRun's blocks, and requires
// the scanner to read each document as etree's reader reads it.
func TestCharsEveryByte(t *testing.T) {
	const run = "Take 1 tablet, twice a day; with food + water (200 ml)."
	for _, tc := range []struct{ head, tail string }{
		{"<a>\n  <b>", "</b>\n  <c/>\n  <c/>\n</a>"},
		{"<a>\n  <b y=\"&amp;\" x=\"", "\"/>\n  <c/>\n  <c/>\n</a>"},
		{"<a>\n  <b y=\"&amp;\" x='", "'/>\n  <c/>\n  <c/>\n</a>"},
	} {
		b := []byte(tc.head + run + tc.tail)
		if !sameTree(t, b) {
			t.Errorf("the scanner did not read %q", b)
		}
		for pos := len(tc.head); pos < len(tc.head)+len(run); pos++ {
			orig := b[pos]
			for c := range 256 {
				b[pos] = byte(c)
				sameTree(t, b)
			}
			b[pos] = orig
		}
	}
}
