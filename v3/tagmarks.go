package v3

import (
	"unsafe"

	"github.com/beevik/etree"
)

// Reading a plain start tag sixteen bytes at a time. On amd64 markTag
// (tagmarks_amd64.s, SSE2) reads the usual start tag in one pass: its
// name, then each attribute's white space, name, '=' and quoted value,
// testing sixteen bytes at a time for the bytes that end a name or a
// value, and marks where each part starts and ends (tagMarks). It leaves
// every tag it is not sure of to plainTag's word-at-a-time loop
// (plainTagWords), which reads any tag it can; so markTag need only be
// right about the tags it reads, and on other architectures it reads none
// (tagmarks_other.go).

// maxMarkedAttrs is the most attributes markTag reads in a tag: a tag with
// more (no HL7 v3 element has nearly as many) is read by plainTagWords.
const maxMarkedAttrs = 16

// tagMarks is where markTag found the parts of a start tag, as indexes
// into the message and lengths (the layout tagmarks_amd64.s writes: keep
// them in step). The element's name is nameLen bytes from the tag's
// start, its prefix the first spaceLen of them (0: none), its local name
// tagLen bytes from tagStart.
type tagMarks struct {
	nameLen, spaceLen, tagStart, tagLen int
	n                                   int // the number of attributes
	flags                               int // markEmpty | markEmptyAttr
	// textEnd, when more than textFrom (the index after the tag), is the
	// index of the '<' that ends the text after the tag, a line feed and
	// spaces (the usual indentation); 0 when the text is another.
	textFrom, textEnd int
	attr              [maxMarkedAttrs]attrMarks
}

// attrMarks is where markTag found an attribute: its prefix (spaceLen 0:
// none), local name and value (within its quotes), each as a start and a
// length.
type attrMarks struct {
	spaceStart, spaceLen, keyStart, keyLen, valStart, valLen int
}

// Flags of tagMarks.
const (
	markEmpty     = 1 << iota // the tag ends with "/>"
	markEmptyAttr             // an attribute's value is empty
)

// markedString is the n bytes of src from index i, which markTag found
// within it: made as a string's two words are laid out, without the
// checks of a slice expression or of unsafe.String (about five
// instructions a string, four strings an attribute).
func markedString(src string, i, n int) string {
	return *(*string)(unsafe.Pointer(&stringWords{unsafe.Add(unsafe.Pointer(unsafe.StringData(src)), i), n}))
}

// stringWords is a string's layout: its bytes and their number.
type stringWords struct {
	p unsafe.Pointer
	n int
}

// markedTag is plainTag for a tag markTag read, ending at end: the
// attributes written into room as plainTag writes them, each told its
// element el. A repeated attribute name refuses the tag, as plainTag
// refuses it.
func (s *xmlScanner) markedTag(end int, room []etree.Attr, el *etree.Element) (n int, name, space string, empty, ok bool) {
	if n = s.markedAttrs(room, el); n < 0 {
		return 0, "", "", false, false
	}
	m := &s.marks
	name = markedString(s.src, s.i, m.nameLen)
	if m.spaceLen != 0 {
		space = markedString(s.src, s.i, m.spaceLen)
	}
	s.i = end
	return n, name, space, m.flags&markEmpty != 0, true
}

// markedAttrs writes the attributes of the tag markTag read last into
// room, each told its element el, and notes an empty value; it returns
// their number, or -1, noting nothing, for a repeated attribute name
// (which plainTag refuses) or a tag markTag was not told room for.
func (s *xmlScanner) markedAttrs(room []etree.Attr, el *etree.Element) int {
	m, src := &s.marks, s.src
	n := m.n
	if n > len(room) {
		return -1
	}
	for k := range n {
		am := &m.attr[k]
		key, keySpace := markedString(src, am.keyStart, am.keyLen), ""
		if am.spaceLen != 0 {
			keySpace = markedString(src, am.spaceStart, am.spaceLen)
		}
		// A repeated name, as repeatedAttr finds it.
		for j := range room[:k] {
			if b := &room[j]; len(b.Key) == len(key) && b.Key == key && (keySpace == "" || keySpace == b.Space) {
				return -1
			}
		}
		a := (*attrFields)(unsafe.Pointer(&room[k]))
		a.Space, a.Key, a.Value, a.element = keySpace, key, markedString(src, am.valStart, am.valLen), el
	}
	if m.flags&markEmptyAttr != 0 {
		s.notes.emptyAttr = true
	}
	return n
}
