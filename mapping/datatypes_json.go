package mapping

import (
	"github.com/porxgate/porxgate/fhir"
)

// DecodeBundle decodes a FHIR Bundle (fhir.ParseBundle: each resource
// straight into its Go type, decimals kept as written).
func DecodeBundle(data []byte) (*fhir.Bundle, error) {
	return fhir.ParseBundle(data)
}

// MarshalBundle writes a Bundle as compact JSON without HTML escaping.
func MarshalBundle(b *fhir.Bundle) ([]byte, error) {
	return fhir.Marshal(b)
}
