package release

import (
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping/core"
)

// exemptionDatesByTime is exemptionDates as time's parser and formatter
// give it: the reference the faster one is held to.
func exemptionDatesByTime(birth string) (low, high string, ok bool) {
	if len(birth) < 8 {
		return "", "", false
	}
	t, err := time.Parse(core.V3DateLayout, birth[:8])
	if err != nil {
		return "", "", false
	}
	return t.AddDate(16, 0, -1).Format(core.V3DateLayout), t.AddDate(60, 0, 0).Format(core.V3DateLayout), true
}

// TestExemptionDates holds exemptionDates to time's parser and formatter
// over birth dates at the ends of months and years, in leap years and
// around them, malformed ones and every day of a few years.
func TestExemptionDates(t *testing.T) {
	births := []string{"20110614", "20080229", "20000229", "19000228", "19000229", "18400229", "20840229",
		"20230229", "20240229", "20081231", "20080101", "20080100", "20081301", "20080001", "20080431", "20080430",
		"00000101", "99991231", "99400101", "20080101120000", "2008010", "", "2008-101", "+0080101", "2008 101",
		"２００８0101", "20080132", "00000229", "00040229"}
	for d := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2002; d = d.AddDate(0, 0, 1) {
		births = append(births, d.Format(core.V3DateLayout))
	}
	for _, b := range births {
		low, high, ok := exemptionDates(b)
		wlow, whigh, wok := exemptionDatesByTime(b)
		if low != wlow || high != whigh || ok != wok {
			t.Errorf("exemptionDates(%q) = %q, %q, %v; time gives %q, %q, %v", b, low, high, ok, wlow, whigh, wok)
		}
	}
}

// FuzzExemptionDates holds exemptionDates to time's parser and formatter
// for any text.
func FuzzExemptionDates(f *testing.F) {
	f.Add("20080229")
	f.Add("99991231")
	f.Fuzz(func(t *testing.T, b string) {
		low, high, ok := exemptionDates(b)
		wlow, whigh, wok := exemptionDatesByTime(b)
		if low != wlow || high != whigh || ok != wok {
			t.Fatalf("exemptionDates(%q) = %q, %q, %v; time gives %q, %q, %v", b, low, high, ok, wlow, whigh, wok)
		}
	})
}
