package dispense_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestDispenseFixturesRoundTrip takes every dispense notification and
// rebuild fixture of testdata v3 → FHIR → v3 and wants the fixture back.
func TestDispenseFixturesRoundTrip(t *testing.T) {
	dispensetest.RoundTripFixtures(t, "dispense", "rebuild")
}
