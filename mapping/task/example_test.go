package task_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/task"
)

// Translate a legacy dispense proposal return into the EPS FHIR Task that
// returns the prescription to the spine.
func ExampleReturnToFHIR() {
	payload, err := os.ReadFile("../../testdata/return/return-erd.xml")
	if err != nil {
		panic(err)
	}
	body, meta, err := task.ReturnToFHIR(payload, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	res, err := fhir.DecodeResource(body)
	if err != nil {
		panic(err)
	}
	t := res.(*fhir.Task)
	fmt.Println(meta.Interaction, t.ResourceType, t.Status)
	// Output:
	// PORX_IN100101UK31 Task rejected
}
