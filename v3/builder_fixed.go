package v3

import (
	"fmt"
	"unsafe"

	"github.com/beevik/etree"
)

// Fixed elements: an element whose name and attributes are known when the
// program is written (a template's relationships and acts with their
// class, mood and type codes), checked and laid out once, when the package
// that writes it is initialised. An element AddFixed writes holds them as
// Add would (the same name, names and values, in the same order), but each
// attribute's Space, which is empty as Add leaves it, is the empty string
// whose data is fixedMark's, and its name and its attributes' are pieces
// of the Fixed's text, which is the element's end tag followed by its
// start tag (without the closing bracket). So a writer copies each tag in
// one piece (FixedTags) instead of writing the name, each attribute's name
// and value and looking at each value for characters to escape. AddFixedII
// writes an instance identifier whose tag and root are fixed the same way,
// its extension after them as Add writes it. Readers see the elements Add
// would have made (an empty Space is empty whatever its address); an
// element changed after it was written is written as any other as far as
// it no longer holds the Fixed's pieces.

// Fixed is an element's name and attributes checked and laid out once (see
// NewFixed), for AddFixed.
type Fixed struct {
	tag   string   // a piece of text
	pairs []string // name, value pairs: pieces of text
	text  string   // </tag><tag name="value" ...
}

// fixedMark is the data of a Fixed attribute's (empty) Space: told by its
// address, which no other string of the program has.
const fixedMark = "porxgate/v3/fixed"

// fixedSpace returns the Space of a Fixed's attributes: empty, its data
// fixedMark's.
func fixedSpace() string { return unsafe.String(unsafe.StringData(fixedMark), 0) }

// NewFixed returns the element tag with attrs (name, value pairs, at least
// one) as a Fixed. It panics when the tag or a name is not a plain XML
// name (ASCII letters, digits, '_', '-' and '.', not starting with a digit,
// '-' or '.'; no prefix), a name is given twice, or a value is empty or
// holds a character a writer would escape or replace (anything but
// printable ASCII, and & < > ' "): it is meant for package variables,
// whose values are the program's own.
func NewFixed(tag string, attrs ...string) *Fixed {
	if len(attrs) == 0 || len(attrs)%2 != 0 {
		panic(fmt.Sprintf("v3.NewFixed %s: %d strings, not one or more name and value pairs", tag, len(attrs)))
	}
	if !plainName(tag) {
		panic(fmt.Sprintf("v3.NewFixed: %q is not a plain element name", tag))
	}
	n := 2*len(tag) + 4
	for i := 0; i < len(attrs); i += 2 {
		name, value := attrs[i], attrs[i+1]
		if !plainName(name) {
			panic(fmt.Sprintf("v3.NewFixed %s: %q is not a plain attribute name", tag, name))
		}
		for j := 0; j < i; j += 2 {
			if attrs[j] == name {
				panic(fmt.Sprintf("v3.NewFixed %s: attribute %s given twice", tag, name))
			}
		}
		if value == "" {
			panic(fmt.Sprintf("v3.NewFixed %s: the value of %s is empty", tag, name))
		}
		for k := 0; k < len(value); k++ {
			if !fixedValueByte(value[k]) {
				panic(fmt.Sprintf("v3.NewFixed %s: the value of %s, %q, needs escaping", tag, name, value))
			}
		}
		n += len(name) + len(value) + 4
	}
	text := make([]byte, 0, n+1)
	text = append(text, "</"...)
	text = append(text, tag...)
	text = append(text, '>', '<')
	at := make([]int, len(attrs)+1) // where the tag, each name and each value start in text
	at[0] = len(text)
	text = append(text, tag...)
	for i := 0; i < len(attrs); i += 2 {
		text = append(text, ' ')
		at[i+1] = len(text)
		text = append(text, attrs[i]...)
		text = append(text, '=', '"')
		at[i+2] = len(text)
		text = append(text, attrs[i+1]...)
		text = append(text, '"')
	}
	// The text's memory holds one byte more, the start tag's closing
	// bracket, so that the address just after the last closing quote
	// (fixedEnd) is inside it: checkptr (-race) refuses an address past
	// the end of an allocation, which an allocation whose size is its size
	// class's ends at.
	own := string(append(text, '>'))
	f := &Fixed{text: own[:len(own)-1], pairs: make([]string, len(attrs))}
	f.tag = f.text[at[0] : at[0]+len(tag)]
	for i, s := range attrs {
		f.pairs[i] = f.text[at[i+1] : at[i+1]+len(s)]
	}
	return f
}

// String returns the element's start tag, without its closing bracket.
func (f *Fixed) String() string { return f.text[len(f.tag)+3:] }

// plainName reports whether s is an XML name without a prefix made of
// ASCII letters, digits, '_', '-' and '.', the names of v3 messages.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '-' || c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fixedValueByte reports whether c is written as it is in an attribute
// value: printable ASCII but & < > ' ".
func fixedValueByte(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '\'' && c != '"'
}

// AddFixed appends the element f to parent, as Add(parent, tag, attrs...)
// would with f's tag and attributes.
func AddFixed(parent *etree.Element, f *Fixed) *etree.Element {
	return add(parent, f.tag, f.pairs, true, len(f.pairs)/2)
}

// AddFixedII appends the instance identifier f with the extension given
// (left out when empty), as AddII(parent, tag, root, extension) would with
// f's tag and root: f is NewFixed(tag, "root", root), else AddFixedII
// panics.
func AddFixedII(parent *etree.Element, f *Fixed, extension string) *etree.Element {
	if len(f.pairs) != 2 || f.pairs[0] != "root" {
		panic("v3.AddFixedII: " + f.String() + " is not an instance identifier's tag and root")
	}
	if extension == "" {
		return add(parent, f.tag, f.pairs, true, 1)
	}
	return add(parent, f.tag, []string{f.pairs[0], f.pairs[1], "extension", extension}, true, 1)
}

// FixedMarked reports whether e's first attribute is one AddFixed wrote:
// whether FixedTags is worth asking (inlined, where FixedTags is not).
func FixedMarked(e *etree.Element) bool {
	// The address first: the one test most elements take.
	return len(e.Attr) != 0 && unsafe.StringData(e.Attr[0].Space) == unsafe.StringData(fixedMark) && fixedAttr(&e.Attr[0])
}

// FixedTags returns, for an element AddFixed or AddFixedII wrote whose name
// is still the one it gave it, its start tag as far as the attributes at
// the start of its list that still hold the names and values it gave them
// (without the closing bracket), its end tag, and how many attributes the
// start tag holds; a writer copies the two in place of writing the name
// and those attributes (whose values need no escapes), and writes the
// attributes after them as any others. For any other element (one made
// otherwise, renamed, or whose first attribute was changed) n is 0. A
// writer asks FixedMarked first, which is inlined.
func FixedTags(e *etree.Element) (start, end string, n int) {
	if !FixedMarked(e) {
		return "", "", 0
	}
	tag := unsafe.Pointer(unsafe.StringData(e.Tag))
	if len(e.Space) != 0 || unsafe.Pointer(unsafe.StringData(e.Attr[0].Key)) != unsafe.Add(tag, len(e.Tag)+1) {
		return "", "", 0
	}
	last := fixedEnd(&e.Attr[0])
	for n = 1; n < len(e.Attr); n++ {
		a := &e.Attr[n]
		if !fixedAttr(a) || unsafe.Pointer(unsafe.StringData(a.Key)) != unsafe.Add(last, 1) {
			break
		}
		last = fixedEnd(a)
	}
	// text is </tag><tag ...: the end tag ends at the start tag's bracket.
	open := unsafe.Add(tag, -1)
	start = unsafe.String((*byte)(open), uintptr(last)-uintptr(open))
	end = unsafe.String((*byte)(unsafe.Add(open, -(len(e.Tag)+3))), len(e.Tag)+3)
	return start, end, n
}

// fixedAttr reports whether a is an attribute AddFixed wrote whose value is
// still the piece of its Fixed's text that follows its name.
func fixedAttr(a *etree.Attr) bool {
	return len(a.Space) == 0 && unsafe.StringData(a.Space) == unsafe.StringData(fixedMark) &&
		unsafe.Pointer(unsafe.StringData(a.Value)) == unsafe.Add(unsafe.Pointer(unsafe.StringData(a.Key)), len(a.Key)+2)
}

// fixedEnd is the address just after a's closing quote in its Fixed's text.
func fixedEnd(a *etree.Attr) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.StringData(a.Value)), len(a.Value)+1)
}
