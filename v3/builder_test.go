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
