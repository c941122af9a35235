package gateway

import (
	"testing"
	"time"
)

// TestParseRecovered: a recoveredSet member is read back as written, and
// what is not one (an older or foreign member, cut short) is refused.
func TestParseRecovered(t *testing.T) {
	at := time.UnixMilli(1_765_000_000_123).UTC()
	if sf, got, ok := parseRecovered(recoveredMember(rxID, at)); !ok || sf != rxID || !got.Equal(at) {
		t.Fatalf("round trip = %q %v %v, want %q %v", sf, got, ok, rxID, at)
	}
	for _, m := range []string{"", "@", rxID, rxID + "@", "@1765000000123", rxID + "@12x", rxID + "@1@tag", rxID + "@ 1"} {
		if sf, _, ok := parseRecovered(m); ok {
			t.Errorf("parseRecovered(%q) = %q, true; want false", m, sf)
		}
	}
}
