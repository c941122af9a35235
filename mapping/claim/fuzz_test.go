package claim_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// The seeds of these targets are committed under testdata/fuzz.

func FuzzClaimV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, claim.ClaimTranslator(), data) })
}

func FuzzClaimFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzFHIR(claim.ClaimTranslator(), data) })
}

func FuzzReimbursementV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, claim.ReimbursementTranslator(), data) })
}

func FuzzReimbursementFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzFHIR(claim.ReimbursementTranslator(), data) })
}
