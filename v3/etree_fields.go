package v3

import (
	"unsafe"

	"github.com/beevik/etree"
)

// Linking tokens into a tree without etree's bookkeeping. The scanner and
// the writer make attributes and tokens that are new, whose names they have
// split and checked already: etree's CreateAttr would split the name again
// and look for an attribute of the same name, and AddChild would ask the
// token for a parent to detach it from, each through an interface call,
// for every token of every message. These set the same fields directly
// (etree keeps them unexported), through structs laid out as etree's are.
// The layouts are checked when compiling (sizes) and by
// TestTreeFieldsAsEtree (every field), so an etree that changes them fails
// the build or the tests rather than the messages.

// attrFields is etree.Attr's layout.
type attrFields struct {
	Space, Key, Value string
	element           *etree.Element
}

// elementFields is etree.Element's layout.
type elementFields struct {
	Space, Tag string
	Attr       []etree.Attr
	Child      []etree.Token
	parent     *etree.Element
	index      int
}

// charDataFields is etree.CharData's layout.
type charDataFields struct {
	Data   string
	parent *etree.Element
	index  int
	flags  uint8
}

// charDataWhitespace is etree's flag of a CharData holding white space only
// (its IsWhitespace).
const charDataWhitespace uint8 = 1

// Each layout is as large as etree's (the array lengths must be 0).
var (
	_ [unsafe.Sizeof(etree.Attr{}) - unsafe.Sizeof(attrFields{})]struct{}
	_ [unsafe.Sizeof(attrFields{}) - unsafe.Sizeof(etree.Attr{})]struct{}
	_ [unsafe.Sizeof(etree.Element{}) - unsafe.Sizeof(elementFields{})]struct{}
	_ [unsafe.Sizeof(elementFields{}) - unsafe.Sizeof(etree.Element{})]struct{}
	_ [unsafe.Sizeof(etree.CharData{}) - unsafe.Sizeof(charDataFields{})]struct{}
	_ [unsafe.Sizeof(charDataFields{}) - unsafe.Sizeof(etree.CharData{})]struct{}
)

// appendAttr appends to el the attribute space:key="value", as CreateAttr
// does for a name el does not have yet.
func appendAttr(el *etree.Element, space, key, value string) {
	el.Attr = append(el.Attr, etree.Attr{Space: space, Key: key, Value: value})
	(*attrFields)(unsafe.Pointer(&el.Attr[len(el.Attr)-1])).element = el
}

// setSpacedAttr makes *a, an attribute of el's list, the attribute
// key="value" whose Space is space (empty but for its address, as a
// Fixed's: see Fixed). Each field is stored by itself rather than as a
// composite literal, which the compiler builds on the stack and copies
// (through runtime.wbMove while the collector marks).
func setSpacedAttr(a *etree.Attr, el *etree.Element, space, key, value string) {
	f := (*attrFields)(unsafe.Pointer(a))
	f.Space, f.Key, f.Value, f.element = space, key, value, el
}

// appendElement is appendChild of an element.
func appendElement(el, c *etree.Element) {
	f := (*elementFields)(unsafe.Pointer(c))
	f.parent, f.index = el, len(el.Child)
	el.Child = append(el.Child, c)
}

// appendChild appends t, a token without a parent, to el's children, as
// AddChild does.
func appendChild(el *etree.Element, t etree.Token) {
	switch c := t.(type) {
	case *etree.Element:
		f := (*elementFields)(unsafe.Pointer(c))
		f.parent, f.index = el, len(el.Child)
	case *etree.CharData:
		f := (*charDataFields)(unsafe.Pointer(c))
		f.parent, f.index = el, len(el.Child)
	default:
		el.AddChild(t)
		return
	}
	el.Child = append(el.Child, t)
}
