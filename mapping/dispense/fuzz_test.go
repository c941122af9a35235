package dispense_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// The seeds of these targets are committed under testdata/fuzz.

func FuzzDispenseV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, dispense.DispenseTranslator(), data) })
}

func FuzzDispenseFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzFHIR(dispense.DispenseTranslator(), data) })
}

func FuzzRebuildV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, dispense.RebuildTranslator(), data) })
}

func FuzzRebuildFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzFHIR(dispense.RebuildTranslator(), data) })
}
