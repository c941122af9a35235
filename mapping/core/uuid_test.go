package core

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/porxgate/porxgate/internal/racetest"
)

// FuzzUUIDShape holds IsUUID and UpperUUID, which read an id once over
// tables, to the shape read place by place (hexadecimal digits, dashes at
// 8, 13, 18 and 23) and strings.ToUpper of what has it.
func FuzzUUIDShape(f *testing.F) {
	for _, s := range []string{"a54219b8-f741-4c47-b662-e4f8dfa49ab6", "A54219B8-F741-4C47-B662-E4F8DFA49AB6", "a54219b8-f741-4c47-b662-e4f8dfa49ab",
		"a54219b8f-741-4c47-b662-e4f8dfa49ab6", "a54219b8-f741-4c47-b662-e4f8dfa49a-6", "a54219b8-f741-4c47-b662-e4f8dfa49ag6",
		"------------------------------------", "a54219b8-f741-4c47-b662-e4f8dfa49\u00e9", "", "83C40E-A23856-00123C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) == 36
		for i := 0; want && i < len(s); i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				want = c == '-'
			} else {
				want = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
			}
		}
		if got := IsUUID(s); got != want {
			t.Fatalf("IsUUID(%q) = %v, want %v", s, got, want)
		}
		up := s
		if want {
			up = strings.ToUpper(s)
		}
		if got := UpperUUID(s); got != up {
			t.Fatalf("UpperUUID(%q) = %q, want %q", s, got, up)
		}
	})
}

// lowerIDCases are LowerID's table and FuzzLowerID's seeds: UUIDs in
// either case, ids of other shapes, non-ASCII text before and after the
// first upper-case letter, invalid UTF-8 and the empty string.
var lowerIDCases = []string{
	"a54219b8-f741-4c47-b662-e4f8dfa49ab6", "A54219B8-F741-4C47-B662-E4F8DFA49AB6", "a54219b8-F741-4c47-b662-e4f8dfa49ab6",
	"83C40E-A23856-00123C", "100102238986", "Z", "aZ", "", "ÉCOLE", "École", "ecOLÉ", "İSTANBUL", "AB\xffCD", "\xff", "ab\u212a",
	// Eight bytes at a time: a capital, the letters beside A and Z, and
	// non-ASCII in each place of a word and after it.
	"abcdefghZ", "abcdefgZ", "Zbcdefgh", "@[`{@[`{@[`{", "abcdefgh@", "abcdefgh[", "12345678`{", "abcdefg\u00e9", "abcdefgh\u00c9",
	"abcdefghijklmnoP", "abcdefghijklmnop\xff", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefgh\xffABCDEFGH",
}

// TestLowerID: LowerID is strings.ToLower, and a string without an
// upper-case letter comes back as itself.
func TestLowerID(t *testing.T) {
	for _, s := range lowerIDCases {
		if got, want := LowerID(s), strings.ToLower(s); got != want {
			t.Errorf("LowerID(%q) = %q, want %q", s, got, want)
		}
	}
	s := "a54219b8-f741-4c47-b662-e4f8dfa49ab6"
	if got := LowerID(s); unsafe.StringData(got) != unsafe.StringData(s) {
		t.Errorf("LowerID(%q) made a copy", s)
	}
	if !racetest.Enabled {
		up := "A54219B8-F741-4C47-B662-E4F8DFA49AB6"
		if n := testing.AllocsPerRun(100, func() { _ = LowerID(up) }); n != 1 {
			t.Errorf("LowerID of an upper-case UUID: %v allocations, want 1", n)
		}
	}
}

// FuzzLowerID holds LowerID to strings.ToLower.
func FuzzLowerID(f *testing.F) {
	for _, s := range lowerIDCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := LowerID(s), strings.ToLower(s); got != want {
			t.Fatalf("LowerID(%q) = %q, want %q", s, got, want)
		}
	})
}
