package release_test

import (
	"fmt"
	"os"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/release"
)

// Translate a legacy nominated release request into the Parameters of the
// EPS FHIR API's Task/$release.
func ExampleReleaseRequestToFHIR() {
	payload, err := os.ReadFile("../../testdata/release/nominated-release-request-060102.xml")
	if err != nil {
		panic(err)
	}
	body, meta, err := release.ReleaseRequestToFHIR(payload, core.FixedEnv())
	if err != nil {
		panic(err)
	}
	res, err := fhir.DecodeResource(body)
	if err != nil {
		panic(err)
	}
	params := res.(*fhir.Parameters)
	fmt.Println(meta.Interaction)
	for _, p := range params.Parameter {
		fmt.Println(p.Name)
	}
	// Output:
	// PORX_IN060102UK30
	// owner
	// status
	// agent
}
