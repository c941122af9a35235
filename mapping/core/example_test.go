package core_test

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
)

// Translate the EPS FHIR API's error answer to a prescription into the Spine
// error a legacy prescribing system reads in its acknowledgement.
func ExampleV3ErrorFromOutcome() {
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{
		maptest.Issue("error", "business-rule", "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode",
			"PATIENT_DECEASED", "Patient is deceased", ""),
	}}
	v3err, err := core.V3ErrorFromOutcome(oo, 400, core.ErrorFamilyPrescribe)
	if err != nil {
		panic(err)
	}
	fmt.Println(v3err.TypeCode)
	for _, c := range v3err.Codes {
		fmt.Println(c.Code, c.Display)
	}
	// Output:
	// AE
	// 0001 Patient is deceased
}
