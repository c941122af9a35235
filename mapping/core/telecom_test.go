package core

import (
	"strings"
	"testing"

	v3 "github.com/porxgate/porxgate/v3"
)

// TestTelecomValueToV3 checks the v3 telecom value against the rule the EPS
// API keeps (demographics.ts convertTelecomValue: value.replace(/\s/g, ""),
// then "tel:" added unless the value starts with it): every character
// JavaScript's \s matches taken out (v3.IsJSSpace: Unicode spaces and
// U+FEFF, not U+0085), then the tel: scheme added unless it is there.
func TestTelecomValueToV3(t *testing.T) {
	for _, v := range []string{
		"", "01234567890", "tel:01234567890", "0123 456 7890", "\t01234\r\n567890\v\f",
		"tel: 0123", "0123\u00a0456", "0123\u0085456", "0123\u2003456", "0123\u3000",
		"tél:0123", "mailto:a@b.c", " tel:0123", "\ufeff0123", "0123\u2028\u2029\u202f\u205f\u1680",
	} {
		if got, want := TelecomValueToV3(v), telecomValueByMap(v); got != want {
			t.Errorf("TelecomValueToV3(%q) = %q, want %q", v, got, want)
		}
	}
}

// telecomValueByMap is TelecomValueToV3 as the EPS API's
// value.replace(/\s/g, "") reads: the value through strings.Map without
// JavaScript's white space, "tel:" put in front unless there already.
func telecomValueByMap(v string) string {
	want := strings.Map(func(r rune) rune {
		if v3.IsJSSpace(r) {
			return -1
		}
		return r
	}, v)
	if !strings.HasPrefix(want, "tel:") {
		want = "tel:" + want
	}
	return want
}

// FuzzTelecomValueToV3 holds TelecomValueToV3, which writes a value with
// white space in one allocation, to telecomValueByMap on any text (bytes
// that are not UTF-8 included, which both write as U+FFFD).
func FuzzTelecomValueToV3(f *testing.F) {
	for _, s := range []string{"01823 333444", "tel:01823333444", "tel: 0118 496 0000", " tel:0", "\u00a00118\u2028", "\ufeff07700 900000",
		"0118\x85 2", "\xff 01", "t el:1", "", " ", "tel:", "\ufffd 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if got, want := TelecomValueToV3(value), telecomValueByMap(value); got != want {
			t.Fatalf("TelecomValueToV3(%q) = %q, want %q", value, got, want)
		}
	})
}

// TestTelecomValueToV3AsEPS pins what the EPS API's own translator wrote
// for a dispenser's telecom value (a dispense notification's
// PractitionerRole.telecom, /work/eps-harness official-fhir-to-v3.ts): a
// byte order mark is white space to it and goes; a next-line character
// (U+0085), white space to Go's unicode.IsSpace, is not and stays.
func TestTelecomValueToV3AsEPS(t *testing.T) {
	for _, tc := range []struct{ in, eps string }{
		{"\ufeff0532567890", "tel:0532567890"},
		{"0532\u0085567890", "tel:0532\u0085567890"},
		{"0532 567\u00a0890", "tel:0532567890"},
	} {
		if got := TelecomValueToV3(tc.in); got != tc.eps {
			t.Errorf("TelecomValueToV3(%q) = %q, the EPS API writes %q", tc.in, got, tc.eps)
		}
	}
}
