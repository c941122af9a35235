// Package racetest tells tests whether the race detector is on: under it
// allocation counts are the detector's own, so a test that holds code to
// an allocation count skips that check (SkipAllocs).
package racetest

import "testing"

// SkipAllocs skips t when the race detector is on, saying why: for a test
// (or subtest) whose point is an allocation count.
func SkipAllocs(t testing.TB) {
	t.Helper()
	if Enabled {
		t.Skip("allocation counts are the race detector's own under -race")
	}
}
