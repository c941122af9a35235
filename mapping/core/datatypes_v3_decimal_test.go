package core

import "testing"

// TestDecimal: every decimal form the MIM's quantities take is taken (a PQ
// value is the datatypes schema's "real", the union of xsd:decimal and
// xsd:double): JSON's as written, the others in JSON's form; anything else
// is refused. Before, "+1", "020", ".5" and "5." were refused although
// Spine takes them.
func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"28", "28", true}, {"0.5", "0.5", true}, {"-1.25", "-1.25", true}, {"1e3", "1e3", true},
		{".5", "0.5", true}, {"+5", "5", true}, {"5.", "5", true}, {"007", "7", true}, {"-.5", "-0.5", true},
		{"+007.250", "7.250", true}, {"000", "0", true}, {"-0", "-0", true},
		{"", "", false}, {".", "", false}, {"+", "", false}, {"1.2.3", "", false}, {"1,5", "", false},
		{"five", "", false}, {" 5", "", false}, {"5 ", "", false}, {"++5", "", false}, {"0x10", "", false},
	} {
		got, err := Decimal(tc.in)
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("Decimal(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
