package core

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// sameOwnReference is sameOwn as it was before its shortcuts
// (sameAttrsSwapped, noLeadingText): the rule they must not change.
func sameOwnReference(a, b *etree.Element) bool {
	return a.Tag == b.Tag && a.Space == b.Space &&
		(sameAttrsInOrder(a.Attr, b.Attr) || sameAttrsAnyOrder(a, b)) &&
		trimmedText(a) == trimmedText(b)
}

// sameElementReference is SameElement by sameOwnReference.
func sameElementReference(a, b *etree.Element, skip func(*etree.Element) bool) bool {
	if !sameOwnReference(a, b) {
		return false
	}
	i, j := 0, 0
	for {
		ae, be := nextElement(a, &i, skip), nextElement(b, &j, skip)
		if ae == nil || be == nil {
			return ae == be
		}
		if !sameElementReference(ae, be, skip) {
			return false
		}
	}
}

// fuzzPrescription is signedPrescription's shape with body as the content
// of its second line item (a signed part) and of an element outside the
// parts; nil when it is not well-formed.
func fuzzPrescription(body string) *etree.Element {
	var b strings.Builder
	b.WriteString(`<ParentPrescription xmlns="urn:hl7-org:v3"><id root="PP"/>` +
		`<recordTarget><Patient><id root="PAT"/></Patient></recordTarget>` +
		`<pertinentInformation1><pertinentPrescription><id root="RX"/>` +
		`<author><time value="20260101120000"/><signatureText><Signature>sig</Signature></signatureText>` +
		`<AgentPerson><id root="AUTH"/></AgentPerson></author>` +
		`<pertinentInformation2><pertinentLineItem><id root="ITEM-0"/></pertinentLineItem></pertinentInformation2>` +
		`<pertinentInformation2><pertinentLineItem>`)
	b.WriteString(body)
	b.WriteString(`</pertinentLineItem></pertinentInformation2><pertinentInformation4>`)
	b.WriteString(body)
	b.WriteString(`</pertinentInformation4></pertinentPrescription></pertinentInformation1></ParentPrescription>`)
	doc, err := v3.ReadXML([]byte(b.String()))
	if err != nil {
		return nil
	}
	return doc.Root()
}

// FuzzSameSignedElement holds the one-walk check to the two rules it stands
// for, each asked apart, with SameElement as it was before the walk's
// shortcuts: two prescriptions whose line item (and an element outside the
// parts) hold any two bodies. Its true must be both rules' true; where both
// say true it must too, unless the bodies hold an element the skip rules
// out (then it may send the question back). sameOwn and its shortcuts must
// answer as the reference for every pair of elements of the two bodies.
func FuzzSameSignedElement(f *testing.F) {
	for _, s := range [][2]string{
		{`<id root="R" extension="X"/>`, `<id extension="X" root="R"/>`},
		{`<id root="R" extension="X"/>`, `<id extension="R" root="X"/>`},
		{`<text>take one</text>`, `<text>take one </text>`},
		{"\n  <text>a</text>\n", `<text>a</text>`},
		{`<!--c--><text>a</text>`, `<text>a</text>`},
		{`<?pi x?><text>a</text>`, `<text>a</text>`},
		{`<![CDATA[ ]]><text>a</text>`, `<text>a</text>`},
		{"\ufeff<text>a</text>", `<text>a</text>`},
		{"\u0085<text>a</text>", `<text>a</text>`},
		{`x<text>a</text>`, `<text>a</text>`},
		{`<code code="1" codeSystem="2" displayName="d"/>`, `<code displayName="d" code="1" codeSystem="2"/>`},
		{`<code xmlns:x="urn:x" x:code="1" code="2"/>`, `<code code="2" xmlns:x="urn:x" x:code="1"/>`},
		{`<a/><b/>`, `<b/><a/>`},
		{`<a/>`, `<a/><a/>`},
		{`<signatureText><a/></signatureText>`, `<signatureText><a/></signatureText>`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, x, y string) {
		pp, got := fuzzPrescription(x), fuzzPrescription(y)
		if pp == nil || got == nil {
			return
		}
		one := SameSignedElement(pp, got, inSignature)
		both := sameElementReference(pp, got, inSignature) && v3.SameSignedParts(pp, got)
		if one && !both {
			t.Fatalf("SameSignedElement says the same, the two rules do not (%q, %q)", x, y)
		}
		if both && !one && !strings.Contains(x+y, "signatureText") {
			t.Fatalf("the two rules say the same, SameSignedElement does not (%q, %q)", x, y)
		}
		if SameElement(pp, got, inSignature) != sameElementReference(pp, got, inSignature) {
			t.Fatalf("SameElement differs from the reference (%q, %q)", x, y)
		}
		var all func(e *etree.Element, into []*etree.Element) []*etree.Element
		all = func(e *etree.Element, into []*etree.Element) []*etree.Element {
			into = append(into, e)
			for _, c := range e.ChildElements() {
				into = all(c, into)
			}
			return into
		}
		xs, ys := all(pp, nil), all(got, nil)
		if len(xs)*len(ys) > 4000 {
			return
		}
		for _, a := range xs {
			for _, b := range ys {
				if sameOwn(a, b) != sameOwnReference(a, b) {
					t.Fatalf("sameOwn(<%s>, <%s>) = %t, the reference %t (%q, %q)", a.Tag, b.Tag, sameOwn(a, b), !sameOwn(a, b), x, y)
				}
			}
		}
	})
}
