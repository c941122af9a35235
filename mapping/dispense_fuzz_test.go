package mapping_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/task"
)

// dispFuzzEnv is the environment the fuzz targets translate under.
func dispFuzzEnv() core.Env {
	env := dispTestEnv()
	return env
}

// dispFuzzV3 checks that a v3 reader never panics and that whatever FHIR it
// makes can be written back to v3.
func dispFuzzV3(t *testing.T, tr *core.Translator, data []byte) {
	body, meta, err := tr.ToFHIR(data, dispFuzzEnv())
	if err != nil {
		return
	}
	if _, err := tr.ToV3(body, meta, dispFuzzEnv()); err != nil {
		t.Fatalf("v3 accepted but its FHIR is rejected: %v\nFHIR: %s", err, body)
	}
}

// dispFuzzFHIR checks that a FHIR reader never panics.
func dispFuzzFHIR(tr *core.Translator, data []byte) {
	_, _ = tr.ToV3(data, core.Meta{}, dispFuzzEnv())
}

func FuzzDispenseV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, dispense.DispenseTranslator(), data) })
}

func FuzzDispenseFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzFHIR(dispense.DispenseTranslator(), data) })
}

func FuzzClaimV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, claim.ClaimTranslator(), data) })
}

func FuzzClaimFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzFHIR(claim.ClaimTranslator(), data) })
}

func FuzzReturnV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, task.ReturnTranslator(), data) })
}

func FuzzWithdrawV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, task.WithdrawTranslator(), data) })
}

func FuzzTaskFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		dispFuzzFHIR(task.ReturnTranslator(), data)
		dispFuzzFHIR(task.WithdrawTranslator(), data)
	})
}

func FuzzRebuildV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, dispense.RebuildTranslator(), data) })
}

func FuzzRebuildFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzFHIR(dispense.RebuildTranslator(), data) })
}

func FuzzReimbursementV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzV3(t, claim.ReimbursementTranslator(), data) })
}

func FuzzReimbursementFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispFuzzFHIR(claim.ReimbursementTranslator(), data) })
}
