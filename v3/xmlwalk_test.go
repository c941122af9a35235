package v3

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// walkRecord writes down what WalkXML reports, one line per call.
func walkRecord(doc string) ([]string, bool) {
	var out []string
	ok := WalkXML(doc, recorder(&out))
	return out, ok
}

// recorder is a visitor that writes down each call into *out.
func recorder(out *[]string) XMLVisitor {
	return XMLVisitor{
		Start: func(e *XMLElement) {
			attrs := make([]string, len(e.attrs))
			for i, a := range e.attrs {
				attrs[i] = a.Space + "|" + a.Key + "=" + a.Value
			}
			*out = append(*out, fmt.Sprintf("start %s|%s parent=%s depth=%d %v", e.Space, e.Tag, e.Parent, e.Depth, attrs))
		},
		End: func(e *XMLElement) {
			*out = append(*out, fmt.Sprintf("end %s|%s parent=%s depth=%d text=%q", e.Space, e.Tag, e.Parent, e.Depth, e.Text))
		},
	}
}

// treeRecord writes down the same of scanXML's tree.
func treeRecord(el *etree.Element, depth int, out []string) []string {
	attrs := make([]string, len(el.Attr))
	for i, a := range el.Attr {
		attrs[i] = a.Space + "|" + a.Key + "=" + a.Value
	}
	parent := ""
	if p := el.Parent(); p != nil {
		parent = p.Tag
	}
	out = append(out, fmt.Sprintf("start %s|%s parent=%s depth=%d %v", el.Space, el.Tag, parent, depth, attrs))
	for _, c := range el.ChildElements() {
		out = treeRecord(c, depth+1, out)
	}
	return append(out, fmt.Sprintf("end %s|%s parent=%s depth=%d text=%q", el.Space, el.Tag, parent, depth, el.Text()))
}

// sameWalk checks WalkXML against scanXML: the same documents read, and
// the elements, attributes and texts of its tree in document order.
func sameWalk(t *testing.T, doc string) bool {
	t.Helper()
	got, ok := walkRecord(doc)
	tree, want := scanXML([]byte(doc))
	if ok != want {
		t.Fatalf("WalkXML(%q) ok = %v, scanXML ok = %v", doc, ok, want)
	}
	if !ok {
		return false
	}
	wantRec := treeRecord(tree.Root(), 1, nil)
	if strings.Join(got, "\n") != strings.Join(wantRec, "\n") {
		t.Fatalf("WalkXML(%q):\n%s\nthe tree:\n%s", doc, strings.Join(got, "\n"), strings.Join(wantRec, "\n"))
	}
	var fromTree []string
	WalkTree(tree.Root(), recorder(&fromTree))
	if strings.Join(fromTree, "\n") != strings.Join(wantRec, "\n") {
		t.Fatalf("WalkTree(%q):\n%s\nthe tree:\n%s", doc, strings.Join(fromTree, "\n"), strings.Join(wantRec, "\n"))
	}
	return true
}

// TestWalkXML: elements, attributes and texts in document order, as the
// tree has them; malformed input refused as scanXML refuses it.
func TestWalkXML(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`<a/>`, true},
		{`<hl7:a xmlns:hl7="urn:hl7-org:v3" x="1"><hl7:b hl7:c="&quot;2&quot;">t &amp; u</hl7:b><c/>tail</hl7:a>`, true},
		{`<a>lead<!--c-->more<?pi x?>after<b/>end</a>`, true},
		{"<a>\r\nx&#65;<b>in</b></a>", true},
		{`<?xml version="1.0"?><!--top--><a><b><c><d/></c></b></a>` + "\n", true},
		{`<a x="1" x="2"/>`, false},
		{`<a><b></a>`, false},
		{`<a>&nbsp;</a>`, false},
		{`<a><![CDATA[x]]></a>`, true},
		{"<a>Two <![CDATA[tablets & <one>\r\n]]>daily<!--c--><![CDATA[]]><b><![CDATA[in]]></b><![CDATA[after]]></a>", true},
		{`<a><![CDATA[x]></a>`, false},
		{"<a><![CDATA[\xff]]></a>", false},
		{`<a/><![CDATA[x]]>`, false},
		{`<!DOCTYPE a><a/>`, false},
		{`<a/><b/>`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := sameWalk(t, tt.in); got != tt.want {
			t.Errorf("WalkXML(%q) ok = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !WalkXML(`<a><b/></a>`, XMLVisitor{}) {
		t.Error("a walk without a visitor refused a document")
	}
}

// TestXMLElementAttr: attributes found as etree's SelectAttrValue finds
// them.
func TestXMLElementAttr(t *testing.T) {
	doc := `<a p:x="1" y="2" xmlns:p="urn:p"/>`
	var got []string
	WalkXML(doc, XMLVisitor{Start: func(e *XMLElement) {
		got = append(got, e.Attr("x", "-"), e.Attr("p:x", "-"), e.Attr("q:x", "-"), e.Attr("y", "-"), e.Attr("p:y", "-"), e.Attr("z", "-"), e.Attr("xmlns:p", "-"))
	}})
	tree, _ := scanXML([]byte(doc))
	r := tree.Root()
	want := []string{r.SelectAttrValue("x", "-"), r.SelectAttrValue("p:x", "-"), r.SelectAttrValue("q:x", "-"), r.SelectAttrValue("y", "-"),
		r.SelectAttrValue("p:y", "-"), r.SelectAttrValue("z", "-"), r.SelectAttrValue("xmlns:p", "-")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Attr gives %v, SelectAttrValue %v", got, want)
	}
}

// TestWalkXMLCorpus: on every XML file of the corpus WalkXML reports what
// scanXML's tree holds.
func TestWalkXMLCorpus(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") })
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameWalk(t, string(data))
	}
}

// FuzzWalkXML checks WalkXML against scanXML's tree, whatever the input.
func FuzzWalkXML(f *testing.F) {
	f.Add(`<hl7:a xmlns:hl7="urn:hl7-org:v3" x="1"><hl7:b>t &amp; u</hl7:b><!--c--></hl7:a>`)
	f.Add(`<a>lead<!--c-->more<?pi x?>after<b/>end</a>`)
	f.Add("<a>t<![CDATA[<b>&amp;\r\n]]]]><![CDATA[>]]>u<b><![CDATA[x]]></b></a>")
	f.Fuzz(func(t *testing.T, doc string) { sameWalk(t, doc) })
}
