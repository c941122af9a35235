package task_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestTaskFixturesRoundTrip takes every return and withdraw fixture of
// testdata v3 → FHIR → v3 and wants the fixture back.
func TestTaskFixturesRoundTrip(t *testing.T) {
	dispensetest.RoundTripFixtures(t, "return", "withdraw")
}
