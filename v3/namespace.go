package v3

import "github.com/beevik/etree"

// unprefix rewrites a document whose HL7 v3 elements carry a namespace
// prefix (<hl7:ParentPrescription xmlns:hl7="urn:hl7-org:v3">) into the
// default-namespace form Spine and the EPS API write, which the mapping
// reads and writes back: every element in the v3 namespace loses its
// prefix, the prefix declarations of the v3 namespace go, and the default
// namespace is declared where it must be (on the root, and on a v3 element
// whose parent's default namespace is another). Elements in other
// namespaces (an XML-DSig Signature) keep theirs, and so keep their bytes.
// A document without prefixed v3 elements is left as it is.
func unprefix(root *etree.Element) {
	if !hasPrefixedV3(root) {
		return
	}
	// Resolve every element's namespace before any declaration changes.
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
			e.CreateAttr("xmlns", "") // stays in no namespace
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

// hasPrefixedV3 reports whether any element is in the v3 namespace through
// a prefix.
func hasPrefixedV3(e *etree.Element) bool {
	if e.Space != "" && e.NamespaceURI() == Namespace {
		return true
	}
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && hasPrefixedV3(c) {
			return true
		}
	}
	return false
}
