package core

import (
	"strings"
	"testing"
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
