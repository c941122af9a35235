package core

import (
	"testing"
	"time"
)

func TestParseFHIRDateTimeDigits(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC with nanoseconds; "" where the digits leave it to time.Parse
	}{
		{"2021-05-07", "2021-05-07T00:00:00Z"},
		{"2021-05-07T14:47:30Z", "2021-05-07T14:47:30Z"},
		{"2021-05-07T14:47:30+01:00", "2021-05-07T13:47:30Z"},
		{"2021-05-07T00:10:00+01:30", "2021-05-06T22:40:00Z"},
		{"2021-12-31T23:30:00-01:00", "2022-01-01T00:30:00Z"},
		{"2021-05-07T14:47:30.1Z", "2021-05-07T14:47:30.1Z"},
		{"2021-05-07T14:47:30.123456789+00:00", "2021-05-07T14:47:30.123456789Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z"},
		{"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
		{"0000-01-01T00:00:00+01:00", "-0001-12-31T23:00:00Z"},
		// Left to time.Parse, which takes some of them.
		{"2021-05-07T14:47:30.1234567891Z", ""}, // ten digits of fraction
		{"2021-05-07T14:47:30,5Z", ""},          // a comma
		{"2021-05-07T14:47:30+24:00", ""},       // an offset of 24 hours
		{"2021-05-07T14:47:30+01:60", ""},
		{"2021-05-07T9:47:30+01:00", ""}, // a one-digit hour
		{"2021-05", ""},
		{"2021", ""},
		// Malformed: refused by both.
		{"2023-02-29", ""},
		{"1900-02-29T00:00:00Z", ""},
		{"2021-04-31", ""},
		{"2021-00-10", ""},
		{"2021-13-10", ""},
		{"2021-05-00", ""},
		{"2021-05-07T24:00:00Z", ""},
		{"2021-05-07T14:60:30Z", ""},
		{"2021-05-07T14:47:60Z", ""},
		{"2021-05-07T14:47:30", ""},
		{"2021-05-07T14:47:30.Z", ""},
		{"2021-05-07T14:47:30ZZ", ""},
		{"2021-05-07T14:47:30+0100", ""},
		{"2021-05-07t14:47:30Z", ""},
		{"2021/05/07", ""},
		{"+021-05-07", ""},
		{"2021-5-07", ""},
		{"2021-05-07 ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := parseFHIRDateTimeDigits(tt.in)
		ref, refErr := parseFHIRDateTimeLayouts(tt.in)
		refOK := refErr == nil
		if tt.want == "" {
			if ok {
				t.Errorf("parseFHIRDateTimeDigits(%q) = %v, want it left to time.Parse", tt.in, got)
			}
		} else if !ok || got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("parseFHIRDateTimeDigits(%q) = %v, %v, want %s", tt.in, got.Format(time.RFC3339Nano), ok, tt.want)
		}
		if ok && (!refOK || got != ref) {
			t.Errorf("parseFHIRDateTimeDigits(%q) = %v, time.Parse %v (%v)", tt.in, got, ref, refOK)
		}
		pt, err := ParseFHIRDateTime(tt.in)
		if (err == nil) != refOK || pt != ref {
			t.Errorf("ParseFHIRDateTime(%q) = %v, %v; time.Parse %v, %v", tt.in, pt, err, ref, refOK)
		}
	}
}

// FuzzParseFHIRDateTimeDigits holds the digit reader to time.Parse: what
// it takes, time.Parse takes as the same instant (==, in UTC), and
// ParseFHIRDateTime takes exactly what time.Parse takes.
func FuzzParseFHIRDateTimeDigits(f *testing.F) {
	for _, s := range []string{"2021-05-07", "2021-05-07T14:47:30Z", "2021-05-07T14:47:30.123+01:00", "2021-05-07T14:47:30-09:30",
		"2024-02-29", "2023-02-29", "2021-05-07T14:47:30+24:00", "2021-05-07T9:47:30+01:00", "2021-05-07T14:47:30,5Z", "2021-05", "2021"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, refErr := parseFHIRDateTimeLayouts(s)
		refOK := refErr == nil
		if got, ok := parseFHIRDateTimeDigits(s); ok && (!refOK || got != ref) {
			t.Fatalf("parseFHIRDateTimeDigits(%q) = %v; time.Parse %v, %v", s, got, ref, refOK)
		}
		if got, err := ParseFHIRDateTime(s); (err == nil) != refOK || got != ref {
			t.Fatalf("ParseFHIRDateTime(%q) = %v, %v; time.Parse %v, %v", s, got, err, ref, refOK)
		}
	})
}
