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
		{"attribute dropped in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).SelectElement("product").RemoveAttr("display")
		}, false},
		{"attribute dropped outside the parts", func(_, got *etree.Element, n int) {
			item(got, 0).SelectElement("seperatableInd").RemoveAttr("value")
		}, false},
		{"attributes reordered in a line item", func(_, got *etree.Element, n int) {
			p := lineItem(got, n-1).SelectElement("product")
			p.Attr[0], p.Attr[1] = p.Attr[1], p.Attr[0]
		}, true},
		{"attributes reordered and one changed in a line item", func(_, got *etree.Element, n int) {
			p := lineItem(got, n-1).SelectElement("product")
			p.Attr[0], p.Attr[1] = p.Attr[1], p.Attr[0]
			p.Attr[0].Value += "0"
		}, false},
		{"attributes reordered, one prefixed, in a line item", func(pp, got *etree.Element, n int) {
			for _, e := range []*etree.Element{pp, got} {
				lineItem(e, n-1).SelectElement("product").CreateAttr("x:code", "1")
			}
			p := lineItem(got, n-1).SelectElement("product")
			p.Attr[0], p.Attr[2] = p.Attr[2], p.Attr[0]
		}, false},
		{"attribute renamed to the other's name in a line item", func(_, got *etree.Element, n int) {
			p := lineItem(got, n-1).SelectElement("product")
			p.Attr[0], p.Attr[1] = p.Attr[1], p.Attr[0]
			p.Attr[0].Key = p.Attr[1].Key
		}, false},
		{"attributes reordered outside the parts", func(_, got *etree.Element, _ int) {
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "code").CreateAttr("codeSystem", "x")
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "code").Attr[0].Key = "codeSystem"
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "code").Attr[1].Key = "code"
		}, false},
		{"element duplicated in a line item", func(_, got *etree.Element, n int) {
			li := lineItem(got, n/2)
			li.AddChild(li.SelectElement("text").Copy())
		}, false},
		{"element duplicated outside the parts", func(_, got *etree.Element, n int) {
			it := item(got, n/2)
			it.InsertChildAt(0, it.SelectElement("seperatableInd").Copy())
		}, false},
		{"white space added to text in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).SelectElement("text").SetText("take " + fmt.Sprint(n-1) + " ")
		}, false},
		{"white space between elements in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(1, etree.NewText("\n  "))
		}, true},
		{"text before the first element of a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(0, etree.NewText("x"))
		}, false},
		{"text after the last element of a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).CreateText("x")
		}, false},
		{"CDATA white space in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(1, etree.NewCData(" "))
		}, false},
		{"comment in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(1, etree.NewComment("note"))
		}, true},
		{"comment outside the parts", func(_, got *etree.Element, _ int) {
			got.InsertChildAt(1, etree.NewComment("note"))
		}, true},
		{"processing instruction in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(1, etree.NewProcInst("x", "y"))
		}, false},
		{"processing instructions differing in a line item", func(pp, got *etree.Element, n int) {
			lineItem(pp, n-1).InsertChildAt(1, etree.NewProcInst("x", "y"))
			lineItem(got, n-1).InsertChildAt(1, etree.NewProcInst("x", "z"))
		}, false},
		{"processing instructions alike in a line item", func(pp, got *etree.Element, n int) {
			lineItem(pp, n-1).InsertChildAt(1, etree.NewProcInst("x", "y"))
			lineItem(got, n-1).InsertChildAt(1, etree.NewProcInst("x", "y"))
		}, true},
		{"processing instruction outside the parts", func(_, got *etree.Element, _ int) {
			got.InsertChildAt(1, etree.NewProcInst("x", "y"))
		}, true},
		{"comment in place of white space in a line item's text", func(pp, got *etree.Element, n int) {
			for _, e := range []*etree.Element{pp, got} {
				lineItem(e, n-1).SelectElement("text").SetText("take")
			}
			tx := lineItem(got, n-1).SelectElement("text")
			tx.CreateComment("c")
			tx.CreateText(" more")
			lineItem(pp, n-1).SelectElement("text").SetText("take more")
		}, false},
		{"byte order mark before the first element of a line item", func(_, got *etree.Element, n int) {
			// White space to the fragments (JavaScript's trim), text to
			// SameElement (Go's): the two rules differ here, and each
			// must be asked.
			lineItem(got, n-1).InsertChildAt(0, etree.NewText("\ufeff"))
		}, false},
		{"next line before the first element of a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).InsertChildAt(0, etree.NewText("\u0085"))
		}, false},
		{"namespace of an element changed in a line item", func(_, got *etree.Element, n int) {
			lineItem(got, n-1).SelectElement("text").Space = "x"
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

// TestSameAttrsSwapped holds sameAttrsSwapped, which SameElement and the
// signed parts' walk trust two attributes in the other order on, to the
// comparisons it stands for: where it says true, sameAttrsAnyOrder and
// v3.SameSignedAttrs must both; and it must say true for the EPS API's
// id, whose extension comes before its root.
func TestSameAttrsSwapped(t *testing.T) {
	// el makes an element of the attributes as listed, prefixes split off,
	// the same name twice included (which etree's CreateAttr would merge).
	el := func(attrs ...string) *etree.Element {
		e := etree.NewElement("id")
		for i := 0; i+1 < len(attrs); i += 2 {
			space, key, ok := strings.Cut(attrs[i], ":")
			if !ok {
				space, key = "", attrs[i]
			}
			e.Attr = append(e.Attr, etree.Attr{Space: space, Key: key, Value: attrs[i+1]})
		}
		return e
	}
	lists := []*etree.Element{
		el("extension", "X", "root", "R"),
		el("root", "R", "extension", "X"),
		el("root", "X", "extension", "R"),
		el("root", "R", "extension", "Y"),
		el("root", "R"),
		el("root", "R", "extension", "X", "other", "O"),
		el("x:root", "R", "extension", "X"),
		el("extension", "X", "x:root", "R"),
		el("root", "R", "x:root", "R"),
		el("x:root", "R", "root", "R"),
		el("xmlns", "urn:hl7-org:v3", "root", "R"),
		el("root", "R", "xmlns", "urn:hl7-org:v3"),
		el("root", "R", "xmlns", "urn:other"),
		el("xmlns:x", "urn:x", "root", "R"),
		el("root", "R", "xmlns:x", "urn:x"),
		el("root", "R", "root", "R"),
		el("root", "R", "root", "X"),
		el("root", "X", "root", "R"),
		el("root", "R", "ROOT", "R"),
		el("ROOT", "R", "root", "R"),
	}
	trusted := 0
	for i, a := range lists {
		for j, b := range lists {
			if !sameAttrsSwapped(a.Attr, b.Attr) {
				continue
			}
			trusted++
			if !sameAttrsAnyOrder(a, b) || !v3.SameSignedAttrs(a, b) {
				t.Errorf("lists %d and %d: swapped, but sameAttrsAnyOrder %t, v3.SameSignedAttrs %t",
					i, j, sameAttrsAnyOrder(a, b), v3.SameSignedAttrs(a, b))
			}
		}
	}
	if !sameAttrsSwapped(lists[0].Attr, lists[1].Attr) {
		t.Error("the EPS API's id and porxgate's not told swapped")
	}
	if trusted == 0 {
		t.Fatal("no pair told swapped")
	}
}

// TestSameSignedElementSkipInPart: an element skip rules out on one side
// only, inside a part, shifts what SameElement pairs there though the
// fragments see the two parts alike; the one walk must then not say the
// same.
func TestSameSignedElementSkipInPart(t *testing.T) {
	pp := signedPrescription(t, 3)
	got := pp.Copy()
	li := v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "pertinentInformation2", "pertinentLineItem")
	odd := li.SelectElement("product")
	skip := func(e *etree.Element) bool { return inSignature(e) || e == odd }
	if SameElement(pp, got, skip) {
		t.Fatal("SameElement takes the prescriptions for the same")
	}
	if !v3.SameSignedParts(pp, got) {
		t.Fatal("the fragments differ")
	}
	if SameSignedElement(pp, got, skip) {
		t.Error("SameSignedElement says the same, SameElement does not")
	}
	if SameSignedElement(got, pp, skip) {
		t.Error("reversed: SameSignedElement says the same, SameElement does not")
	}
}
