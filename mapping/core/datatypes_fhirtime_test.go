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

func TestFHIRTimeFromV3Digits(t *testing.T) {
	tests := []struct {
		in             string
		dateTime, date string // "" where the digits leave it to time.Parse
	}{
		{"20210507", "2021-05-07", "2021-05-07"},
		{"20210507144730", "2021-05-07T14:47:30+00:00", "2021-05-07"},
		{"20240229", "2024-02-29", "2024-02-29"},
		{"20000229000000", "2000-02-29T00:00:00+00:00", "2000-02-29"},
		{"00000101235959", "0000-01-01T23:59:59+00:00", "0000-01-01"},
		{"99991231", "9999-12-31", "9999-12-31"},
		// Left to time.Parse, which takes them.
		{"20210507144730+0100", "", ""},
		{"20210507144730.123", "", ""},
		{"202105071447", "", ""},
		{"2021050714", "", ""},
		{"202105", "", ""},
		{"2021", "", ""},
		// Malformed: refused by both.
		{"20230229", "", ""},
		{"19000229000000", "", ""},
		{"20210431", "", ""},
		{"20210010", "", ""},
		{"20211310", "", ""},
		{"20210500", "", ""},
		{"20210507240000", "", ""},
		{"20210507146030", "", ""},
		{"20210507144760", "", ""},
		{"+0210507", "", ""},
		{"2021-5-07", "", ""},
		{"2021050 ", "", ""},
		{"2021050714473x", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			date bool
			want string
			ref  func(string) (string, error)
			api  func(string) (string, error)
		}{{false, tt.dateTime, fhirDateTimeFromV3Parsed, FHIRDateTimeFromV3}, {true, tt.date, fhirDateFromV3Parsed, FHIRDateFromV3}} {
			got, ok := fhirTimeFromV3Digits(tt.in, c.date)
			ref, refErr := c.ref(tt.in)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("fhirTimeFromV3Digits(%q, %v) = %q, %v; want %q", tt.in, c.date, got, ok, c.want)
			}
			if ok && (refErr != nil || got != ref) {
				t.Errorf("fhirTimeFromV3Digits(%q, %v) = %q; time.Parse and Format %q, %v", tt.in, c.date, got, ref, refErr)
			}
			if out, err := c.api(tt.in); out != ref || (err == nil) != (refErr == nil) || err != nil && err.Error() != refErr.Error() {
				t.Errorf("(%q, date %v) = %q, %v; time.Parse and Format %q, %v", tt.in, c.date, out, err, ref, refErr)
			}
		}
	}
}

// FuzzFHIRTimeFromV3Digits holds the digit reader to time.Parse and
// time.Format: what it takes they give the same text for, and
// FHIRDateTimeFromV3 and FHIRDateFromV3 give exactly what they give,
// refusals too.
func FuzzFHIRTimeFromV3Digits(f *testing.F) {
	for _, s := range []string{"20210507", "20210507144730", "20240229", "20230229", "20210507240000", "20210507144730+0100",
		"+0210507", "2021050714473x", "00000229"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			date     bool
			ref, api func(string) (string, error)
		}{{false, fhirDateTimeFromV3Parsed, FHIRDateTimeFromV3}, {true, fhirDateFromV3Parsed, FHIRDateFromV3}} {
			ref, refErr := c.ref(s)
			if got, ok := fhirTimeFromV3Digits(s, c.date); ok && (refErr != nil || got != ref) {
				t.Fatalf("fhirTimeFromV3Digits(%q, %v) = %q; time.Parse and Format %q, %v", s, c.date, got, ref, refErr)
			}
			if out, err := c.api(s); out != ref || (err == nil) != (refErr == nil) || err != nil && err.Error() != refErr.Error() {
				t.Fatalf("(%q, date %v) = %q, %v; time.Parse and Format %q, %v", s, c.date, out, err, ref, refErr)
			}
		}
	})
}
