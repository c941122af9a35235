package core

import (
	"github.com/beevik/etree"
)

// SignaturePlacement is a checked signature fragment waiting to be put
// into its signatureText element, byte for byte.
type SignaturePlacement struct {
	El  *etree.Element
	Raw []byte
}

// SignatureMarker stands in for the signature until the document is
// serialised, which writes the fragment's own bytes in its place.
const SignatureMarker = "porxgate-signature"

// Insert marks the place of the fragment (after indentation).
func (s *SignaturePlacement) Insert() {
	s.El.CreateComment(SignatureMarker)
}
