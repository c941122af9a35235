package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// unprefixByMap is unprefix as it was first written (every element's
// namespace resolved into a map through etree before anything changes,
// then a second walk), kept as the reference the one-walk unprefix is
// checked against.
func unprefixByMap(root *etree.Element) {
	if !hasPrefixedV3(root) {
		return
	}
	ns := map[*etree.Element]string{}
	var resolve func(e *etree.Element)
	resolve = func(e *etree.Element) {
		ns[e] = e.NamespaceURI()
		for _, c := range e.ChildElements() {
			resolve(c)
		}
	}
	resolve(root)
	var walk func(e *etree.Element, parentDefault string)
	walk = func(e *etree.Element, parentDefault string) {
		def := parentDefault
		if a := e.SelectAttr("xmlns"); a != nil && a.Space == "" {
			def = a.Value
		}
		if ns[e] == Namespace && e.Space != "" {
			e.Space = ""
			if def != Namespace {
				e.CreateAttr("xmlns", Namespace)
				def = Namespace
			}
		} else if ns[e] == "" && e.Space == "" && def != "" {
			e.CreateAttr("xmlns", "")
			def = ""
		}
		for i := len(e.Attr) - 1; i >= 0; i-- {
			if a := e.Attr[i]; a.Space == "xmlns" && a.Value == Namespace {
				e.Attr = append(e.Attr[:i], e.Attr[i+1:]...)
			}
		}
		for _, c := range e.ChildElements() {
			walk(c, def)
		}
	}
	walk(root, "")
}

// FuzzUnprefix checks that unprefix, looking at the elements the scanner
// marked as Parse has it do, rewrites any document exactly as the
// map-based reference does (seeds in testdata/fuzz/FuzzUnprefix: prefixed,
// mixed and redeclared namespaces).
func FuzzUnprefix(f *testing.F) {
	for _, s := range []string{
		`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b x="1"/><c/></hl7:a>`,
		`<hl7:a xmlns:hl7="urn:hl7-org:v3" xmlns="urn:other"><b/><hl7:c><d xmlns="urn:hl7-org:v3"/></hl7:c></hl7:a>`,
		`<a xmlns="urn:hl7-org:v3"><p:b xmlns:p="urn:hl7-org:v3"><p:c xmlns:p="urn:x"/></p:b><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></a>`,
		`<hl7:a xmlns:hl7="urn:hl7-org:v3" xmlns:hl7="urn:x"><hl7:b/></hl7:a>`,
		`<x:a xmlns:x="urn:x"><hl7:b xmlns:hl7="urn:hl7-org:v3"/></x:a>`,
		`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b><c/></b><hl7:d><e/></hl7:d><f xmlns=""><g/></f></hl7:a>`,
		`<a xmlns="urn:hl7-org:v3"><b><c/></b><e><hl7:f xmlns:hl7="urn:hl7-org:v3" xmlns:xsi="urn:xsi"><g xsi:type="x"/></hl7:f></e></a>`,
		`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c xmlns:v="urn:hl7-org:v3"><d/></c></b></hl7:a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, notes, ok1 := scanXMLIn(data, nil)
		want, ok2 := scanXML(data)
		if !ok1 || !ok2 || got.Root() == nil {
			return
		}
		// As Parse rewrites it: looking only at the elements the scanner
		// marked.
		unprefixMarked(got.Root(), notes.marked)
		unprefixByMap(want.Root())
		g, err := got.WriteToString()
		if err != nil {
			t.Fatal(err)
		}
		w, err := want.WriteToString()
		if err != nil {
			t.Fatal(err)
		}
		if g != w {
			t.Fatalf("unprefix:\n%s\nthe reference:\n%s", g, w)
		}
	})
}
