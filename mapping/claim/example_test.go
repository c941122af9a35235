package claim_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
)

// Translate a legacy dispense claim into the EPS FHIR Claim.
func ExampleClaimToFHIR() {
	payload, err := os.ReadFile("../../testdata/claim/claim-mixed-supplies.xml")
	if err != nil {
		panic(err)
	}
	body, meta, err := claim.ClaimToFHIR(payload, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	res, err := fhir.DecodeResource(body)
	if err != nil {
		panic(err)
	}
	c := res.(*fhir.Claim)
	fmt.Println(meta.Interaction, c.ResourceType, c.Status)
	fmt.Println("line items:", len(c.Item[0].Detail))
	// Output:
	// PORX_IN090101UK31 Claim active
	// line items: 2
}
