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
	// Elements counts the document's elements, the root included.
	Elements int
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
	// root's names, copied, outlive the call. The walk allocates nothing
	// (TestCheckXMLAllocations).
	s := xmlScanner{src: unsafe.String(&data[0], len(data))}
	if root, ok = s.walk(nil); !ok {
		return XMLRoot{}, false
	}
	if root.Space == Namespace {
		root.Space = Namespace // the package's own: no copy needed
	} else {
		root.Space = strings.Clone(root.Space)
	}
	root.Local = strings.Clone(root.Local)
	return root, true
}
