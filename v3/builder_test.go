package v3

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestAddTextAsEtree checks that AddText makes what etree's CreateElement
// and CreateText make: the same document, and text tokens that answer
// Parent, Index, IsCData and IsWhitespace alike, for a first child and a
// later one, plain, blank and empty text.
func TestAddTextAsEtree(t *testing.T) {
	texts := []string{"Paracetamol 500mg", "a & <b>", " ", "\n\t", "", "x\ny"}
	got, want := etree.NewDocument(), etree.NewDocument()
	gr, wr := got.CreateElement("root"), want.CreateElement("root")
	for _, text := range texts {
		for _, tag := range []string{"text", "hl7:given"} {
			g := AddText(gr, tag, text)
			w := wr.CreateElement(tag)
			if text != "" {
				w.CreateText(text)
			}
			if g.Index() != w.Index() || g.Parent() != gr {
				t.Fatalf("%q: index %d parent %v, want %d", text, g.Index(), g.Parent(), w.Index())
			}
			if len(g.Child) != len(w.Child) {
				t.Fatalf("%q: %d children, want %d", text, len(g.Child), len(w.Child))
			}
			if len(w.Child) == 1 {
				gc, wc := g.Child[0].(*etree.CharData), w.Child[0].(*etree.CharData)
				if gc.Data != wc.Data || gc.IsCData() != wc.IsCData() || gc.IsWhitespace() != wc.IsWhitespace() ||
					gc.Parent() != g || gc.Index() != wc.Index() {
					t.Errorf("%q: text token differs from CreateText's", text)
				}
			}
		}
	}
	gs, _ := got.WriteToString()
	ws, _ := want.WriteToString()
	if gs != ws {
		t.Errorf("documents differ:\n got %s\nwant %s", gs, ws)
	}
	// The elements take more children as etree's do.
	first := AddText(etree.NewElement("p"), "a", "text")
	Add(first, "child")
	if len(first.Child) != 2 {
		t.Errorf("a child added after the text: %d children", len(first.Child))
	}
}

// TestSlabDocumentAsEtree checks that a tree written into a document of
// NewDocument (elements from its slabs) is the one etree's own calls make:
// the same bytes, parents and indexes, attributes and children appended
// later (past the room the slabs gave) in place, and no trace of the slabs
// in what is written.
func TestSlabDocumentAsEtree(t *testing.T) {
	got, gr := NewDocument("root")
	want := etree.NewDocument()
	want.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	wr := want.CreateElement("root")
	wr.CreateAttr("xmlns", Namespace)
	var gs, ws []*etree.Element
	// Interleave writes into several parents so that their lists and
	// attributes outgrow the room taken from the slabs.
	for i := 0; i < 3; i++ {
		gs = append(gs, Add(gr, "part", "n", "x"))
		ws = append(ws, wr.CreateElement("part"))
		ws[i].CreateAttr("n", "x")
	}
	for k := 0; k < 300; k++ {
		for i := range gs {
			g := AddText(gs[i], "hl7:item", "text")
			w := ws[i].CreateElement("hl7:item")
			w.CreateText("text")
			AddCV(g, "code", "a", "b", "")
			w.CreateElement("code").CreateAttr("code", "a")
			w.SelectElement("code").CreateAttr("codeSystem", "b")
			g.CreateAttr("later", "1")
			w.CreateAttr("later", "1")
			if g.Index() != w.Index() || g.Parent() != gs[i] {
				t.Fatalf("item %d of part %d: index %d, want %d", k, i, g.Index(), w.Index())
			}
		}
	}
	for i := range gs {
		gs[i].CreateAttr("m", "y") // past the one attribute it was made with
		ws[i].CreateAttr("m", "y")
	}
	g, _ := got.WriteToString()
	w, _ := want.WriteToString()
	if g != w {
		t.Fatalf("documents differ")
	}
	if strings.Contains(g, slabMarker) {
		t.Errorf("the slabs' marker is written")
	}
	// A copy of the document is a document without slabs of its own.
	cp := got.Copy()
	if slabsOf(cp.Root()) != nil {
		t.Errorf("a copy takes from the original's slabs")
	}
	Add(cp.Root(), "extra")
	if c, _ := got.WriteToString(); c != w {
		t.Errorf("writing into the copy changed the original")
	}
}

// TestSlabAllocations checks that elements written into a document of
// NewDocument or under NewHolder come from its slabs (a few allocations
// for many elements), and ones written elsewhere are made as before.
func TestSlabAllocations(t *testing.T) {
	for name, parent := range map[string]func() *etree.Element{
		"NewDocument": func() *etree.Element { _, root := NewDocument("root"); return root },
		"NewHolder":   func() *etree.Element { return NewHolder("subject") },
	} {
		allocs := testing.AllocsPerRun(20, func() {
			p := parent()
			for i := 0; i < 50; i++ {
				el := Add(p, "component", "typeCode", "COMP")
				AddII(el, "id", OIDODS, "FA565")
				AddText(el, "text", "words")
			}
		})
		if allocs > 40 {
			t.Errorf("%s: %v allocations for 150 elements", name, allocs)
		}
	}
	if slabsOf(etree.NewElement("plain")) != nil {
		t.Error("a plain element has slabs")
	}
}

// TestAddAttributesAsEtree checks that Add writes the attributes etree's
// CreateAttr writes, in a document of NewDocument and under a plain
// element: none to five, a name given twice (the last value, where the
// first stood), prefixed names, a name without a value (left out).
func TestAddAttributesAsEtree(t *testing.T) {
	lists := [][]string{
		nil,
		{"root", "1.2.3"},
		{"code", "a", "codeSystem", "b"},
		{"code", "a", "codeSystem", "b", "displayName", "c & d"},
		{"a", "1", "b", "2", "c", "3", "d", "4"},
		{"a", "1", "b", "2", "c", "3", "d", "4", "e", "5"},
		{"a", "1", "b", "2", "a", "3"},
		{"xsi:type", "IVL_TS", "value", "1"},
		{"x:a", "1", "x:a", "2", "a", "3"},
		{"xmlns", Namespace, "classCode", "INFO"},
		{"value", "1", "unit"},
	}
	for _, slab := range []bool{true, false} {
		var got *etree.Document
		var gr *etree.Element
		if slab {
			got, gr = NewDocument("root")
		} else {
			got = etree.NewDocument()
			gr = got.CreateElement("root")
		}
		want := etree.NewDocument()
		wr := want.CreateElement("root")
		for _, attrs := range lists {
			g := Add(gr, "e", attrs...)
			w := wr.CreateElement("e")
			for i := 0; i+1 < len(attrs); i += 2 {
				w.CreateAttr(attrs[i], attrs[i+1])
			}
			if len(g.Attr) != len(w.Attr) {
				t.Fatalf("slabs %v, %q: %d attributes, want %d", slab, attrs, len(g.Attr), len(w.Attr))
			}
			for i := range g.Attr {
				ga, wa := g.Attr[i], w.Attr[i]
				if ga.Space != wa.Space || ga.Key != wa.Key || ga.Value != wa.Value || ga.Element() != g {
					t.Errorf("slabs %v, %q: attribute %d is %+v, want %+v", slab, attrs, i, g.Attr[i], w.Attr[i])
				}
			}
		}
		gr.CreateAttr("xmlns", Namespace) // as NewDocument's root has it, last
		wr.CreateAttr("xmlns", Namespace)
		if slab {
			got.Child = got.Child[1:] // NewDocument's declaration
		}
		g, _ := got.WriteToString()
		w, _ := want.WriteToString()
		if g != w {
			t.Errorf("slabs %v: documents differ:\n got %s\nwant %s", slab, g, w)
		}
	}
}

// TestAddFindsSlabsAtOnce checks which slabs Add takes an element from:
// those that made its parent (found from the parent alone, see
// slabElement), wherever the parent has been moved; those of the tree
// for a parent made elsewhere or given a prefix; none under a copy of an
// element the slabs made, or in a tree without slabs. The marker is no
// prefix: the elements are written without one.
func TestAddFindsSlabsAtOnce(t *testing.T) {
	doc, root := NewDocument("root")
	s := rootSlabs(root)
	if s == nil || ownSlabs(root) != s {
		t.Fatal("NewDocument's root: no slabs in its tree, or not made by them")
	}
	a := Add(root, "a", "n", "1")
	b := Add(a, "b")
	if ownSlabs(a) != s || ownSlabs(b) != s || a.Space != "" {
		t.Fatalf("elements Add made: own slabs %p %p, Space %q; want %p", ownSlabs(a), ownSlabs(b), a.Space, s)
	}
	prefixed := Add(a, "hl7:c")
	if ownSlabs(prefixed) != nil || prefixed.Space != "hl7" {
		t.Errorf("a prefixed element: own slabs %p, Space %q", ownSlabs(prefixed), prefixed.Space)
	}
	if c := Add(prefixed, "d"); ownSlabs(c) != s {
		t.Errorf("under a prefixed element: slabs %p, want the tree's %p", ownSlabs(c), s)
	}
	if out := string(Bytes(doc)); !strings.Contains(out, "<a n=\"1\">") || !strings.Contains(out, "<b/>") || !strings.Contains(out, "<hl7:c>") {
		t.Errorf("written as:\n%s", out)
	}

	cp := a.Copy()
	if ownSlabs(cp) != nil || ownSlabs(cp.SelectElement("b")) != nil {
		t.Error("a copy of elements the slabs made is taken for theirs")
	}
	if c := Add(cp, "e"); ownSlabs(c) != nil || rootSlabs(c) != nil {
		t.Error("an element added under a copy (a tree without slabs) came from slabs")
	}

	other, oroot := NewDocument("other")
	oroot.AddChild(a) // moved: a's memory is still s's
	if c := Add(a, "f"); ownSlabs(c) != s {
		t.Errorf("under a moved element: slabs %p, want those that made it (%p), not %p", ownSlabs(c), s, rootSlabs(oroot))
	}
	if out := string(Bytes(other)); !strings.Contains(out, "<f/>") {
		t.Errorf("the moved element's new child is not written:\n%s", out)
	}
	if ownSlabs(etree.NewElement("plain")) != nil || slabsOf(etree.NewElement("plain")) != nil {
		t.Error("a plain element has slabs")
	}
}
