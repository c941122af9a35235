package core

import (
	"strings"
	"testing"
)

// FuzzFHIRDateTimeFromV3 checks the v3 TS reader on any text: it never
// panics, whatever it accepts is a FHIR dateTime (or date) the FHIR
// reader takes back, and a TS of seconds comes back as written.
func FuzzFHIRDateTimeFromV3(f *testing.F) {
	for _, s := range []string{"20210507144730", "20210507144730.123+0100", "20210507144730+01", "202105071447+0100",
		"2021050714", "20210507", "202105", "2021", "20210507144730.", "20210507144730+1", "", "x", "99999999999999.9-9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ts string) {
		got, err := FHIRDateTimeFromV3(ts)
		if err != nil {
			return
		}
		if _, err := ParseFHIRDateTime(got); err != nil {
			t.Fatalf("FHIRDateTimeFromV3(%q) = %q, which the FHIR reader refuses: %v", ts, got, err)
		}
		if len(ts) == 14 && !strings.ContainsAny(ts, ".+-") {
			if back, err := V3TimestampFromFHIR(got); err != nil || back != ts {
				t.Fatalf("%q → %q → %q, %v", ts, got, back, err)
			}
		}
		if _, err := FHIRDateFromV3(ts); err != nil {
			t.Fatalf("FHIRDateFromV3(%q) refused what FHIRDateTimeFromV3 took: %v", ts, err)
		}
	})
}
