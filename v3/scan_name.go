package v3

import (
	"unsafe"

	"github.com/beevik/etree"
)

// ScannedName returns the message sp read last, as its fast scanner read
// it, and where el's name (its local name, after any prefix) stands in
// it, when el is an element of that message as that scanner read it: its
// name a view of those bytes, right after "<" or a prefix's ':'. It
// returns nil and -1 otherwise: a nil Space, an element etree's reader
// read (the scanner left the message to it), one made, or one of another
// document. The bytes are the Space's: they must not be changed, and hold
// only until sp is given back. el must not be of an earlier message of
// sp, whose bytes sp no longer holds.
//
// A caller that needs an element's bytes as the message held them (a
// signature carried byte for byte) finds them from there without scanning
// the message for its tag.
func (sp *Space) ScannedName(el *etree.Element) ([]byte, int) {
	if sp == nil || el == nil || el.Tag == "" || len(el.Tag) >= len(sp.src) {
		return nil, -1
	}
	src := sp.src
	// Where el's name stands in the message, if it is a view of it (by
	// address: the difference of two unrelated addresses is only a
	// number).
	at := uintptr(unsafe.Pointer(unsafe.StringData(el.Tag))) - uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if at == 0 || at > uintptr(len(src)-len(el.Tag)) {
		return nil, -1
	}
	name := int(at)
	if c := src[name-1]; c != '<' && c != ':' {
		return nil, -1
	}
	return src, name
}

// StartTagEnd returns the index of the '>' that ends the start tag whose
// name ends at i in src, a tag of a well-formed document (its attribute
// values quoted, so a '>' in one is passed over), or -1: where an element
// ScannedName found ends its start tag.
func StartTagEnd(src []byte, i int) int { return tagEnd(src, i) }
