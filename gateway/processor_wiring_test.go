package gateway

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
)

// TestWarmFHIRCodecs: every resource type the warm-up names is one the
// FHIR codec models (a renamed or dropped type would leave its encoder to
// be compiled by every worker at once again), and the warm-up runs.
func TestWarmFHIRCodecs(t *testing.T) {
	for _, rt := range warmResourceTypes {
		res, err := fhir.DecodeResource([]byte(`{"resourceType":"` + rt + `"}`))
		if _, raw := res.(*fhir.RawResource); err != nil || res == nil || raw || res.GetResourceType() != rt {
			t.Errorf("resource type %s: decoded %v, %v", rt, res, err)
		}
	}
	warmFHIRCodecs()
}
