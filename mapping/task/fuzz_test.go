package task_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	"github.com/porxgate/porxgate/mapping/task"
)

// The seeds of these targets are committed under testdata/fuzz.

func FuzzReturnV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, task.ReturnTranslator(), data) })
}

func FuzzWithdrawV3ToFHIR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { dispensetest.FuzzV3(t, task.WithdrawTranslator(), data) })
}

func FuzzTaskFHIRToV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		dispensetest.FuzzFHIR(task.ReturnTranslator(), data)
		dispensetest.FuzzFHIR(task.WithdrawTranslator(), data)
	})
}
