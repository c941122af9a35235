package v3

import (
	"testing"
	"unsafe"

	"github.com/beevik/etree"
)

// TestTreeFieldsAsEtree checks appendAttr and appendChild against etree's
// own accessors: every field they set must read back as CreateAttr and
// AddChild would have set it (so a change of etree's layouts fails here).
func TestTreeFieldsAsEtree(t *testing.T) {
	root := etree.NewElement("r")
	root.CreateAttr("xmlns:p", "urn:p")
	el := etree.NewElement("e")
	appendChild(root, etree.NewComment("c"))
	appendChild(root, etree.NewCharData("text"))
	appendChild(root, el)
	appendAttr(el, "p", "k", "v")
	appendAttr(el, "", "plain", "w")

	for i, tok := range root.Child {
		if tok.Parent() != root || tok.Index() != i {
			t.Errorf("child %d (%T): parent %p, index %d; want %p, %d", i, tok, tok.Parent(), tok.Index(), root, i)
		}
	}
	if cd, ok := root.Child[1].(*etree.CharData); !ok || cd.Data != "text" || cd.IsWhitespace() || cd.IsCData() {
		t.Errorf("text token %#v", root.Child[1])
	}
	if el.Space != "" || el.Tag != "e" || len(el.Child) != 0 {
		t.Errorf("element %+v", el)
	}
	want := []struct{ full, uri, value string }{{"p:k", "urn:p", "v"}, {"plain", "", "w"}}
	if len(el.Attr) != len(want) {
		t.Fatalf("%d attributes, want %d", len(el.Attr), len(want))
	}
	for i, w := range want {
		a := &el.Attr[i]
		if a.Element() != el || a.FullKey() != w.full || a.NamespaceURI() != w.uri || a.Value != w.value {
			t.Errorf("attribute %d: element %p key %q namespace %q value %q; want %p %q %q %q",
				i, a.Element(), a.FullKey(), a.NamespaceURI(), a.Value, el, w.full, w.uri, w.value)
		}
	}
	if got := el.SelectAttrValue("p:k", ""); got != "v" {
		t.Errorf("SelectAttrValue(p:k) = %q", got)
	}
}

// TestWhitespaceFlagAsEtree checks charDataWhitespace against etree: a
// token given the flag and white space reads as the one etree's reader and
// SetData make, and one without it as plain text.
func TestWhitespaceFlagAsEtree(t *testing.T) {
	var ws, text etree.CharData
	*(*charDataFields)(unsafe.Pointer(&ws)) = charDataFields{Data: "\n  ", flags: charDataWhitespace}
	*(*charDataFields)(unsafe.Pointer(&text)) = charDataFields{Data: "x"}
	var set etree.CharData
	set.SetData("\n  ")
	if !ws.IsWhitespace() || ws.IsCData() || !set.IsWhitespace() || set != ws {
		t.Errorf("white space token %#v, etree's %#v", ws, set)
	}
	if text.IsWhitespace() || text.IsCData() {
		t.Errorf("text token %#v", text)
	}
}

// TestAddRepeatedAttr checks that Add keeps the last value of a name
// given twice, as CreateAttr does.
func TestAddRepeatedAttr(t *testing.T) {
	for _, parent := range []*etree.Element{etree.NewElement("p"), NewHolder("p")} {
		el := Add(parent, "e", "a", "1", "b", "2", "a", "3")
		if len(el.Attr) != 2 || el.SelectAttrValue("a", "") != "3" || el.SelectAttrValue("b", "") != "2" {
			t.Errorf("attributes %+v", el.Attr)
		}
	}
}

// TestSelectAttrAsEtree: selectAttr finds the attribute etree's SelectAttr
// finds, for names with and without a prefix.
func TestSelectAttrAsEtree(t *testing.T) {
	el := etree.NewElement("e")
	el.CreateAttr("xsi:type", "CV")
	el.CreateAttr("code", "1")
	el.CreateAttr("p:code", "2")
	el.CreateAttr("xmlns", "urn:hl7-org:v3")
	for _, name := range []string{"type", "xsi:type", "x:type", "code", "p:code", "q:code", "xmlns", "missing", "", ":", "xsi:"} {
		if got, want := selectAttr(el, name), el.SelectAttr(name); got != want {
			t.Errorf("selectAttr(%q) = %v, etree's %v", name, got, want)
		}
	}
}
