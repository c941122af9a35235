package claim_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestClaimFixturesRoundTrip takes every dispense claim, reimbursement and
// no-claim fixture of testdata v3 → FHIR → v3 and wants the fixture back.
func TestClaimFixturesRoundTrip(t *testing.T) {
	dispensetest.RoundTripFixtures(t, "claim")
}
