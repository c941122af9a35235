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
func unprefix(root *etree.Element) { unprefixMarked(root, nil) }

// unprefixMarked is unprefix told by the scanner which elements to look
// at (scanNotes.marked; nil: all): in document order, every element that
// has a prefix or declares a namespace, and every element it is in. An
// element outside them, and all in it, can change in one way only, which
// walkChildren makes without looking further: with its parent's default
// namespace rewritten while it stays in no namespace, it is given xmlns="".
// So a release response, whose prefixed wrapper holds thousands of plain
// elements, is rewritten looking at a few hundred of them.
func unprefixMarked(root *etree.Element, marked []*etree.Element) {
	if marked != nil && (len(marked) == 0 || marked[0] != root) {
		marked = nil // not the scanner's list of this document: look at all
	}
	if marked != nil {
		// Only a marked element has a prefix.
		found := false
		for _, e := range marked {
			if e.Space != "" && e.NamespaceURI() == Namespace {
				found = true
				break
			}
		}
		if !found {
			return
		}
	} else if !hasPrefixedV3(root) {
		return
	}
	u := unprefixer{scope: make([]nsBinding, 0, 8), marked: marked, next: 1}
	u.walk(root, "", "")
}

// nsBinding is one namespace declaration in scope: prefix "" is the
// default namespace.
type nsBinding struct{ prefix, uri string }

// unprefixer walks a document once, keeping the declarations of the
// original document in scope (so each element's namespace is resolved
// before its own declarations change) without a map or per-element
// slices.
type unprefixer struct {
	scope []nsBinding
	// marked are the elements to walk (see unprefixMarked; nil: all), and
	// next the index of the next to come.
	marked []*etree.Element
	next   int
}

// lookup is the namespace bound to prefix in the original document at the
// current element ("" when unbound).
func (u *unprefixer) lookup(prefix string) string {
	for i := len(u.scope) - 1; i >= 0; i-- {
		if u.scope[i].prefix == prefix {
			return u.scope[i].uri
		}
	}
	return ""
}

// walk rewrites e and its descendants; parentDefault is the default
// namespace of e's parent in the rewritten document, origDefault the
// default namespace in scope there in the original one.
func (u *unprefixer) walk(e *etree.Element, parentDefault, origDefault string) {
	if e.Space == "" && !declaresNamespace(e) {
		// Most elements: without a prefix or a declaration of their own,
		// in the original default namespace, with no declaration to drop.
		def := parentDefault
		if origDefault == "" && def != "" {
			e.CreateAttr("xmlns", "") // stays in no namespace
			def = ""
		}
		u.walkChildren(e, def, origDefault)
		return
	}
	mark := len(u.scope)
	def := parentDefault
	// Pushed last to first, so that, as in etree, an element's first
	// declaration of a prefix is the one found.
	for i := len(e.Attr) - 1; i >= 0; i-- {
		switch a := &e.Attr[i]; {
		case a.Space == "xmlns":
			u.scope = append(u.scope, nsBinding{a.Key, a.Value})
			if a.Key == "" { // "xmlns:", which only etree's reader lets by
				origDefault = a.Value
			}
		case a.Space == "" && a.Key == "xmlns":
			u.scope = append(u.scope, nsBinding{"", a.Value})
			def, origDefault = a.Value, a.Value
		}
	}
	ns := origDefault
	if e.Space != "" {
		ns = u.lookup(e.Space)
	}
	if ns == Namespace && e.Space != "" {
		e.Space = ""
		if def != Namespace {
			e.CreateAttr("xmlns", Namespace)
			def = Namespace
		}
	} else if ns == "" && e.Space == "" && def != "" {
		e.CreateAttr("xmlns", "") // stays in no namespace
		def = ""
	}
	for i := len(e.Attr) - 1; i >= 0; i-- {
		if a := &e.Attr[i]; a.Space == "xmlns" && a.Value == Namespace {
			e.Attr = append(e.Attr[:i], e.Attr[i+1:]...)
		}
	}
	u.walkChildren(e, def, origDefault)
	u.scope = u.scope[:mark]
}

// walkChildren walks e's child elements (see walk): those marked, or all
// when none are. One not marked, without a prefix or a declaration in it,
// is rewritten as walk would, without a look inside: it stays in no
// namespace (xmlns="") where its parent's default namespace is rewritten
// from none, and all in it then stay as they are, as they do where it
// keeps its parent's (in the original document and the rewritten one
// alike).
func (u *unprefixer) walkChildren(e *etree.Element, def, origDefault string) {
	for _, t := range e.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		if u.marked != nil {
			if u.next >= len(u.marked) || u.marked[u.next] != c {
				if origDefault == "" && def != "" {
					c.CreateAttr("xmlns", "") // stays in no namespace
				}
				continue
			}
			u.next++
		}
		u.walk(c, def, origDefault)
	}
}

// declaresNamespace reports whether e declares a namespace: xmlns or
// xmlns:prefix among its attributes.
func declaresNamespace(e *etree.Element) bool { return declaresNamespaceIn(e.Attr) }

// declaresNamespaceIn reports whether attrs declare a namespace: xmlns or
// xmlns:prefix among them.
func declaresNamespaceIn(attrs []etree.Attr) bool {
	for i := range attrs {
		if a := &attrs[i]; a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			return true
		}
	}
	return false
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
