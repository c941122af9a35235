package core

import (
	"testing"
)

// FuzzSameSignedElementUnder holds SameSignedElementUnder, with
// "signatureText", to SameSignedElement with inSignature, the rule it
// tells once an element instead of once a child: two prescriptions whose
// line item (a signed part) and an element outside the parts hold any two
// bodies must get the same answer from both, each way round.
func FuzzSameSignedElementUnder(f *testing.F) {
	for _, s := range [][2]string{
		{`<signatureText><a/></signatureText>`, `<signatureText><a/></signatureText>`},
		{`<signatureText><a/></signatureText>`, `<signatureText><b/></signatureText>`},
		{`<signatureText>x<a/></signatureText>`, `<signatureText>x</signatureText>`},
		{`<signatureText/>`, `<signatureText/>`},
		{`<b><signatureText><a/></signatureText></b>`, `<b><signatureText/></b>`},
		{`<id root="R" extension="X"/>`, `<id extension="X" root="R"/>`},
		{`<code xmlns:x="urn:x" x:code="1" code="2"/>`, `<code xmlns:x="urn:x" x:code="1" code="2"/>`},
		{`<text>take one</text>`, `<text>take one </text>`},
		{`<?pi x?><text>a</text>`, `<text>a</text>`},
		{`<a/><b/>`, `<b/><a/>`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		pp, got := fuzzPrescription(x), fuzzPrescription(y)
		if pp == nil || got == nil {
			return
		}
		if now, was := SameSignedElementUnder(pp, got, "signatureText"), SameSignedElement(pp, got, inSignature); now != was {
			t.Fatalf("SameSignedElementUnder %t, SameSignedElement %t (%q, %q)", now, was, x, y)
		}
		if now, was := SameSignedElementUnder(got, pp, "signatureText"), SameSignedElement(got, pp, inSignature); now != was {
			t.Fatalf("reversed: SameSignedElementUnder %t, SameSignedElement %t (%q, %q)", now, was, x, y)
		}
	})
}
