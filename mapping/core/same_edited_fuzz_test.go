package core

import (
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// FuzzSameElementEdited holds SameElementEdited and SameElementEditedUnder
// (with "signatureText"), given the copies or not, to SameElement with
// inSignature over a tree x under a root, edited as a released
// prescription is: a path copy of the root (and of its first child
// element when drop's high bit is set) with the child element drop picks
// left out, written back as a deep copy of that path copy, into which the
// element y is then inserted at the token ins picks (and whose copied
// element's attribute k is changed when ins's high bit is set).
func FuzzSameElementEdited(f *testing.F) {
	for _, s := range []struct {
		x, y      string
		drop, ins uint8
	}{
		{`<a/><p/><b/>`, `<p/>`, 1, 1},
		{`<a/><p/><b/>`, `<p x="1"/>`, 1, 1},
		{`<a/><p/><b/>`, `<p/>`, 1, 2},
		{`<q><a/><p/>t<b/></q>`, `<p/>`, 0x81, 1},
		{`<q k="1"><a/><p/></q>`, `<p/>`, 0x81, 0x81},
		{`<signatureText><p/></signatureText><a/>`, `<p/>`, 0x80, 0},
		{`<a/><a/>`, `<a/>`, 0, 1},
		{` t <p/>`, `<p/>`, 0, 0},
	} {
		f.Add(s.x, s.y, s.drop, s.ins)
	}
	f.Fuzz(func(t *testing.T, x, y string, drop, ins uint8) {
		a, b, e, ok := fuzzEdited(x, y, drop, ins, nil)
		if !ok {
			return
		}
		want := SameElement(a, b, inSignature)
		bare := TreeEdits{Copied: e.Copied, Removed: e.Removed, Inserted: e.Inserted, Changed: e.Changed}
		for _, c := range []struct {
			name string
			got  bool
		}{
			{"SameElementEdited", SameElementEdited(a, b, inSignature, e)},
			{"SameElementEdited without the copies", SameElementEdited(a, b, inSignature, bare)},
			{"SameElementEditedUnder", SameElementEditedUnder(a, b, "signatureText", e)},
			{"SameElementEditedUnder without the copies", SameElementEditedUnder(a, b, "signatureText", bare)},
		} {
			if c.got != want {
				t.Fatalf("%s says %t, SameElement %t (%q, %q, %d, %d)", c.name, c.got, want, x, y, drop, ins)
			}
		}
	})
}

// fuzzEdited makes FuzzSameElementEdited's trees and edits, alter (nil:
// none) changing the copy of the element the edits are in before it is
// written back (the change ins's high bit asks for then sets k to "1" if
// the copy's is "2", else to "2"); false when x or y cannot be read or the
// trees before the edits differ.
func fuzzEdited(x, y string, drop, ins uint8, alter func(cp *etree.Element)) (a, b *etree.Element, e TreeEdits, ok bool) {
	doc, err := v3.ReadXML([]byte("<r k=\"1\">" + x + "</r>"))
	if err != nil {
		return nil, nil, e, false
	}
	a = doc.Root()
	shallow := func(el *etree.Element) *etree.Element {
		cp := etree.NewElement(el.Tag)
		cp.Space = el.Space
		for _, at := range el.Attr {
			cp.CreateAttr(at.FullKey(), at.Value)
		}
		cp.Child = append(cp.Child, el.Child...)
		e.Copied, e.Copies = append(e.Copied, el), append(e.Copies, cp)
		return cp
	}
	a0 := shallow(a)
	target, target0 := a, a0
	if drop&0x80 != 0 {
		p := a.SelectElement("q")
		if p == nil {
			return nil, nil, e, false
		}
		p0 := shallow(p)
		for i, tok := range a0.Child {
			if tok == etree.Token(p) {
				a0.Child[i] = p0
			}
		}
		target, target0 = p, p0
	}
	kids := target.ChildElements()
	if len(kids) > 0 {
		gone := kids[int(drop&0x7f)%len(kids)]
		for i, tok := range target0.Child {
			if tok == etree.Token(gone) {
				target0.Child = append(target0.Child[:i:i], target0.Child[i+1:]...)
				break
			}
		}
		e.Removed = append(e.Removed, gone)
	}
	if alter != nil {
		alter(target0)
	}
	b = a0.Copy()
	if !SameElement(a0, b, inSignature) {
		return nil, nil, e, false
	}
	into := b
	if drop&0x80 != 0 {
		into = b.SelectElement("q")
	}
	ydoc, err := v3.ReadXML([]byte(y))
	if err != nil || ydoc.Root() == nil {
		return nil, nil, e, false
	}
	added := ydoc.Root()
	ydoc.RemoveChild(added)
	into.InsertChildAt(int(ins&0x7f)%(len(into.Child)+1), added)
	e.Inserted = append(e.Inserted, added)
	if ins&0x80 != 0 {
		k := "2"
		if into.SelectAttrValue("k", "") == "2" {
			k = "1"
		}
		into.CreateAttr("k", k)
		e.Changed = append(e.Changed, into)
	}
	return a, b, e, true
}
