package core

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// signedPrescription returns a small signed ParentPrescription of n line
// items, shaped as v3.SignedParts finds its parts, each item told apart by
// its id, code and text.
func signedPrescription(t *testing.T, n int) *etree.Element {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<ParentPrescription xmlns="urn:hl7-org:v3"><id root="PP"/>` +
		`<recordTarget><Patient><id root="PAT"/><name>Ann</name></Patient></recordTarget>` +
		`<pertinentInformation1><pertinentPrescription><id root="RX"/><code code="225426007"/>` +
		`<author><time value="20260101120000"/><signatureText><Signature>sig</Signature></signatureText>` +
		`<AgentPerson><id root="AUTH"/></AgentPerson></author>`)
	for i := range n {
		fmt.Fprintf(&b, `<pertinentInformation2><seperatableInd value="true"/><pertinentLineItem>`+
			`<id root="ITEM-%d"/><product code="%d" display="drug %d"/><text>take %d</text></pertinentLineItem>`+
			`</pertinentInformation2>`, i, i, i, i)
	}
	b.WriteString(`<pertinentInformation4><value code="0001"/></pertinentInformation4>` +
		`</pertinentPrescription></pertinentInformation1></ParentPrescription>`)
	d := etree.NewDocument()
	if err := d.ReadFromString(b.String()); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

// inSignature is prescribe.InSignature, which core cannot import.
func inSignature(e *etree.Element) bool {
	p := e.Parent()
	return p != nil && p.Tag == "signatureText"
}

// TestSameSignedElementManyItems holds SameSignedElement to the two rules
// it stands for (SameElement with the signature skipped, then
// v3.SameSignedParts) on prescriptions of 1 to 40 line items changed in and
// outside the signed parts: what the walk looks up by where the last line
// item was (partIndex) must miss no difference however the items are
// dropped, added, repeated or moved, and must find every part where it is.
func TestSameSignedElementManyItems(t *testing.T) {
	rx := func(pp *etree.Element) *etree.Element {
		return v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription")
	}
	item := func(pp *etree.Element, k int) *etree.Element {
		return rx(pp).SelectElements("pertinentInformation2")[k]
	}
	lineItem := func(pp *etree.Element, k int) *etree.Element {
		return item(pp, k).SelectElement("pertinentLineItem")
	}
	for _, tc := range []struct {
		name string
		// edit changes got, the copy compared with the prescription of n
		// items (n >= 3); b is pp when the change is made to both.
		edit func(pp, got *etree.Element, n int)
		same bool
	}{
		{"as written", func(*etree.Element, *etree.Element, int) {}, true},
		{"attribute changed in the last line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).SelectElement("product").CreateAttr("code", "x")
		}, false},
		{"attribute added in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n/2).SelectElement("product").CreateAttr("extra", "x")
		}, false},
		{"attribute changed in the patient", func(_, got *etree.Element, _ int) {
			v3.FindPath(got, "recordTarget", "Patient", "id").CreateAttr("root", "x")
		}, false},
		{"attribute changed outside the parts", func(_, got *etree.Element, n int) {
			item(got, n-1).SelectElement("seperatableInd").CreateAttr("value", "false")
		}, false},
		{"attribute changed outside the parts after the items", func(_, got *etree.Element, _ int) {
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "pertinentInformation4", "value").CreateAttr("code", "0002")
		}, false},
		{"text changed in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-2).SelectElement("text").SetText("take 99")
		}, false},
		{"text changed outside the parts", func(_, got *etree.Element, _ int) {
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "code").SetText("x")
		}, false},
		{"element dropped in a line item", func(_, got *etree.Element, n int) {
			li := lineItem(got, n-1)
			li.RemoveChild(li.SelectElement("text"))
		}, false},
		{"element dropped outside the parts", func(_, got *etree.Element, n int) {
			it := item(got, n/2)
			it.RemoveChild(it.SelectElement("seperatableInd"))
		}, false},
		{"children reordered in a line item", func(_, got *etree.Element, n int) {
			li := lineItem(got, 1)
			li.AddChild(li.SelectElement("id"))
		}, false},
		{"last line item dropped", func(_, got *etree.Element, n int) {
			rx(got).RemoveChild(item(got, n-1))
		}, false},
		{"middle line item dropped", func(_, got *etree.Element, n int) {
			rx(got).RemoveChild(item(got, n/2))
		}, false},
		{"line item repeated", func(_, got *etree.Element, n int) {
			it := item(got, n/2)
			rx(got).InsertChildAt(it.Index()+1, it.Copy())
		}, false},
		{"line item repeated in place of the next", func(_, got *etree.Element, n int) {
			next := item(got, 2)
			rx(got).InsertChildAt(next.Index(), item(got, 1).Copy())
			rx(got).RemoveChild(next)
		}, false},
		{"line items swapped", func(_, got *etree.Element, n int) {
			a, b := item(got, 0), item(got, n-1)
			rx(got).RemoveChild(b)
			rx(got).InsertChildAt(a.Index(), b)
		}, false},
		{"line item moved after the next", func(_, got *etree.Element, n int) {
			a := item(got, 1)
			rx(got).RemoveChild(a)
			rx(got).InsertChildAt(item(got, 1).Index()+1, a)
		}, false},
		{"second pertinentLineItem in an item of both", func(pp, got *etree.Element, n int) {
			for _, e := range []*etree.Element{pp, got} {
				item(e, n/2).CreateElement("pertinentLineItem").CreateAttr("classCode", "SBADM")
			}
		}, true},
		{"second pertinentLineItem in an item of one", func(_, got *etree.Element, n int) {
			item(got, n/2).CreateElement("pertinentLineItem").CreateAttr("classCode", "SBADM")
		}, false},
		{"second pertinentLineItems differing", func(pp, got *etree.Element, n int) {
			item(pp, n/2).CreateElement("pertinentLineItem").CreateAttr("classCode", "SBADM")
			item(got, n/2).CreateElement("pertinentLineItem").CreateAttr("classCode", "X")
		}, false},
		{"pertinentLineItem outside the items in both", func(pp, got *etree.Element, _ int) {
			for _, e := range []*etree.Element{pp, got} {
				rx(e).InsertChildAt(0, etree.NewElement("pertinentLineItem"))
			}
		}, true},
		{"pertinentLineItem outside the items in one", func(_, got *etree.Element, _ int) {
			rx(got).InsertChildAt(0, etree.NewElement("pertinentLineItem"))
		}, false},
		{"a line item standing where the first item's stood", func(_, got *etree.Element, _ int) {
			// The first item's own line item taken out and the second's
			// moved into its place: the part lists pair differently.
			first := item(got, 0)
			first.RemoveChild(first.SelectElement("pertinentLineItem"))
			second := item(got, 1)
			li := second.SelectElement("pertinentLineItem")
			second.RemoveChild(li)
			first.AddChild(li)
		}, false},
		{"signature differing (skipped)", func(_, got *etree.Element, _ int) {
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "author", "signatureText", "Signature").SetText("other")
		}, true},
	} {
		for _, n := range []int{3, 4, 20, 40} {
			t.Run(fmt.Sprintf("%s/items=%d", tc.name, n), func(t *testing.T) {
				pp := signedPrescription(t, n)
				got := pp.Copy()
				tc.edit(pp, got, n)
				both := SameElement(pp, got, inSignature) && v3.SameSignedParts(pp, got)
				if both != tc.same {
					t.Fatalf("the two rules say %t, want %t", both, tc.same)
				}
				if one := SameSignedElement(pp, got, inSignature); one != both {
					t.Errorf("SameSignedElement = %t, the two rules %t", one, both)
				}
				// Asked the other way round.
				if one, both := SameSignedElement(got, pp, inSignature), SameElement(got, pp, inSignature) && v3.SameSignedParts(got, pp); one != both {
					t.Errorf("reversed: SameSignedElement = %t, the two rules %t", one, both)
				}
			})
		}
	}
}

// TestPartIndexAsIndex holds partIndex to slices.Index over every element
// of a prescription, met in document order (as the walk meets them) and
// in reverse (where the last found line item is no guide).
func TestPartIndexAsIndex(t *testing.T) {
	pp := signedPrescription(t, 12)
	// A pertinentLineItem that is not a part, between the items.
	v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription", "pertinentInformation2").CreateElement("pertinentLineItem")
	parts := v3.SignedParts(pp)
	if len(parts) != signedFixedParts+12 {
		t.Fatalf("%d parts", len(parts))
	}
	var all []*etree.Element
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		all = append(all, e)
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(pp)
	for _, order := range []string{"document", "reverse"} {
		if order == "reverse" {
			slices.Reverse(all)
		}
		item, found := 0, 0
		for _, el := range all {
			want := slices.Index(parts, el)
			if got := partIndex(parts, el, &item); got != want {
				t.Errorf("%s order: <%s> at %d, want %d", order, el.Tag, got, want)
			}
			if want >= 0 {
				found++
			}
		}
		if found != len(parts) {
			t.Errorf("%s order: %d parts met, want %d", order, found, len(parts))
		}
	}
}
