package v3

import (
	"unsafe"

	"github.com/beevik/etree"
)

// The writer's slabs. A document the writer makes (NewDocument, NewHolder)
// carries slabs of its own that Add and AddText take elements, attribute
// lists, child lists and text tokens from: a few large allocations per
// message instead of one or more per element. The slabs belong to one
// tree, so they live exactly as long as some element of it does and are
// used by whoever builds that tree (etree trees are not shared between
// goroutines while built).
//
// The document element (the etree.Document's own Element, which etree
// never writes) carries them as a marker attribute: its Space is
// slabMarker (told by the string's address, which nothing else can give),
// its Value refers to the slabs, and the slabs name the element they
// belong to, so a copy of the document (whose attribute refers to the
// original's slabs) does not take from them. Each element the slabs make
// names them too (see slabElement), so that Add finds them from the
// parent it is given rather than from the root.

// slabMarker is the Space of the marker attribute.
const slabMarker = "porxgate/v3/slabs"

// docSlabs are the slabs of one document.
type docSlabs struct {
	owner *etree.Element // the document element carrying them
	space *Space         // the Space they are of; nil for a document's own
	elems []slabElement
	attrs []etree.Attr
	kids  []etree.Token
	texts []etree.CharData
	// verify is the Verifier whose proxies name these slabs (its mark),
	// nil for slabs that build (see Verifier.proxy).
	verify *Verifier
}

// Slab sizes: enough for a small message, and a quarter of a large one's
// elements between refills.
const (
	slabElems = 64
	slabAttrs = 96
	slabKids  = 256
	slabTexts = 32
)

// attach makes s the slabs of the parentless element top (and of the
// tree under it), taking them from the tree they were attached to before.
func (s *docSlabs) attach(top *etree.Element) {
	s.owner = top
	top.Attr = append(top.Attr, etree.Attr{
		Space: slabMarker,
		Value: unsafe.String((*byte)(unsafe.Pointer(s)), 1),
	})
}

// slabElement is an element the slabs made, followed by the slabs: its
// Space (no prefix) is the empty string whose data is the address of its
// slabs field, which an element made elsewhere (a copy of it included,
// whose Space points at the original's field) does not have. So the
// slabs of the element Add writes under are found without walking to the
// root for the marker, which cost about 30 instructions an element, most
// of a message's elements being written under one the slabs made. Its
// children then come from the slabs its own memory is of, wherever it has
// been moved to: they live as long as it does.
type slabElement struct {
	el    etree.Element
	slabs *docSlabs
}

// ownSlabs returns the slabs that made el (see slabElement), or nil for
// an element made elsewhere or given a prefix since.
func ownSlabs(el *etree.Element) *docSlabs {
	p := unsafe.StringData(el.Space)
	if len(el.Space) != 0 || uintptr(unsafe.Pointer(p)) != uintptr(unsafe.Pointer(el))+unsafe.Offsetof(slabElement{}.slabs) {
		return nil
	}
	return (*slabElement)(unsafe.Pointer(el)).slabs
}

// start makes s the slabs of doc, an empty document as etree.NewDocument
// makes it, its child list (room for the declaration, the root and a
// little more) and the marker's attribute list taken from them: a document
// started so costs no allocation of its own but the slabs' and the
// declaration's.
func (s *docSlabs) start(doc *etree.Document) {
	doc.Child = s.tokens(minChildren)
	doc.Attr = SlabSlice(&s.attrs, 1, slabAttrs)
	s.attach(&doc.Element)
}

// slabsOf returns the slabs to take el's new children from: those that
// made el, else those of the tree el is in, or nil for a tree without
// them.
func slabsOf(el *etree.Element) *docSlabs {
	if s := ownSlabs(el); s != nil {
		return s
	}
	return rootSlabs(el)
}

// rootSlabs returns the slabs of the tree el is in, or nil for a tree
// without them.
func rootSlabs(el *etree.Element) *docSlabs {
	for p := el.Parent(); p != nil; p = p.Parent() {
		el = p
	}
	if len(el.Attr) == 0 {
		return nil
	}
	a := &el.Attr[len(el.Attr)-1]
	if len(a.Space) != len(slabMarker) || unsafe.StringData(a.Space) != unsafe.StringData(slabMarker) {
		return nil
	}
	s := (*docSlabs)(unsafe.Pointer(unsafe.StringData(a.Value)))
	if s.owner != el {
		return nil
	}
	return s
}

// element returns a zero element (but for its Space, which marks it as
// the slabs'; see slabElement); when parent has no room for another
// child it gets room (its children kept) from the slabs: for a few children
// the first time, twice as many when that is full, so that its next
// children are appended without an allocation.
func (s *docSlabs) element(parent *etree.Element) *etree.Element {
	if n := cap(parent.Child); len(parent.Child) == n || n < minChildren {
		parent.Child = append(s.tokens(max(minChildren, 2*n)), parent.Child...)
	}
	if len(s.elems) == cap(s.elems) {
		s.elems = make([]slabElement, 0, slabElems)
	}
	return s.nextElement()
}

// nextElement takes the next element of the element slab, which has room
// for it, marked as the slabs' (see slabElement). It is inlined, in element
// and in add's usual case.
func (s *docSlabs) nextElement() *etree.Element {
	s.elems = s.elems[:len(s.elems)+1]
	e := &s.elems[len(s.elems)-1]
	e.slabs = s
	e.el.Space = unsafe.String((*byte)(unsafe.Pointer(&e.slabs)), 0)
	return &e.el
}

// tokens returns an empty child list with room for exactly n tokens.
func (s *docSlabs) tokens(n int) []etree.Token {
	return SlabSlice(&s.kids, n, slabKids)
}

// NewHolder returns an element to write a tree under that is not (yet) part
// of a document: the holder of a part written apart, or the parent of a
// tree written only to be compared. It is the only child of a document of
// its own, so the elements written under it come from that document's
// slabs (and it is moved, like any element, by adding it elsewhere).
func NewHolder(tag string) *etree.Element {
	doc := etree.NewDocument()
	new(docSlabs).start(doc)
	return Add(&doc.Element, tag)
}
