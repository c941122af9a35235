package prescribe_test

import (
	"fmt"
	"os"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
)

// Translate a FHIR prescription-order message into the v3 Parent
// Prescription a legacy system would have sent.
func ExamplePrescribeToV3() {
	body, err := os.ReadFile("../../testdata/prescribe/acute-nurse-controlled-drug-unsigned.json")
	if err != nil {
		panic(err)
	}
	payload, err := prescribe.PrescribeToV3(body, mapping.Meta{}, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(payload); err != nil {
		panic(err)
	}
	fmt.Println(doc.Root().Tag)
	fmt.Println("line items:", len(doc.FindElements("//pertinentLineItem")))
	// Output:
	// PORX_IN020101UK31
	// line items: 1
}
