package fhir

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

// plainRef reports whether s needs no escape, by notASCIIPlain's
// definition, byte by byte.
func plainRef(s string) bool {
	for i := range len(s) {
		if notASCIIPlain[s[i]] {
			return false
		}
	}
	return true
}

// checkCopyPlain copies s with copyPlain and copyPlainWords into buffers
// with the room appendString makes and fails tb when either tells
// otherwise than plainRef, or copies a plain string otherwise.
func checkCopyPlain(tb testing.TB, s string) {
	tb.Helper()
	want := plainRef(s)
	for _, c := range []struct {
		name string
		copy func(dst, src unsafe.Pointer, n int) bool
	}{{"copyPlain", copyPlain}, {"copyPlainWords", copyPlainWords}} {
		dst := make([]byte, len(s)+plainRoom)
		got := c.copy(unsafe.Pointer(&dst[0]), unsafe.Pointer(unsafe.StringData(s)), len(s))
		if got != want {
			tb.Fatalf("%s(%q) = %v, want %v", c.name, s, got, want)
		}
		if got && !bytes.Equal(dst[:len(s)], []byte(s)) {
			tb.Fatalf("%s(%q) copied %q", c.name, s, dst[:len(s)])
		}
	}
}

// TestCopyPlain copies strings of every length up to past two blocks of
// sixteen, and some longer, plain and with each byte that needs an escape
// (and some that do not) at each position.
func TestCopyPlain(t *testing.T) {
	base := strings.Repeat("urn:uuid:a54219b8-f741-4c47-b662-e4f8dfa49ab6/", 8)
	for _, n := range append([]int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65},
		longString-1, longString, longString+1, 200, len(base)) {
		s := base[:n]
		checkCopyPlain(t, s)
		for p := range n {
			for _, c := range []byte{'"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xe2, 0xff} {
				b := []byte(s)
				b[p] = c
				checkCopyPlain(t, string(b))
			}
		}
	}
}
