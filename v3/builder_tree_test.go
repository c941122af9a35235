package v3

import (
	"fmt"
	"testing"

	"github.com/beevik/etree"
)

// TestBuiltTreeAsEtree checks that a tree the builder writes in a Space
// (the lossless check's write-back) is the tree etree's own calls make,
// field by field, for a Space used the first time and again after Put: the
// usual path (a parent with room, an element left in the slab), a parent
// given more children than the room it was given, a slab of elements
// running out, Fixed and plain attributes, text, and prefixed names.
func TestBuiltTreeAsEtree(t *testing.T) {
	sc := NewScratch()
	for round := range 3 {
		sp := sc.Get()
		got := sp.NewHolder("subject")
		want := etree.NewElement("subject")
		for i := range 30 { // 30 * 9 elements: several slabs of slabElems
			v := fmt.Sprint("v", i)
			g, w := AddFixed(got, benchSupply), want.CreateElement("pertinentSupplyHeader")
			w.CreateAttr("classCode", "SBADM")
			w.CreateAttr("moodCode", "RQO")
			AddII(g, "id", OIDSDSUser, v)
			wid := w.CreateElement("id")
			wid.CreateAttr("root", OIDSDSUser)
			wid.CreateAttr("extension", v)
			AddFixedII(g, benchID, "")
			w.CreateElement("id").CreateAttr("root", OIDSDSUser)
			Add(g, "hl7:author", "typeCode", "AUT", "xsi:type", "x", "typeCode", "AUT2")
			wa := w.CreateElement("hl7:author")
			wa.CreateAttr("typeCode", "AUT")
			wa.CreateAttr("xsi:type", "x")
			wa.CreateAttr("typeCode", "AUT2")
			AddText(g, "family", v)
			w.CreateElement("family").CreateText(v)
			AddText(g, "hl7:given", v)
			w.CreateElement("hl7:given").CreateText(v)
			AddText(g, "blank", " ")
			w.CreateElement("blank").CreateText(" ")
			Add(g, "empty")
			w.CreateElement("empty")
			AddValue(Add(got, "extra", "n", v), "value", v) // got's children outgrow their room
			we := want.CreateElement("extra")
			we.CreateAttr("n", v)
			we.CreateElement("value").CreateAttr("value", v)
		}
		if err := sameBuiltTree(got, want); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		sc.Put(sp)
	}
}

// sameBuiltTree reports how got differs from want: names, attributes (and the
// element each names), children, their parents and indexes, and text
// tokens' data and flags.
func sameBuiltTree(got, want *etree.Element) error {
	if got.Space != want.Space || got.Tag != want.Tag {
		return fmt.Errorf("<%s:%s>, want <%s:%s>", got.Space, got.Tag, want.Space, want.Tag)
	}
	if (got.Attr == nil) != (want.Attr == nil) || len(got.Attr) != len(want.Attr) {
		return fmt.Errorf("<%s>: attributes %v, want %v", got.Tag, got.Attr, want.Attr)
	}
	for i := range want.Attr {
		g, w := &got.Attr[i], &want.Attr[i]
		if g.Space != w.Space || g.Key != w.Key || g.Value != w.Value || g.Element() != got {
			return fmt.Errorf("<%s>: attribute %d is %s:%s=%q, want %s:%s=%q", got.Tag, i, g.Space, g.Key, g.Value, w.Space, w.Key, w.Value)
		}
	}
	if (got.Child == nil) != (want.Child == nil) || len(got.Child) != len(want.Child) {
		return fmt.Errorf("<%s>: %d children, want %d", got.Tag, len(got.Child), len(want.Child))
	}
	for i, wc := range want.Child {
		gc := got.Child[i]
		if gc.Parent() != got || gc.Index() != wc.Index() {
			return fmt.Errorf("<%s>: child %d has parent %p index %d, want %p and %d", got.Tag, i, gc.Parent(), gc.Index(), got, wc.Index())
		}
		switch w := wc.(type) {
		case *etree.Element:
			g, ok := gc.(*etree.Element)
			if !ok {
				return fmt.Errorf("<%s>: child %d is %T, want an element", got.Tag, i, gc)
			}
			if err := sameBuiltTree(g, w); err != nil {
				return err
			}
		case *etree.CharData:
			g, ok := gc.(*etree.CharData)
			if !ok || g.Data != w.Data || g.IsCData() != w.IsCData() || g.IsWhitespace() != w.IsWhitespace() {
				return fmt.Errorf("<%s>: child %d is %#v, want %#v", got.Tag, i, gc, w)
			}
		default:
			return fmt.Errorf("<%s>: child %d is %T", got.Tag, i, wc)
		}
	}
	return nil
}
