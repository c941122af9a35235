package core

import (
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// ParseBundleIn decodes a FHIR -> v3 translation's message Bundle in the
// memory kept with sp, the v3 Space the translation writes in (a
// fhir.Space, its companion: see v3.Space.Companion), so that the
// Bundle's structs are reused from message to message as the v3 trees'
// are. The translation lends body as for fhir.ParseBundleBorrowed, and
// must return nothing that refers to the Bundle's structs (its strings
// are views of body): they are cleared when sp is given back. A nil sp
// decodes in fresh memory.
func ParseBundleIn(sp *v3.Space, body []byte) (*fhir.Bundle, error) {
	var in *fhir.Space
	if c := sp.Companion(newBundleSpace); c != nil {
		in = c.(*fhir.Space)
	}
	return fhir.ParseBundleIn(in, body)
}

// newBundleSpace makes the fhir.Space a v3 Space keeps (ParseBundleIn).
func newBundleSpace() v3.Companion { return &fhir.Space{} }
