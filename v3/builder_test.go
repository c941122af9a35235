package v3

import (
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
