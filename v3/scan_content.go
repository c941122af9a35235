package v3

import (
	"bytes"
	"unsafe"

	"github.com/beevik/etree"
)

// ScannedContent reports whether content is, byte for byte, what stood
// between el's start tag and its end tag in the message sp read last, and
// el is an element of that message as the fast scanner read it (its name
// a view of the message's bytes in sp, written there without a prefix).
// The scanner reads only well-formed documents within its subset (no
// DOCTYPE, no entity but the five predefined ones; what it leaves to
// etree's reader gives elements whose names are not views of the message),
// so content is then well-formed XML content as it stands, wherever it is
// put: its elements balanced, its text and attribute values without a
// '<', its references predefined. A caller that would check content as a
// document of its own (a signature carried byte for byte) need not read it
// again. Namespace prefixes are not looked at: well-formedness does not
// depend on where they are declared.
//
// To tell that the end tag after content is el's own (not one written in
// a comment, CDATA section or processing instruction, nor a nested
// element's of the same name), ScannedContent answers false, leaving the
// check to the caller, when content holds "<!" or "<?" (a comment, CDATA
// section or processing instruction; a DOCTYPE cannot be there) or el's
// name just after "<" or "</": every '<' in content is then a tag's, the
// end tag after it is a real one of el's name, and el's own, as any
// other would close an element of that name started within content. It
// answers false for an empty element, a nil Space, and an element not
// read by sp's scanner (etree's reader read the message, the element was
// made, or it is of another document). el must not be of an earlier
// message of sp, whose bytes sp no longer holds.
func (sp *Space) ScannedContent(el *etree.Element, content []byte) bool {
	if sp == nil || el == nil || el.Tag == "" || len(el.Tag) >= len(sp.src) {
		return false
	}
	src := sp.src
	// Where el's name stands in the message, if it is a view of it (by
	// address: the difference of two unrelated addresses is only a
	// number).
	at := uintptr(unsafe.Pointer(unsafe.StringData(el.Tag))) - uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if at == 0 || at > uintptr(len(src)-len(el.Tag)) {
		return false
	}
	name := int(at)
	if src[name-1] != '<' {
		return false
	}
	open := tagEnd(src, name+len(el.Tag))
	if open < 0 || src[open-1] == '/' {
		return false
	}
	from, to := open+1, open+1+len(content)
	if to > len(src) || !bytes.Equal(src[from:to], content) || !endTagAt(src[to:], el.Tag) {
		return false
	}
	return plainContent(content, el.Tag)
}

// tagEnd returns the index of the '>' that ends the start tag whose name
// ends at i in src, a tag the scanner read (its attribute values quoted,
// so a '>' in one is skipped), or -1.
func tagEnd(src []byte, i int) int {
	var quote byte
	for ; i < len(src); i++ {
		switch c := src[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// endTagAt reports whether b starts with the end tag "</"+name+">", white
// space allowed before the '>'.
func endTagAt(b []byte, name string) bool {
	if len(b) < len("</>")+len(name) || b[0] != '<' || b[1] != '/' || string(b[2:2+len(name)]) != name {
		return false
	}
	for _, c := range b[2+len(name):] {
		switch c {
		case '>':
			return true
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return false
}

// plainContent reports whether content holds no "<!", "<?", "<"+name or
// "</"+name.
func plainContent(content []byte, name string) bool {
	for i := 0; ; {
		j := bytes.IndexByte(content[i:], '<')
		if j < 0 {
			return true
		}
		i += j + 1
		if i == len(content) {
			return false // a '<' ends no content the scanner read
		}
		switch content[i] {
		case '!', '?':
			return false
		case '/':
			i++
		}
		if len(content)-i >= len(name) && string(content[i:i+len(name)]) == name {
			return false
		}
	}
}
