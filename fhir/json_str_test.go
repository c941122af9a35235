package fhir

import "testing"

// refSpecialRun is specialRun by its definition: the first special byte
// (a quote, a backslash, below 0x20, 0x80 and above) in b's whole blocks of
// sixteen, else the index after them; on an architecture without a block
// way, 0.
func refSpecialRun(b []byte) int {
	if specialBlocks == 0 {
		return 0
	}
	whole := len(b) &^ 15
	for i, c := range b[:whole] {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return i
		}
	}
	return whole
}

// specialBlocks is 1 where specialRun looks at blocks (amd64), else 0.
var specialBlocks = specialRun([]byte("0123456789abcdef")) / 16

// TestSpecialRun puts every byte value at every place of ASCII runs of 0 to
// 50 bytes, and at once two of them, and requires specialRun's answer.
func TestSpecialRun(t *testing.T) {
	for n := 0; n <= 50; n++ {
		b := make([]byte, n)
		for pos := range n {
			for c := range 256 {
				for i := range b {
					b[i] = 'a' + byte(i%26)
				}
				b[pos] = byte(c)
				if got, want := specialRun(b), refSpecialRun(b); got != want {
					t.Fatalf("%d bytes, %#x at %d: %d, want %d", n, c, pos, got, want)
				}
				if pos+3 < n {
					b[pos+3] = '"'
					if got, want := specialRun(b), refSpecialRun(b); got != want {
						t.Fatalf("%d bytes, %#x at %d, a quote at %d: %d, want %d", n, c, pos, pos+3, got, want)
					}
				}
			}
		}
	}
	t.Logf("blocks looked at: %v", specialBlocks == 1)
}

// FuzzSpecialRun holds specialRun to its definition on any bytes, from any
// place in them.
func FuzzSpecialRun(f *testing.F) {
	f.Add([]byte(`0123456789abcdef0123456789abcdef"`))
	f.Add([]byte("https://fhir.nhs.uk/Id/ods-organization-code\\\"\x01\xe2\x82\xac"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i := 0; i <= len(data) && i < 20; i++ {
			if got, want := specialRun(data[i:]), refSpecialRun(data[i:]); got != want {
				t.Fatalf("%q from %d: %d, want %d", data, i, got, want)
			}
		}
	})
}
