package v3

import (
	"strings"
	"unsafe"
)

// XMLRoot is what CheckXML reports of a document it reads.
type XMLRoot struct {
	// Space is the namespace the root element declares for its own prefix
	// (xmlns, or xmlns:prefix for a prefixed root, among its attributes),
	// or the prefix itself when it declares none.
	Space string
	// Local is the root element's name without its prefix.
	Local string
	// Depth is how deep elements nest, the root being 1.
	Depth int
}

// CheckXML reads data with the fast scanner's rules and builds nothing:
// ok is true for exactly the documents ScanXML reads (well-formed, within
// its subset, nesting at most 1,024) and false for everything ScanXML
// leaves to another reader, which the caller must then use. It costs a
// fraction of ScanXML, for callers that only need to know that a document
// can be read, and its root.
func CheckXML(data []byte) (root XMLRoot, ok bool) {
	if len(data) == 0 {
		return XMLRoot{}, false
	}
	// The scanner reads a string; this one shares data's memory (no copy
	// of the document) and is dropped before CheckXML returns: only the
	// root's names, copied, outlive the call.
	s := xmlScanner{src: unsafe.String(&data[0], len(data))}
	if root, ok = s.walk(nil); !ok {
		return XMLRoot{}, false
	}
	root.Space, root.Local = strings.Clone(root.Space), strings.Clone(root.Local)
	return root, true
}

// checkTag is startTag without the element: it reads an element's name
// and attributes (into *attrs, emptied first) after '<' and refuses what
// startTag refuses. For the root (isRoot) space is the namespace the tag
// declares for its own prefix, or the prefix when it declares none.
func (s *xmlScanner) checkTag(isRoot bool, attrs *[]attrPair) (name, space string, empty, ok bool) {
	var colon int
	name, colon, ok = s.name()
	if !ok {
		return "", "", false, false
	}
	prefix := ""
	if colon >= 0 {
		prefix = name[:colon]
	}
	space = prefix
	declared := false
	tagAttr := (*attrs)[:0]
	for {
		sp := s.space()
		if s.i >= len(s.src) {
			return "", "", false, false
		}
		if c := s.src[s.i]; c == '>' || c == '/' {
			s.i++
			if c == '/' && !s.expect('>') {
				return "", "", false, false
			}
			empty = c == '/'
			break
		}
		if !sp {
			return "", "", false, false
		}
		key, keyColon, ok := s.name()
		if !ok {
			return "", "", false, false
		}
		s.space()
		if !s.expect('=') {
			return "", "", false, false
		}
		s.space()
		val, ok := s.attrValue()
		if !ok {
			return "", "", false, false
		}
		a := attrPair{key: key, local: key, value: val}
		if keyColon >= 0 {
			a.space, a.local = key[:keyColon], key[keyColon+1:]
		}
		if repeatedAttr(tagAttr, a) {
			return "", "", false, false // startTag leaves a repeated attribute to etree
		}
		tagAttr = append(tagAttr, a)
		if isRoot && !declared && declaresPrefix(a, prefix) {
			space, declared = val, true
		}
	}
	*attrs = tagAttr
	return name, space, empty, true
}

// declaresPrefix reports whether attribute a declares the namespace of
// prefix: xmlns for no prefix, xmlns:prefix for one.
func declaresPrefix(a attrPair, prefix string) bool {
	if prefix == "" {
		return a.space == "" && a.local == "xmlns"
	}
	return a.space == "xmlns" && a.local == prefix
}
