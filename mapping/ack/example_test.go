package ack_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/mapping/ack"
)

// Read a Spine application acknowledgement and turn it into the
// OperationOutcome the EPS FHIR API answers with.
func ExampleAckToOutcome() {
	data, err := os.ReadFile("../../testdata/acks/ae_prescribe_two_errors.xml")
	if err != nil {
		panic(err)
	}
	a, err := ack.ParseAck(data)
	if err != nil {
		panic(err)
	}
	oo, meta := ack.AckToOutcome(a)
	fmt.Println(meta.Interaction, a.TypeCode)
	for _, iss := range oo.Issue {
		fmt.Println(iss.Severity, iss.Code, iss.Details.Coding[0].Code)
	}
	// Output:
	// MCCI_IN010000UK13 AE
	// error business-rule PATIENT_DECEASED
	// error processing FAILURE_TO_PROCESS_MESSAGE
}
