package cancel_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
)

// Translate a legacy cancel request into the EPS FHIR
// prescription-order-update message.
func ExampleCancelToFHIR() {
	payload, err := os.ReadFile("../../testdata/cancel/cancel_request_uk.xml")
	if err != nil {
		panic(err)
	}
	body, meta, err := cancel.CancelToFHIR(payload, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		panic(err)
	}
	h := fhir.EntriesOf[*fhir.MessageHeader](b)[0]
	fmt.Println(meta.Interaction, h.EventCoding.Code)
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		fmt.Println(mr.Status)
	}
	// Output:
	// PORX_IN030101UK32 prescription-order-update
	// cancelled
}
