package core

import (
	"testing"
	"time"
)

// TestV3TimeTextIsFormat holds v3TimeText to time.Format's answer for the
// two v3 layouts, at the edges of its digit by digit writing (years of
// fewer than four digits, the last second of a day and of a year) and
// beyond them, where it leaves the writing to Format (a year below 0 or
// above 9999, which UTC can make of a FHIR year 0000 or 9999 with an
// offset).
func TestV3TimeTextIsFormat(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC),
		time.Date(2020, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 2, 28, 1, 2, 3, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 4, 59, 0, 0, time.UTC),
		time.Date(2021, 5, 7, 14, 47, 30, 0, time.FixedZone("", 3600)),
	} {
		for _, layout := range []string{V3TimeLayout, V3DateLayout} {
			if got, want := v3TimeText(tm, len(layout)), tm.Format(layout); got != want {
				t.Errorf("v3TimeText(%v, %d) = %q, want %q", tm, len(layout), got, want)
			}
		}
	}
}

// FuzzV3TimestampFromFHIR holds V3TimestampFromFHIR and V3DateFromFHIR to
// what time.Format makes of the FHIR reader's time, and to its refusals,
// on any text.
func FuzzV3TimestampFromFHIR(f *testing.F) {
	for _, s := range []string{"2020-11-18T14:36:48+00:00", "2021-05-07T14:47:30.123Z", "2021-05-07", "2021-05", "2021",
		"0000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "2021-02-30", "2021-05-07T24:00:00Z", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, perr := ParseFHIRDateTime(s)
		ts, terr := V3TimestampFromFHIR(s)
		d, derr := V3DateFromFHIR(s)
		if perr != nil {
			if terr == nil || derr == nil || terr.Error() != perr.Error() || derr.Error() != perr.Error() {
				t.Fatalf("%q: reader refuses it (%v), conversions gave %q, %v and %q, %v", s, perr, ts, terr, d, derr)
			}
			return
		}
		if terr != nil || ts != tm.Format(V3TimeLayout) {
			t.Fatalf("V3TimestampFromFHIR(%q) = %q, %v, want %q", s, ts, terr, tm.Format(V3TimeLayout))
		}
		if derr != nil || d != tm.Format(V3DateLayout) {
			t.Fatalf("V3DateFromFHIR(%q) = %q, %v, want %q", s, d, derr, tm.Format(V3DateLayout))
		}
	})
}
