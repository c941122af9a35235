package dispense_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
)

// Translate a legacy dispense notification into the EPS FHIR
// dispense-notification message.
func ExampleDispenseToFHIR() {
	payload, err := os.ReadFile("../../testdata/dispense/dn-full-two-items.xml")
	if err != nil {
		panic(err)
	}
	body, meta, err := dispense.DispenseToFHIR(payload, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		panic(err)
	}
	h := fhir.EntriesOf[*fhir.MessageHeader](b)[0]
	fmt.Println(meta.Interaction, h.EventCoding.Code)
	fmt.Println("dispenses:", len(fhir.EntriesOf[*fhir.MedicationDispense](b)))
	// Output:
	// PORX_IN080101UK31 dispense-notification
	// dispenses: 2
}
