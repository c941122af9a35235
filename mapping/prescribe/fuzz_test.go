package prescribe

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// FuzzPrescribeV3ToFHIR feeds arbitrary bytes to the v3 → FHIR prescribing
// mapper (and what it makes back to v3): it must never panic, and a message
// it reads must map back to v3 or give an error.
func FuzzPrescribeV3ToFHIR(f *testing.F) {
	f.Add([]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`))
	f.Add([]byte(`<?xml version="1.0"?><PORX_IN020102SM31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN020102SM31>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, meta, err := PrescribeToFHIR(data, core.FixedEnv())
		if err != nil {
			if body != nil {
				t.Fatalf("FHIR returned with error %v", err)
			}
			return
		}
		if _, err := PrescribeToV3(body, meta, core.FixedEnv()); err != nil {
			t.Logf("FHIR made from v3 does not map back: %v", err)
		}
	})
}
