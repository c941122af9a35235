package fhir

import (
	"bytes"
	"strings"
	"testing"
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

// checkAppendPlain appends s with appendPlain and appendPlainWords to a
// buffer with the room appendString makes and to one a byte short of it,
// and fails tb when either appends otherwise than plainRef tells, or
// appends a plain string otherwise than quoted, or changes the buffer's
// bytes before its length.
func checkAppendPlain(tb testing.TB, s string) {
	tb.Helper()
	want := plainRef(s)
	for _, c := range []struct {
		name   string
		append func([]byte, string) []byte
	}{{"appendPlain", appendPlain}, {"appendPlainWords", appendPlainWords}} {
		for _, room := range []int{plainRoom, plainRoom - 1} {
			buf := append(make([]byte, 0, 3+len(s)+room), "abc"...)
			got := c.append(buf, s)
			if !bytes.Equal(got[:3], []byte("abc")) || cap(got) != cap(buf) || &got[:1][0] != &buf[:1][0] {
				tb.Fatalf("%s(%q) changed the buffer: %q", c.name, s, got)
			}
			switch {
			case room < plainRoom || !want:
				if len(got) != len(buf) {
					tb.Fatalf("%s(%q) with room %d gave %q, want the buffer as it was", c.name, s, room, got)
				}
			case string(got) != `abc"`+s+`"`:
				tb.Fatalf("%s(%q) = %q", c.name, s, got)
			}
		}
	}
}

// TestAppendPlain copies strings of every length up to past two blocks of
// sixteen, and some longer, plain and with each byte that needs an escape
// (and some that do not) at each position.
func TestAppendPlain(t *testing.T) {
	base := strings.Repeat("urn:uuid:a54219b8-f741-4c47-b662-e4f8dfa49ab6/", 8)
	for _, n := range append([]int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65},
		longString-1, longString, longString+1, 200, len(base)) {
		s := base[:n]
		checkAppendPlain(t, s)
		for p := range n {
			for _, c := range []byte{'"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xe2, 0xff} {
				b := []byte(s)
				b[p] = c
				checkAppendPlain(t, string(b))
			}
		}
	}
}
