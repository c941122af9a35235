package core

import (
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestNamespaceInScope checks that the namespaces sameParty hands down
// are etree's: for every element of documents declaring default and
// prefixed namespaces at several depths, elementNamespace given the
// inherited default is NamespaceURI, and defaultNamespace agrees.
func TestNamespaceInScope(t *testing.T) {
	docs := []string{
		`<a xmlns="urn:hl7-org:v3"><b><c xmlns="urn:other"><d/></c><e/></b></a>`,
		`<a><b xmlns="urn:x"><p:c xmlns:p="urn:p"><d/><p:e xmlns=""><f/></p:e></p:c></b></a>`,
		`<p:a xmlns:p="urn:hl7-org:v3" xmlns="urn:d"><p:b><c/></p:b></p:a>`,
	}
	for _, d := range docs {
		doc, err := v3.ReadXML([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(e *etree.Element, inherited string)
		walk = func(e *etree.Element, inherited string) {
			def := ownDefault(e, inherited)
			if got, want := elementNamespace(e, def), e.NamespaceURI(); got != want {
				t.Errorf("%s: <%s> namespace %q, want %q", d, e.FullTag(), got, want)
			}
			if got := defaultNamespace(e); got != def {
				t.Errorf("%s: <%s> default namespace %q, handed down %q", d, e.FullTag(), got, def)
			}
			for _, c := range e.ChildElements() {
				walk(c, def)
			}
		}
		walk(doc.Root(), defaultNamespace(doc.Root().Parent()))
	}
}
