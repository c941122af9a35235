package v3

import (
	"strings"
	"unsafe"

	"github.com/beevik/etree"
)

// Add appends a child element to parent with attributes given as name,
// value pairs (in the order given, which is the order they are written).
// The element is the one parent.CreateElement makes, but made in fewer
// allocations: in a document NewDocument made (or under an element Add
// made in one), the element, its attribute list and, when it is the
// parent's first child, room for the parent's first few children come
// from the document's slabs (see docSlabs, slabElement);
// elsewhere the element comes with its attribute list (up to three
// attributes) and that room in one allocation.
func Add(parent *etree.Element, tag string, attrs ...string) *etree.Element {
	return add(parent, tag, attrs, false, 0)
}

// add is Add; plain says that the names of attrs are known to be without a
// prefix and distinct (AddII's, AddCV's, AddValue's), which Add would
// otherwise check; fixed, that tag and the first fixed pairs of attrs are a
// Fixed's pieces, whose attributes are then marked as its (see Fixed).
//
// The usual element (a parent the slabs made, attributes whose names are
// plain and distinct) is made here, in a small frame; any other by
// addElsewhere, kept apart so that its frame and its spills are not paid
// by every element.
func add(parent *etree.Element, tag string, attrs []string, plain bool, fixed int) *etree.Element {
	s := ownSlabs(parent)
	if s == nil || !(plain || distinctPlainNames(attrs)) {
		return addElsewhere(parent, tag, attrs, plain, fixed)
	}
	if len(parent.Child) == 0 && cap(parent.Child) < minChildren {
		// A first child: room for it and the next few, as element
		// makes it (without copying the parent's no children over).
		parent.Child = s.tokens(minChildren)
	}
	var el *etree.Element
	if c := cap(parent.Child); len(parent.Child) < c && c >= minChildren && len(s.elems) < cap(s.elems) {
		// docSlabs.element's usual case, in place: the parent has room
		// for it and the slab an element.
		el = s.nextElement()
	} else {
		el = s.element(parent)
	}
	f := (*elementFields)(unsafe.Pointer(el))
	f.Tag = tag
	if fixed == 0 { // a Fixed's tag has no prefix
		if c := strings.IndexByte(tag, ':'); c >= 0 {
			f.Space, f.Tag = tag[:c], tag[c+1:]
		}
	}
	f.Child = make([]etree.Token, 0) // as etree makes it; does not allocate
	linkRoom(parent, el)
	n := len(attrs) / 2
	if n == 0 {
		f.Attr = make([]etree.Attr, 0)
		return el
	}
	as := SlabSlice(&s.attrs, n, slabAttrs)[:n]
	f.Attr = as
	writeAttrs(as, el, attrs, fixed)
	return el
}

// writeAttrs writes attrs (name, value pairs whose names are plain and
// distinct) as el's attributes as, the first fixed of them a Fixed's
// (marked by their Space, see fixedSpace). It is inlined.
func writeAttrs(as []etree.Attr, el *etree.Element, attrs []string, fixed int) {
	attrs = attrs[:2*len(as)]
	for i := range as {
		space := ""
		if i < fixed {
			space = fixedSpace()
		}
		setSpacedAttr(&as[i], el, space, attrs[2*i], attrs[2*i+1])
	}
}

// linkRoom appends el, a new element, to parent's children as
// appendElement does, where the list has room for it (add and AddText made
// it): only its length changes, not its pointer, which is one write (and
// one write barrier while the collector marks) less than append's.
func linkRoom(parent, el *etree.Element) {
	k := len(parent.Child)
	f := (*elementFields)(unsafe.Pointer(el))
	f.parent, f.index = parent, k
	parent.Child = parent.Child[:k+1]
	parent.Child[k] = el
}

// addElsewhere is add of an element whose parent the slabs did not make
// (a document's own element, an element made elsewhere or given a prefix)
// or whose attributes' names add does not know to be plain and distinct,
// and add's check under a Verifier's proxy.
//
//go:noinline
func addElsewhere(parent *etree.Element, tag string, attrs []string, plain bool, fixed int) *etree.Element {
	if v := verifierOf(parent); v != nil {
		return v.add(parent, tag, attrs, plain)
	}
	n := len(attrs) / 2
	var el *etree.Element
	s := ownSlabs(parent)
	if s == nil {
		s = rootSlabs(parent)
	}
	if s != nil {
		el = s.element(parent)
		el.Attr = SlabSlice(&s.attrs, n, slabAttrs) // empty and non-nil, as etree makes it
	} else {
		if cap(parent.Child) < minChildren {
			var kids []etree.Token
			el, kids = newElementAndKids(n)
			parent.Child = append(kids, parent.Child...)
		} else {
			el = newElement(n)
		}
		if el.Attr == nil {
			el.Attr = make([]etree.Attr, 0) // as etree makes it; does not allocate
		}
	}
	el.Tag = tag
	if fixed == 0 { // a Fixed's tag has no prefix
		if c := strings.IndexByte(tag, ':'); c >= 0 {
			el.Space, el.Tag = tag[:c], tag[c+1:]
		}
	}
	el.Child = make([]etree.Token, 0)
	appendElement(parent, el)
	if cap(el.Attr) >= n && (plain || distinctPlainNames(attrs)) {
		// The usual attributes: written in place, in the room made for them.
		el.Attr = el.Attr[:n]
		writeAttrs(el.Attr, el, attrs, fixed)
		return el
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		space, key := "", attrs[i]
		if c := strings.IndexByte(key, ':'); c >= 0 {
			space, key = key[:c], key[c+1:]
		}
		if hasAttr(el, space, key) {
			el.CreateAttr(attrs[i], attrs[i+1]) // a name given twice: the last value, as CreateAttr keeps it
			continue
		}
		appendAttr(el, space, key, attrs[i+1])
	}
	return el
}

// distinctPlainNames reports whether the names of attrs (name, value
// pairs) are without a prefix and each given once: the attributes Add
// writes as they are given.
func distinctPlainNames(attrs []string) bool {
	for i := 0; i+1 < len(attrs); i += 2 {
		if strings.IndexByte(attrs[i], ':') >= 0 {
			return false
		}
		for j := 0; j < i; j += 2 {
			if attrs[j] == attrs[i] {
				return false
			}
		}
	}
	return true
}

// hasAttr reports whether el has the attribute space:key (the match
// CreateAttr makes).
func hasAttr(el *etree.Element, space, key string) bool {
	for _, a := range el.Attr {
		if a.Space == space && a.Key == key {
			return true
		}
	}
	return false
}

// minChildren is the room Add makes in a parent's child list the first
// time: most elements that have children have a few.
const minChildren = 4

// newElement returns an element with room for n attributes, in one
// allocation for up to three.
func newElement(n int) *etree.Element {
	switch n {
	case 0:
		return &etree.Element{}
	case 1:
		e := &struct {
			el   etree.Element
			attr [1]etree.Attr
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el
	case 2:
		e := &struct {
			el   etree.Element
			attr [2]etree.Attr
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el
	case 3:
		e := &struct {
			el   etree.Element
			attr [3]etree.Attr
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el
	}
	return &etree.Element{Attr: make([]etree.Attr, 0, n)}
}

// newElementAndKids is newElement that also returns an empty child list
// with room for minChildren tokens (for the element's parent), in the same
// allocation for up to three attributes.
func newElementAndKids(n int) (*etree.Element, []etree.Token) {
	switch n {
	case 0:
		e := &struct {
			el   etree.Element
			kids [minChildren]etree.Token
		}{}
		return &e.el, e.kids[:0]
	case 1:
		e := &struct {
			el   etree.Element
			attr [1]etree.Attr
			kids [minChildren]etree.Token
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el, e.kids[:0]
	case 2:
		e := &struct {
			el   etree.Element
			attr [2]etree.Attr
			kids [minChildren]etree.Token
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el, e.kids[:0]
	case 3:
		e := &struct {
			el   etree.Element
			attr [3]etree.Attr
			kids [minChildren]etree.Token
		}{}
		e.el.Attr = e.attr[:0]
		return &e.el, e.kids[:0]
	}
	return newElement(n), make([]etree.Token, 0, minChildren)
}

// AddText appends a child element holding text. The element, its text and
// its child list (and, for the parent's first child, room for the parent's
// children) come from the document's slabs (see NewDocument), or else in
// one allocation.
func AddText(parent *etree.Element, tag, text string) *etree.Element {
	if text == "" || blankText(text) {
		el := Add(parent, tag)
		if text != "" {
			el.CreateText(text) // what SetText does for an element without children
		}
		return el
	}
	if s := ownSlabs(parent); s != nil {
		// The usual element, as add makes it: from the slabs of the
		// parent, its text and child list too.
		if len(parent.Child) == 0 && cap(parent.Child) < minChildren {
			parent.Child = s.tokens(minChildren) // as in add
		}
		el := s.element(parent)
		cd := slabNew(&s.texts, slabTexts)
		own := s.tokens(1)[:1]
		f := (*elementFields)(unsafe.Pointer(el))
		f.Attr = make([]etree.Attr, 0) // as etree makes it; does not allocate
		f.Tag = tag
		if c := strings.IndexByte(tag, ':'); c >= 0 {
			f.Space, f.Tag = tag[:c], tag[c+1:]
		}
		linkRoom(parent, el)
		// CreateText's CharData: plain text (not CDATA), not white space only.
		t := (*charDataFields)(unsafe.Pointer(cd))
		t.Data, t.parent, t.index = text, el, 0
		own[0] = cd
		f.Child = own
		return el
	}
	return addTextElsewhere(parent, tag, text)
}

// addTextElsewhere is AddText under a parent the slabs did not make, and
// AddText's check under a Verifier's proxy.
func addTextElsewhere(parent *etree.Element, tag, text string) *etree.Element {
	if v := verifierOf(parent); v != nil {
		return v.addText(parent, tag, text)
	}
	var el *etree.Element
	var cd *etree.CharData
	var own []etree.Token
	switch sl := slabsOf(parent); {
	case sl != nil:
		el, cd, own = sl.element(parent), slabNew(&sl.texts, slabTexts), sl.tokens(1)
	case cap(parent.Child) < minChildren:
		e := &struct {
			el   etree.Element
			text etree.CharData
			own  [1]etree.Token
			kids [minChildren]etree.Token
		}{}
		el, cd, own = &e.el, &e.text, e.own[:0]
		parent.Child = append(e.kids[:0], parent.Child...)
	default:
		e := &struct {
			el   etree.Element
			text etree.CharData
			own  [1]etree.Token
		}{}
		el, cd, own = &e.el, &e.text, e.own[:0]
	}
	el.Attr = make([]etree.Attr, 0) // as etree makes it; does not allocate
	el.Tag = tag
	if c := strings.IndexByte(tag, ':'); c >= 0 {
		el.Space, el.Tag = tag[:c], tag[c+1:]
	}
	el.Child = own
	appendChild(parent, el)
	// CreateText's CharData: plain text (not CDATA), not white space only.
	cd.Data = text
	appendChild(el, cd)
	return el
}

// blankText reports whether s is white space only as etree judges it (its
// CharData then carries a flag CreateText sets).
func blankText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// AddII appends an instance identifier <tag root=".." extension=".."/>;
// the extension is left out when empty.
func AddII(parent *etree.Element, tag, root, extension string) *etree.Element {
	if extension == "" {
		return add(parent, tag, []string{"root", root}, true, 0)
	}
	return add(parent, tag, []string{"root", root, "extension", extension}, true, 0)
}

// AddCV appends a coded value <tag code=".." codeSystem=".." displayName=".."/>;
// displayName is left out when empty.
func AddCV(parent *etree.Element, tag, code, system, display string) *etree.Element {
	if display == "" {
		return add(parent, tag, []string{"code", code, "codeSystem", system}, true, 0)
	}
	return add(parent, tag, []string{"code", code, "codeSystem", system, "displayName", display}, true, 0)
}

// AddValue appends <tag value=".."/>, the shape of TS, BL and INT values.
func AddValue(parent *etree.Element, tag, value string) *etree.Element {
	return add(parent, tag, []string{"value", value}, true, 0)
}

// NewDocument returns a document whose root element is in the v3 namespace,
// preceded by the XML declaration Spine writes. The elements Add and its
// kin write into it come from the document's own slabs.
func NewDocument(rootTag string) (*etree.Document, *etree.Element) {
	doc := etree.NewDocument()
	new(docSlabs).start(doc)
	return doc, startDocument(doc, rootTag)
}

// startDocument writes the XML declaration and the root element in the v3
// namespace into a document its slabs have started, and returns the root
// (made by the slabs, as etree's CreateElement and CreateAttr would make
// it).
func startDocument(doc *etree.Document, rootTag string) *etree.Element {
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	return Add(&doc.Element, rootTag, "xmlns", Namespace)
}

// Bytes serialises a document with two-space indentation.
func Bytes(doc *etree.Document) []byte {
	doc.Indent(2)
	b, _ := doc.WriteToBytes()
	return b
}
