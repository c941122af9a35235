package prescribe

import (
	"slices"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSameSignedElementAgreesWithBothRules checks core.SameSignedElement,
// the one-walk check carryUnrepresented trusts a written-back signed
// prescription on, against the two checks it stands for
// (core.SameElement with InSignature, then v3.SameSignedParts) on each
// signed message and its written-back ParentPrescription, as written and
// changed inside and outside the signed parts. Its true must never be
// theirs false (the signature guard would pass a prescription whose
// signed bytes changed), and it must answer as they do except where it is
// documented to send the question back (an element skip rules out inside
// a part).
func TestSameSignedElementAgreesWithBothRules(t *testing.T) {
	type change struct {
		name string
		// apply changes the written-back ParentPrescription got (pp is a
		// copy of the one read, which a change may alter too).
		apply func(t *testing.T, pp, got *etree.Element)
		// mayDecline: SameSignedElement may say false where both rules say
		// true.
		mayDecline bool
		// differs: the change is a difference both must see (false).
		differs bool
	}
	lineItem := func(t *testing.T, pp *etree.Element) *etree.Element {
		t.Helper()
		parts := v3.SignedParts(pp)
		if parts == nil {
			t.Fatal("no signed parts")
		}
		return parts[len(parts)-1]
	}
	changes := []change{
		{name: "as written back", apply: func(*testing.T, *etree.Element, *etree.Element) {}},
		{name: "text changed in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			c := firstText(lineItem(t, got))
			if c == nil {
				t.Skip("no text in the line item")
			}
			c.Data += "x"
		}},
		{name: "text changed outside the parts", apply: func(t *testing.T, _, got *etree.Element) {
			el := v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "pertinentInformation4")
			if el == nil {
				el = got.SelectElement("effectiveTime")
			}
			if el == nil {
				t.Skip("no element outside the parts to change")
			}
			el.CreateAttr("value", "20000101")
		}},
		{name: "processing instruction in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			lineItem(t, got).CreateProcInst("x", "y")
		}},
		{name: "processing instruction outside the parts", apply: func(_ *testing.T, _, got *etree.Element) {
			got.CreateProcInst("x", "y")
		}},
		{name: "white space in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			lineItem(t, got).CreateText("\n   ")
		}},
		{name: "comment in the patient", apply: func(_ *testing.T, _, got *etree.Element) {
			got.SelectElement("recordTarget").CreateComment("note")
		}},
		{name: "no-break space alone in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			lineItem(t, got).CreateText("\u00a0")
		}},
		{name: "CDATA for text in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			c := firstText(lineItem(t, got))
			if c == nil {
				t.Skip("no text in the line item")
			}
			p := c.Parent()
			i := c.Index()
			p.RemoveChildAt(i)
			p.InsertChildAt(i, etree.NewCData(c.Data))
		}},
		{name: "prefixed attribute in a line item", apply: func(t *testing.T, pp, got *etree.Element) {
			lineItem(t, pp).CreateAttr("xsi:type", "PORX_MT000000UK00.LineItem")
			lineItem(t, got).CreateAttr("xsi:type", "PORX_MT000000UK00.LineItem")
		}},
		{name: "prefixed element in the patient", apply: func(_ *testing.T, _, got *etree.Element) {
			got.SelectElement("recordTarget").Space = "hl7"
		}},
		{name: "children swapped outside the parts", apply: func(t *testing.T, _, got *etree.Element) {
			kids := got.ChildElements()
			if len(kids) < 2 {
				t.Skip("fewer than two children")
			}
			got.RemoveChild(kids[0])
			got.InsertChildAt(kids[1].Index()+1, kids[0])
		}},
		{name: "line items swapped", apply: func(t *testing.T, _, got *etree.Element) {
			rx := v3.FindPath(got, "pertinentInformation1", "pertinentPrescription")
			items := rx.SelectElements("pertinentInformation2")
			if len(items) < 2 {
				t.Skip("one line item")
			}
			rx.RemoveChild(items[0])
			rx.InsertChildAt(items[1].Index()+1, items[0])
		}},
		{name: "skipped elements differing inside a line item", apply: func(t *testing.T, pp, got *etree.Element) {
			lineItem(t, pp).CreateElement("signatureText").CreateElement("a")
			lineItem(t, got).CreateElement("signatureText").CreateElement("b")
		}},
		{name: "skipped elements alike inside a line item", mayDecline: true, apply: func(t *testing.T, pp, got *etree.Element) {
			lineItem(t, pp).CreateElement("signatureText").CreateElement("a")
			lineItem(t, got).CreateElement("signatureText").CreateElement("a")
		}},
		{name: "element added to the author's AgentPerson", apply: func(_ *testing.T, _, got *etree.Element) {
			v3.FindPath(got, "pertinentInformation1", "pertinentPrescription", "author", "AgentPerson").CreateElement("extra")
		}, differs: true},
		{name: "attribute changed in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			id := lineItem(t, got).SelectElement("id")
			id.CreateAttr("root", id.SelectAttrValue("root", "")+"0")
		}},
		{name: "attribute changed in the patient", differs: true, apply: func(_ *testing.T, _, got *etree.Element) {
			id := v3.FindPath(got, "recordTarget", "Patient", "id")
			id.CreateAttr("extension", id.SelectAttrValue("extension", "")+"0")
		}},
		{name: "attribute dropped in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			lineItem(t, got).SelectElement("id").RemoveAttr("root")
		}},
		{name: "attribute added in the patient", differs: true, apply: func(_ *testing.T, _, got *etree.Element) {
			v3.FindPath(got, "recordTarget", "Patient", "id").CreateAttr("assigningAuthorityName", "x")
		}},
		{name: "attribute added outside the parts", differs: true, apply: func(_ *testing.T, _, got *etree.Element) {
			got.SelectElement("effectiveTime").CreateAttr("nullFlavor", "NI")
		}},
		{name: "attributes of every element in the other order", apply: func(t *testing.T, _, got *etree.Element) {
			var walk func(*etree.Element)
			walk = func(e *etree.Element) {
				slices.Reverse(e.Attr)
				for _, c := range e.ChildElements() {
					walk(c)
				}
			}
			walk(got)
		}},
		{name: "attributes in the other order, a value changed, in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			id := lineItem(t, got).SelectElement("id")
			id.CreateAttr("extension", "x")
			slices.Reverse(id.Attr)
			id.Attr[len(id.Attr)-1].Value += "0"
		}},
		{name: "element duplicated in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			li := lineItem(t, got)
			first := li.ChildElements()[0]
			li.InsertChildAt(first.Index(), first.Copy())
		}},
		{name: "element duplicated outside the parts", differs: true, apply: func(_ *testing.T, _, got *etree.Element) {
			et := got.SelectElement("effectiveTime")
			got.InsertChildAt(et.Index(), et.Copy())
		}},
		{name: "children reordered in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			li := lineItem(t, got)
			kids := li.ChildElements()
			li.RemoveChild(kids[0])
			li.AddChild(kids[0])
		}},
		{name: "white space added to text in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			c := firstText(lineItem(t, got))
			if c == nil {
				t.Skip("no text in the line item")
			}
			c.Data += " "
		}},
		{name: "comment in a line item", apply: func(t *testing.T, _, got *etree.Element) {
			lineItem(t, got).InsertChildAt(0, etree.NewComment("note"))
		}},
		{name: "comment outside the parts", apply: func(_ *testing.T, _, got *etree.Element) {
			got.InsertChildAt(0, etree.NewComment("note"))
		}},
		{name: "element dropped in a line item", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			li := lineItem(t, got)
			li.RemoveChild(li.ChildElements()[len(li.ChildElements())-1])
		}},
		{name: "element dropped outside the parts", differs: true, apply: func(_ *testing.T, _, got *etree.Element) {
			got.RemoveChild(got.SelectElement("effectiveTime"))
		}},
		{name: "line item repeated", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			rx := v3.FindPath(got, "pertinentInformation1", "pertinentPrescription")
			items := rx.SelectElements("pertinentInformation2")
			last := items[len(items)-1]
			rx.InsertChildAt(last.Index()+1, last.Copy())
		}},
		{name: "last line item dropped", differs: true, apply: func(t *testing.T, _, got *etree.Element) {
			rx := v3.FindPath(got, "pertinentInformation1", "pertinentPrescription")
			items := rx.SelectElements("pertinentInformation2")
			rx.RemoveChild(items[len(items)-1])
		}},
	}
	trusted := 0
	for _, m := range scratchMessages(t) {
		sp := v3.NewScratch().Get()
		_, root, _, err := core.OpenV3In(sp, m, benchEnv(), "Parent Prescription", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
		if err != nil {
			continue // the refused message
		}
		_, subject := v3.ReadWrapper(root)
		read := subject.Child("ParentPrescription")
		if !IsSigned(read.El) {
			continue
		}
		b, _, _ := readParentPrescription(read, m, benchEnv(), nil)
		for _, c := range changes {
			t.Run(c.name, func(t *testing.T) {
				pp := read.El.Copy()
				got := regenerateParentPrescription(b, benchEnv(), nil)
				if got == nil {
					t.Fatal("not written back")
				}
				c.apply(t, pp, got)
				both := core.SameElement(pp, got, InSignature) && v3.SameSignedParts(pp, got)
				if c.differs && both {
					t.Fatal("the two rules take the change for no difference")
				}
				// A path copy (as a release response's reader makes,
				// taking Spine's additions out) must be told as the
				// prescription itself.
				for _, pp := range []*etree.Element{pp, pathCopy(pp)} {
					one := core.SameSignedElement(pp, got, InSignature)
					switch {
					case one && !both:
						t.Errorf("one walk says the same, the two rules do not (SameElement %t)", core.SameElement(pp, got, InSignature))
					case both && !one && !c.mayDecline:
						t.Errorf("the two rules say the same, the one walk does not")
					}
					if c.name == "as written back" && one {
						trusted++
					}
				}
			})
		}
	}
	if trusted == 0 {
		t.Fatal("no message was trusted as written back: the one walk was never exercised")
	}
}

// pathCopy returns a path copy of a ParentPrescription, as
// release.withoutReleaseAdditions makes one: the ParentPrescription, its
// pertinentInformation1 and pertinentPrescription, and each
// pertinentInformation2 and its pertinentLineItem are new elements; every
// other element is pp's own, shared, its parent still pp's element.
func pathCopy(pp *etree.Element) *etree.Element {
	shallow := func(el *etree.Element) *etree.Element {
		cp := etree.NewElement(el.Tag)
		cp.Space = el.Space
		cp.Attr = append(cp.Attr, el.Attr...)
		cp.Child = append(cp.Child, el.Child...)
		return cp
	}
	swap := func(parent, old, repl *etree.Element) {
		for i, tok := range parent.Child {
			if tok == etree.Token(old) {
				parent.Child[i] = repl
			}
		}
	}
	cp := shallow(pp)
	pi1 := pp.SelectElement("pertinentInformation1")
	if pi1 == nil || pi1.SelectElement("pertinentPrescription") == nil {
		return cp
	}
	npi1, rx := shallow(pi1), pi1.SelectElement("pertinentPrescription")
	nrx := shallow(rx)
	swap(cp, pi1, npi1)
	swap(npi1, rx, nrx)
	for _, pi2 := range rx.SelectElements("pertinentInformation2") {
		npi2 := shallow(pi2)
		if li := pi2.SelectElement("pertinentLineItem"); li != nil {
			swap(npi2, li, shallow(li))
		}
		swap(nrx, pi2, npi2)
	}
	return cp
}
