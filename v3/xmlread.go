package v3

import (
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/beevik/etree"
)

// ReadXML parses an XML document into the etree document etree's own
// reader makes of it (with its default, strict settings), several times
// faster for the XML messages are made of: a small scanner covers the XML
// declaration, elements, attributes, text, the five predefined entities
// and character references, CDATA sections inside the root, comments,
// processing instructions and a leading UTF-8 byte order mark, and builds
// the tree in a few large allocations. Anything else (a DOCTYPE, another
// encoding, a well-formedness error) goes to etree's reader, so errors and
// unusual documents are read exactly as etree reads them.
func ReadXML(data []byte) (*etree.Document, error) { return readXML(data, nil) }

// readXML is ReadXML reading into sp (nil: fresh memory).
func readXML(data []byte, sp *Space) (*etree.Document, error) {
	doc, _, err := readXMLPrefixed(data, sp)
	return doc, err
}

// readXMLPrefixed is readXML that also reports what the scanner noticed in
// the document: whether an element may have a namespace prefix and an
// attribute an empty value, each false only when the scanner read it and
// met none.
func readXMLPrefixed(data []byte, sp *Space) (doc *etree.Document, notes scanNotes, err error) {
	if doc, notes, ok := scanXMLIn(data, sp); ok {
		return doc, notes, nil
	}
	doc = etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, scanNotes{}, err
	}
	return doc, scanNotes{prefixed: true, emptyAttr: true}, nil
}

// scanNotes are what the scanner noticed in a document it read.
type scanNotes struct {
	prefixed  bool // an element name had a namespace prefix
	emptyAttr bool // an attribute's value was empty
	// marked, when the root had a prefix (else nil), are the elements
	// unprefix must look at, in document order: each element with a
	// prefix or a namespace declaration and every element it is in (see
	// unprefixMarked). A message written with a prefix has it from its
	// root (an hl7: message, a SOAP envelope); one whose root has none
	// has its elements looked at one by one, as before, and costs
	// the scanner nothing more.
	marked []*etree.Element
}

// byteOrderMark is the UTF-8 byte order mark (U+FEFF).
const byteOrderMark = "\xef\xbb\xbf"

// maxXMLDepth is etree's default nesting limit; deeper documents go to
// etree's reader, which refuses them.
const maxXMLDepth = 1024

// xmlScanner is the state of scanXML. Names, attribute values and text
// are slices of src (one copy of the input), and the tree's elements,
// text tokens, attribute lists and child lists come from a few slabs
// instead of an allocation each.
type xmlScanner struct {
	src string
	i   int
	// notes are what it noticed in the document so far.
	notes scanNotes
	// marks are where markTag found the parts of the last tag it read,
	// and where the indentation after the last tag markTag or markEnd
	// read ends (see tagMarks).
	marks tagMarks

	readSlabs
}

// openElement is an element whose end tag is still to come.
type openElement struct {
	el *etree.Element
	// at and nameLen are where its name stands in the message, as
	// written (prefix included).
	at, nameLen int
	first       int // index in pending of its first child
	// odd: a comment or processing instruction is among its children,
	// which attach then links itself.
	odd bool
	// marked: el is in docStack's marked list.
	marked bool
}

// ScanXML parses data with the fast scanner alone: ok is true only for a
// well-formed document within the subset it reads (elements, attributes,
// text, the five predefined entities and character references, CDATA
// sections inside the root, comments, processing instructions; one root;
// nesting at most 1,024), and false for anything else — a DOCTYPE, another
// entity, a well-formedness error — which the caller must then read
// another way.
func ScanXML(data []byte) (doc *etree.Document, ok bool) { return scanXML(data) }

// scanXML parses the common subset of XML into an etree document; ok is
// false for anything outside the subset or not well-formed.
func scanXML(data []byte) (doc *etree.Document, ok bool) {
	doc, _, ok = scanXMLIn(data, nil)
	return doc, ok
}

// scanXMLIn is scanXML taking the tree's elements, text tokens, attribute
// and child lists from sp's slabs (nil: new ones); notes report
// whether an element name had a namespace prefix.
func scanXMLIn(data []byte, sp *Space) (doc *etree.Document, notes scanNotes, ok bool) {
	s := &xmlScanner{src: sp.source(data)}
	// First slabs sized for a usual message: about two elements for every
	// three tags, text between most tags, an attribute for every '='.
	lt := strings.Count(s.src, "<")
	s.readSlabs = sp.readInto(lt*2/3+1, lt+1, strings.Count(s.src, "=")+1, lt*5/3+1)
	doc, ok = s.document()
	sp.readDone(s.readSlabs)
	return doc, s.notes, ok
}

// document reads the whole input into a new document; false for anything
// the scanner leaves to etree's reader.
func (s *xmlScanner) document() (*etree.Document, bool) {
	rd := new(readDocument)
	doc := &rd.doc
	seenRoot := false
	// The tokens read but not yet attached and the elements open, both
	// starting on the stack (see docStack).
	var pendingRoom [128]etree.Token
	var openRoom [32]openElement
	var st docStack
	st.pending, st.open = pendingRoom[:0], openRoom[:0]
	// The elements unprefix must look at, listed from a prefixed root.
	var marked []*etree.Element
	// The element the tokens read now are children of (the innermost open
	// one, or the document's), and the index in pending of its first
	// child: an element or text token is told its parent and index as it
	// is read. (Locals, not docStack's: a pointer stored from there would
	// move its rooms to the heap.)
	parent, first := &doc.Element, 0
	// docOdd: a comment or processing instruction is among the tokens
	// outside the root (see openElement.odd).
	docOdd := false
	if strings.HasPrefix(s.src, byteOrderMark) {
		// A UTF-8 byte order mark, which some writers put first: etree's
		// reader keeps it as text before the root, and so does the scanner.
		cd := slabNew(&s.texts, 0)
		cd.SetData(s.src[:len(byteOrderMark)])
		linkText(cd, parent, len(st.pending)-first)
		st.pending = append(st.pending, cd)
		s.i = len(byteOrderMark)
	}
	src := s.src // the message, which the loop reads but does not change
	for s.i < len(src) {
		if src[s.i] != '<' {
			cd := slabNew(&s.texts, 0)
			// The usual indentation, a line feed and spaces up to the
			// next tag, in place (after a tag markTag or markEnd read,
			// the end of the last turn made it already); any other
			// text as indentation and chars read it.
			i, j := s.i, -1
			if src[i] == '\n' {
				for k := i + 1; k+8 <= len(src); k += 8 {
					if m := load8(src[k:k+8]) ^ ' '*eachByte; m != 0 {
						if k += bits.TrailingZeros64(m) >> 3; src[k] == '<' {
							j = k
						}
						break
					}
				}
			}
			if j >= 0 {
				s.i = j
				f := (*charDataFields)(unsafe.Pointer(cd))
				f.Data, f.parent, f.index, f.flags = src[i:j], parent, len(st.pending)-first, charDataWhitespace
				st.pending = append(st.pending, cd)
			} else if text, ok := s.indentation(); ok {
				// Most text between tags: white space the scanner
				// has just read, which SetData would read again.
				// (Field by field: cd is zero, as the slab gives it.)
				f := (*charDataFields)(unsafe.Pointer(cd))
				f.Data, f.parent, f.index, f.flags = text, parent, len(st.pending)-first, charDataWhitespace
				st.pending = append(st.pending, cd)
			} else {
				text, ok := s.chars('<')
				if !ok || len(st.open) == 0 && !isXMLSpace(text) {
					return nil, false
				}
				cd.SetData(text) // marks white space, as etree's reader does
				linkText(cd, parent, len(st.pending)-first)
				st.pending = append(st.pending, cd)
			}
			if s.i >= len(src) {
				break
			}
			// Text ends at a '<' (or the end): its tag is read in the
			// same turn of the loop.
		}
		if s.i+1 >= len(src) {
			return nil, false
		}
		switch c := src[s.i+1]; {
		case c == '/':
			if len(st.open) == 0 {
				return nil, false
			}
			top := &st.open[len(st.open)-1]
			if end := markEnd(src, s.i, top.at, top.nameLen, &s.marks); end > 0 {
				s.i = end // most end tags: read sixteen bytes at a time
			} else {
				s.marks.textEnd = 0 // not of this tag
				s.i += 2
				if !strings.HasPrefix(src[s.i:], src[top.at:top.at+top.nameLen]) {
					return nil, false
				}
				s.i += top.nameLen
				if s.i < len(src) && nameByte[src[s.i]] != 0 {
					return nil, false // a longer name
				}
				s.space()
				if !s.expect('>') {
					return nil, false
				}
			}
			if kids := st.pending[top.first:]; top.odd {
				s.attach(top.el, kids, true)
			} else {
				// attach's usual case, in place.
				child := SlabSlice(&s.kids, len(kids), 0)[:len(kids)]
				for i := range child {
					child[i] = kids[i]
				}
				top.el.Child = child
			}
			st.pending, st.open = st.pending[:top.first], st.open[:len(st.open)-1]
			parent, first = &doc.Element, 0
			if len(st.open) > 0 {
				outer := &st.open[len(st.open)-1]
				parent, first = outer.el, outer.first
			}
		case c == '?':
			target, inst, ok := s.procInst()
			if !ok {
				return nil, false
			}
			st.pending = append(st.pending, rd.procInst(target, inst))
			st.odd(&docOdd)
		case c == '!':
			if strings.HasPrefix(src[s.i:], cdataOpen) {
				text, ok := s.cdata()
				if !ok || len(st.open) == 0 {
					return nil, false // outside the root: etree's reader decides
				}
				// A text token of its own, flagged as etree's reader
				// flags it (which does not keep it a CDATA section).
				cd := slabNew(&s.texts, 0)
				cd.SetData(text)
				linkText(cd, parent, len(st.pending)-first)
				st.pending = append(st.pending, cd)
				continue
			}
			comment, ok := s.comment()
			if !ok {
				return nil, false
			}
			st.pending = append(st.pending, etree.NewComment(comment))
			st.odd(&docOdd)
		default:
			if len(st.open) == 0 && seenRoot || len(st.open) >= maxXMLDepth {
				return nil, false
			}
			s.i++
			at := s.i
			el, name, empty, ok := s.startTag()
			if !ok {
				return nil, false
			}
			if !seenRoot && el.Space != "" {
				// A prefixed root: the elements unprefix must look at
				// are listed as they are read (a few hundred in a
				// release response; see scanNotes.marked).
				marked = make([]*etree.Element, 0, 128)
			}
			seenRoot = true
			f := (*elementFields)(unsafe.Pointer(el))
			f.parent, f.index = parent, len(st.pending)-first
			st.pending = append(st.pending, el)
			if empty {
				el.Child = make([]etree.Token, 0)
			} else {
				// Field by field: a composite literal is built on the
				// stack and copied.
				if len(st.open) == cap(st.open) {
					st.open = append(st.open, openElement{})
				} else {
					st.open = st.open[:len(st.open)+1]
				}
				o := &st.open[len(st.open)-1]
				o.el, o.at, o.nameLen, o.first, o.odd, o.marked = el, at, len(name), len(st.pending), false, false
				parent, first = el, len(st.pending)
			}
			if marked != nil && (el.Space != "" || declaresNamespace(el)) {
				st.mark(&marked, el, empty)
			}
		}
		if s.marks.textEnd > s.i {
			// The usual indentation after a tag markTag or markEnd read
			// (s.i is after it; else textEnd is not more): a line feed
			// and spaces, up to the '<' at textEnd, read in this turn
			// rather than looked at again in the next.
			cd := slabNew(&s.texts, 0)
			f := (*charDataFields)(unsafe.Pointer(cd)) // zero, as the slab gives it
			f.Data, f.parent, f.index, f.flags = markedString(src, s.i, s.marks.textEnd-s.i), parent, len(st.pending)-first, charDataWhitespace
			st.pending = append(st.pending, cd)
			s.i = s.marks.textEnd
		}
	}
	if len(st.open) != 0 || !seenRoot {
		return nil, false
	}
	s.attach(&doc.Element, st.pending, docOdd)
	s.notes.marked = marked
	return doc, true
}

// docStack is what document keeps while it reads: pending holds the child
// tokens read but not yet attached (the children of each open element,
// innermost last), open the elements whose end tag is to come; both start
// in rooms on the stack. As one local struct they cost about 6 K fewer
// instructions a prescription than as two local slices, as Go 1.26
// compiles the loop (medians of 5 cachegrind pairs); behind a pointer they
// did as well, but their rooms moved to the heap (3.4 KB a message).
type docStack struct {
	pending []etree.Token
	open    []openElement
}

// mark adds element el, just read (and opened unless empty), which has a
// prefix or declares a namespace (the caller tells), to marked (the
// elements read so far that have a prefix or declare a namespace and the
// elements they are in, in document order: see scanNotes.marked), after
// the open elements (those it is in) not there yet: as the outer elements
// of one are there before it, those not there are the innermost, and come
// after every element there (none is in them). (marked is not docStack's: the list is handed
// on, and a field of docStack handed on would move its rooms to the heap.)
func (st *docStack) mark(marked *[]*etree.Element, el *etree.Element, empty bool) {
	k := len(st.open)
	for k > 0 && !st.open[k-1].marked {
		k--
	}
	for ; k < len(st.open); k++ {
		st.open[k].marked = true
		*marked = append(*marked, st.open[k].el)
	}
	if empty {
		*marked = append(*marked, el)
	}
}

// linkText tells text token cd its parent and index, as appendChild
// would.
func linkText(cd *etree.CharData, parent *etree.Element, index int) {
	f := (*charDataFields)(unsafe.Pointer(cd))
	f.parent, f.index = parent, index
}

// odd records that a comment or processing instruction, which attach
// links itself, was added to the innermost open element's children, or
// (none open) to the tokens outside the root (*docOdd).
func (st *docStack) odd(docOdd *bool) {
	if len(st.open) == 0 {
		*docOdd = true
		return
	}
	st.open[len(st.open)-1].odd = true
}

// readDocument is a document read by the scanner and the first
// processing instruction in it (most messages have one, their XML
// declaration), made in one allocation instead of two: the document is
// what etree.NewDocument makes (its lists are set when read).
type readDocument struct {
	doc  etree.Document
	decl etree.ProcInst
	used bool // decl is taken
}

// procInst returns the processing instruction <?target inst?>, not yet in
// a tree, as etree.NewProcInst makes it: the document's own the first
// time.
func (rd *readDocument) procInst(target, inst string) *etree.ProcInst {
	if rd.used {
		return etree.NewProcInst(target, inst)
	}
	rd.used = true
	rd.decl.Target, rd.decl.Inst = target, inst
	return &rd.decl
}

// attach makes kids the children of el: copied into a list of their own
// at once. Elements and text tokens were told their parent and index as
// they were read; a comment or processing instruction among them (odd)
// is linked as appendChild would link it, and so is every token after it.
func (s *xmlScanner) attach(el *etree.Element, kids []etree.Token, odd bool) {
	child := SlabSlice(&s.kids, len(kids), 0)[:len(kids)]
	// Token by token rather than copy's typedslicecopy, whose fixed
	// cost is most of it for the few children most elements have.
	for i := range child {
		child[i] = kids[i]
	}
	el.Child = child
	if !odd {
		return
	}
	for i, t := range kids {
		switch t.(type) {
		case *etree.Element, *etree.CharData:
		default:
			// From here on, one by one, in the room the list has.
			el.Child = el.Child[:i]
			for _, t := range kids[i:] {
				appendChild(el, t)
			}
			return
		}
	}
}

// slabNew returns a zero T from the slab, starting a new one when it is
// full: of size items, or (size 0) sized by nextSlab.
func slabNew[T any](slab *[]T, size int) *T {
	if len(*slab) == cap(*slab) {
		if size == 0 {
			size = nextSlab(cap(*slab), 1)
		}
		*slab = make([]T, 0, size)
	}
	*slab = (*slab)[:len(*slab)+1]
	return &(*slab)[len(*slab)-1]
}

// SlabSlice returns an empty slice with room for exactly n items, taken
// from the slab (appending beyond n reallocates, leaving the slab alone);
// a new slab has size items, or n when more (size 0: nextSlab's size).
// For n 0 it is empty and not nil, as etree makes an element's lists. The
// reader, the builder and the mapping packages' own element copies
// (release's path copies) take their lists from slabs this way instead of
// allocating each.
func SlabSlice[T any](slab *[]T, n, size int) []T {
	if n == 0 {
		return make([]T, 0) // does not allocate
	}
	if cap(*slab)-len(*slab) < n {
		if size == 0 {
			size = nextSlab(cap(*slab), n)
		}
		*slab = make([]T, 0, max(n, size))
	}
	k := len(*slab)
	*slab = (*slab)[:k+n]
	return (*slab)[k : k : k+n]
}

// nextSlab sizes a slab after the first: a quarter of the last one and
// at least 64 items, or n when more.
func nextSlab(last, n int) int {
	return max(n, last/4, 64)
}

// startTag reads an element's start tag after '<' and makes the element;
// empty reports a self-closing tag.
func (s *xmlScanner) startTag() (el *etree.Element, name string, empty, ok bool) {
	// The attributes are read into the attribute slab's free part (a
	// Space sizes the slab for every attribute of the message; a full one
	// is followed by a new one first), each told its element as it is
	// read, and copied only when there were more than it had room for.
	// (No room of the scanner's own: a pointer into itself would move the
	// scanner to the heap, an allocation a message.)
	if len(s.attrs) == cap(s.attrs) {
		s.attrs = make([]etree.Attr, 0, nextSlab(cap(s.attrs), 1))
	}
	el = slabNew(&s.elems, 0)
	into := s.attrs[len(s.attrs):]
	room := into[:min(cap(into), maxMarkedAttrs)]
	if end := markTag(s.src, s.i, len(room), &s.marks); end > 0 {
		// Most tags: read sixteen bytes at a time (see tagmarks.go).
		if n := s.markedAttrs(room, el); n >= 0 {
			m := &s.marks
			name = markedString(s.src, s.i, m.nameLen)
			el.Tag = markedString(s.src, m.tagStart, m.tagLen)
			if m.spaceLen != 0 {
				el.Space = markedString(s.src, s.i, m.spaceLen)
				s.notes.prefixed = true
			}
			s.i = end
			if n == 0 {
				el.Attr = make([]etree.Attr, 0) // as etree makes it; does not allocate
			} else {
				s.attrs = s.attrs[:len(s.attrs)+n]
				el.Attr = into[:n:n]
			}
			return el, name, m.flags&markEmpty != 0, true
		}
	}
	s.marks.textEnd = 0 // not of this tag
	n, name, prefix, empty, ok := s.plainTagWords(into, el)
	if ok {
		el.Space, el.Tag = prefix, name // plainTag split the name: no second look for ':'
		if prefix != "" {
			el.Tag = name[len(prefix)+1:]
			s.notes.prefixed = true
		}
		if n == 0 {
			el.Attr = make([]etree.Attr, 0) // as etree makes it; does not allocate
			return el, name, empty, true
		}
		s.attrs = s.attrs[:len(s.attrs)+n]
		el.Attr = into[:n:n]
		return el, name, empty, true
	}
	attrs, name, prefix, empty, ok := s.anyTag(false, into)
	if !ok {
		// What the readers wrote there (at most maxScannedAttrs) is not
		// the slab's: nothing of it may stay reachable.
		clear(into[:min(cap(into), maxScannedAttrs)])
		return nil, "", false, false
	}
	el.Space, el.Tag = prefix, name
	if prefix != "" {
		el.Tag = name[len(prefix)+1:]
		s.notes.prefixed = true
	}
	if len(attrs) > 0 && &attrs[0] == &into[:1][0] {
		// Read in place (anyTag refused a repeated name): taken.
		s.attrs = s.attrs[:len(s.attrs)+len(attrs)]
		el.Attr = attrs[:len(attrs):len(attrs)]
		for i := range el.Attr {
			(*attrFields)(unsafe.Pointer(&el.Attr[i])).element = el
		}
		return el, name, empty, true
	}
	el.Attr = SlabSlice(&s.attrs, len(attrs), 0)
	for i := range attrs {
		a := &attrs[i]
		appendAttr(el, a.Space, a.Key, a.Value) // anyTag refused a repeated name
	}
	return el, name, empty, true
}

// readTag reads a start tag's name and attributes after '<' (the
// attributes appended to attrs[:0] and returned), refusing a repeated attribute
// (etree decides what one means). For the root (isRoot) space is the
// namespace the tag declares for its own prefix, or the prefix when it
// declares none. walk reads with it and builds nothing; startTag, which
// makes the element, reads with plainTag and anyTag itself.
func (s *xmlScanner) readTag(isRoot bool, attrs []etree.Attr) (tagAttr []etree.Attr, name, space string, empty, ok bool) {
	if !isRoot {
		var n int
		if n, name, space, empty, ok = s.plainTag(attrs, nil); ok {
			return attrs[:n], name, space, empty, true
		}
	}
	return s.anyTag(isRoot, attrs)
}

// anyTag is readTag for any start tag: its names, white space, values and
// references read step by step.
func (s *xmlScanner) anyTag(isRoot bool, attrs []etree.Attr) (tagAttr []etree.Attr, name, space string, empty, ok bool) {
	var colon int
	name, colon, ok = s.name()
	if !ok {
		return nil, "", "", false, false
	}
	prefix := ""
	if colon >= 0 {
		prefix = name[:colon]
	}
	space = prefix
	declared := false
	tagAttr = attrs[:0]
	for {
		sp := s.space()
		if s.i >= len(s.src) {
			return nil, "", "", false, false
		}
		if c := s.src[s.i]; c == '>' || c == '/' {
			s.i++
			if c == '/' && !s.expect('>') {
				return nil, "", "", false, false
			}
			empty = c == '/'
			break
		}
		if !sp {
			return nil, "", "", false, false
		}
		key, keyColon, ok := s.name()
		if !ok {
			return nil, "", "", false, false
		}
		s.space()
		if !s.expect('=') {
			return nil, "", "", false, false
		}
		s.space()
		val, ok := s.attrValue()
		if !ok {
			return nil, "", "", false, false
		}
		s.notes.emptyAttr = s.notes.emptyAttr || val == ""
		a := etree.Attr{Key: key, Value: val}
		if keyColon >= 0 {
			a.Space, a.Key = key[:keyColon], key[keyColon+1:]
		}
		if len(tagAttr) == maxScannedAttrs || repeatedAttr(tagAttr, a) {
			return nil, "", "", false, false
		}
		tagAttr = append(tagAttr, a)
		if isRoot && !declared && declaresPrefix(a, prefix) {
			space, declared = val, true
		}
	}
	return tagAttr, name, space, empty, true
}

// plainTag is readTag for a start tag (other than the root's as walk
// reads it, which may declare its namespace) written the plain way most
// are: ASCII names, white space before each attribute, '=' and the quote
// right after its name, a value of printable ASCII, tabs and line feeds
// (no reference, no '<', no carriage return), and no more attributes than
// attrs has room for (its capacity, at most maxScannedAttrs). It reads
// such a tag in one loop with its position in a local, writing the
// attributes into attrs[:n] as they are read, each told its element el
// (nil for none), and gives the same attributes, name and prefix as
// anyTag; ok is false, and nothing of the scanner changed (what it wrote
// to attrs' room aside), for any other tag, which anyTag then reads from
// its start, to the same end or the same refusal. It refuses nothing
// itself. markTag reads most such tags sixteen bytes at a time (see
// tagmarks.go); plainTagWords reads the others.
func (s *xmlScanner) plainTag(attrs []etree.Attr, el *etree.Element) (n int, name, space string, empty, ok bool) {
	room := attrs[:min(cap(attrs), maxScannedAttrs)]
	if end := markTag(s.src, s.i, min(len(room), maxMarkedAttrs), &s.marks); end > 0 {
		return s.markedTag(end, room, el)
	}
	return s.plainTagWords(attrs, el)
}

// plainTagWords is plainTag reading eight bytes at a time (names'
// letters, values' plain bytes) and the rest byte by byte: every tag
// plainTag reads, the same way on every architecture.
func (s *xmlScanner) plainTagWords(attrs []etree.Attr, el *etree.Element) (n int, name, space string, empty, ok bool) {
	src, i := s.src, s.i
	start := i
	if i >= len(src) || nameByte[src[i]] != nameStart {
		return 0, "", "", false, false
	}
	i = skipLetters(src, i)
	for i < len(src) && nameByte[src[i]] > nameColon {
		i++
	}
	if i < len(src) && src[i] == ':' {
		space = src[start:i]
		i++
		if i >= len(src) || nameByte[src[i]] <= nameColon {
			return 0, "", "", false, false
		}
		for i < len(src) && nameByte[src[i]] > nameColon {
			i++
		}
	}
	name = src[start:i]
	room := attrs[:min(cap(attrs), maxScannedAttrs)]
	emptyAttr := false
	for {
		sp := i
		for i < len(src) && isXMLSpaceByte(src[i]) {
			i++
		}
		if i+1 >= len(src) {
			return 0, "", "", false, false
		}
		c := src[i]
		if c == '>' {
			i++
			break
		}
		if c == '/' {
			if src[i+1] != '>' {
				return 0, "", "", false, false
			}
			i += 2
			empty = true
			break
		}
		if i == sp || nameByte[c] != nameStart || n >= len(room) {
			return 0, "", "", false, false
		}
		keyStart := i
		for i+8 <= len(src) {
			if m := nonLetters(load8(src[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(src) && nameByte[src[i]] > nameColon {
			i++
		}
		key, keySpace := src[keyStart:i], ""
		if i < len(src) && src[i] == ':' {
			i++
			localStart := i
			if i >= len(src) || nameByte[src[i]] <= nameColon {
				return 0, "", "", false, false
			}
			for i < len(src) && nameByte[src[i]] > nameColon {
				i++
			}
			keySpace, key = key, src[localStart:i]
		}
		if i+1 >= len(src) || src[i] != '=' || src[i+1] != '"' && src[i+1] != '\'' {
			return 0, "", "", false, false
		}
		q := src[i+1]
		qs := uint64(q) * eachByte
		i += 2
		valStart := i
		// The value, eight bytes at a time while eight remain, then
		// byte by byte: only the closing quote, a tab or a line feed
		// may stop the run (anything else unplain marks goes to
		// anyTag).
	value:
		for {
			for i+8 <= len(src) {
				m := unplainEach(load8(src[i:i+8]), qs)
				if m == 0 {
					i += 8
					continue
				}
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			if i >= len(src) {
				return 0, "", "", false, false
			}
			switch c := src[i]; {
			case c == q:
				break value
			case c == '\t' || c == '\n' || c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<':
				i++
			default:
				return 0, "", "", false, false
			}
		}
		val := src[valStart:i]
		i++
		emptyAttr = emptyAttr || val == ""
		// A repeated name, as repeatedAttr finds it.
		for j := range room[:n] {
			if b := &room[j]; len(b.Key) == len(key) && b.Key[0] == key[0] && b.Key == key && (keySpace == "" || keySpace == b.Space) {
				return 0, "", "", false, false
			}
		}
		a := (*attrFields)(unsafe.Pointer(&room[n]))
		a.Space, a.Key, a.Value, a.element = keySpace, key, val, el
		n++
	}
	s.i = i
	s.notes.emptyAttr = s.notes.emptyAttr || emptyAttr
	return n, name, space, empty, true
}

// maxScannedAttrs is the most attributes a start tag may have for the
// scanner, which checks each against those before it: a tag with more (no
// HL7 v3, SOAP or ebXML element has nearly as many) goes to the other
// readers, which check with a map. Checked pairwise, a tag of 4 MiB of
// attributes cost a quarter of an hour of CPU (gateway's
// TestManyAttributesOnOneElement).
const maxScannedAttrs = 64

// declaresPrefix reports whether attribute a declares the namespace of
// prefix: xmlns for no prefix, xmlns:prefix for one.
func declaresPrefix(a etree.Attr, prefix string) bool {
	if prefix == "" {
		return a.Space == "" && a.Key == "xmlns"
	}
	return a.Space == "xmlns" && a.Key == prefix
}

// repeatedAttr reports whether attribute a matches one of before as
// etree's SelectAttr would find it (a name without prefix matches the same
// local name with any prefix).
func repeatedAttr(before []etree.Attr, a etree.Attr) bool {
	for i := range before {
		if b := &before[i]; b.Key == a.Key && (a.Space == "" || a.Space == b.Space) {
			return true
		}
	}
	return false
}

// name reads an XML name made of ASCII name characters (at most one colon,
// not first or last, at index colon of the name, or -1); other names go to
// etree's reader.
func (s *xmlScanner) name() (name string, colon int, ok bool) {
	rest := s.src[s.i:]
	n := nameRun(rest)
	colon = -1
	if n < len(rest) && rest[n] == ':' {
		colon = n
		n += 1 + nameRun(rest[n+1:])
		if n < len(rest) && rest[n] == ':' {
			return "", 0, false
		}
	}
	s.i += n
	if n == 0 || nameByte[rest[0]] != nameStart || colon == n-1 {
		return "", 0, false
	}
	return rest[:n], colon, true
}

// nameRun returns the length of the run of name bytes other than ':' that
// b starts with: a loop the compiler checks no index of.
func nameRun(b string) int {
	for i := 0; i < len(b); i++ {
		if nameByte[b[i]] <= nameColon {
			return i
		}
	}
	return len(b)
}

// skipLetters returns i moved past the ASCII letters src[i:] starts with,
// eight bytes at a time while eight remain (most of a name is letters);
// the caller reads the rest of the name byte by byte.
func skipLetters(src string, i int) int {
	for i+8 <= len(src) {
		if m := nonLetters(load8(src[i : i+8])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

// nonLetters returns the top bit of each of the eight bytes of x (as a
// little-endian word) that is not an ASCII letter, exactly: a byte is a
// letter when its top bit is clear and, lower-cased by setting 0x20, it
// lies in 'a'..'z'. The two sums cannot carry from one byte into the next
// (each byte is at most 0x7f before them).
func nonLetters(x uint64) uint64 {
	y := (x | 0x20*eachByte) &^ highBits
	atLeastA := y + (0x80-'a')*eachByte // top bit set where y >= 'a'
	aboveZ := y + (0x80-'z'-1)*eachByte // top bit set where y > 'z'
	return ^(atLeastA &^ aboveZ &^ x) & highBits
}

// load8 returns the first eight bytes of s as a little-endian word (one
// load: the compiler combines the byte reads).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Byte-wise constants of the eight-bytes-at-a-time tests.
const (
	eachByte = 0x0101010101010101 // 1 in every byte
	highBits = 0x8080808080808080 // the top bit of every byte
)

// Kinds of byte in nameByte.
const (
	nameColon = 1 + iota // ':' (not first, at most once, not last)
	nameStart            // a letter or '_'
	nameMore             // a digit, '-' or '.'
)

// nameByte classifies the ASCII bytes names are made of; the scanner
// leaves other names to etree's reader.
var nameByte = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = nameStart, nameStart
	}
	t['_'] = nameStart
	for _, c := range "0123456789-." {
		t[c] = nameMore
	}
	t[':'] = nameColon
	return t
}()

// plainByte marks the bytes character data is mostly made of, which it
// takes as they are: printable ASCII other than the markup characters
// & < > and the quotes, and the tab and line feed of indentation.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`&<>"'`, rune(c))
	}
	t['\t'], t['\n'] = true, true
	return t
}()

// space skips white space and reports whether there was any. Most calls
// meet none or one space: the position is kept in a local while looking.
func (s *xmlScanner) space() bool {
	src, i := s.src, s.i
	for i < len(src) && isXMLSpaceByte(src[i]) {
		i++
	}
	if i == s.i {
		return false
	}
	s.i = i
	return true
}

func (s *xmlScanner) expect(c byte) bool {
	if s.i < len(s.src) && s.src[s.i] == c {
		s.i++
		return true
	}
	return false
}

// attrValue reads a quoted attribute value.
func (s *xmlScanner) attrValue() (string, bool) {
	if s.i >= len(s.src) || (s.src[s.i] != '"' && s.src[s.i] != '\'') {
		return "", false
	}
	q := s.src[s.i]
	s.i++
	return s.chars(q)
}

// unplain returns the top bit of each of the eight bytes of x (as a
// little-endian word) that chars must look at, exact up to the first such
// byte (a later one may be marked wrongly): a control character, a byte
// of a multi-byte UTF-8 sequence, '&', '<', or third. Every other byte is
// printable ASCII that chars takes as it is (plainByte's bytes, and those
// its switch passes over: '>' in an attribute value, the quote that does
// not end it, quotes in text, DEL).
func unplain(x uint64, third byte) uint64 { return unplainEach(x, uint64(third)*eachByte) }

// unplainEach is unplain with third in every byte of thirds, which a loop
// makes once instead of once a word.
func unplainEach(x, thirds uint64) uint64 {
	ctl := (x - 0x20*eachByte) &^ x
	return (x | ctl | zeroByte(x^'&'*eachByte) | zeroByte(x^'<'*eachByte) |
		zeroByte(x^thirds)) & highBits
}

// zeroByte returns a word whose top bit is set in each zero byte of x, and
// maybe in bytes above one (the "has zero" byte test, whose borrows only
// go upwards), to be masked with highBits.
func zeroByte(x uint64) uint64 { return (x - eachByte) &^ x }

// indentation reads a run of spaces, tabs and line feeds up to a '<' (the
// indentation between tags, which needs no decoding), or reads nothing and
// reports false for any other text.
func (s *xmlScanner) indentation() (string, bool) {
	src, i := s.src, s.i
scan:
	for i < len(src) {
		switch src[i] {
		case ' ':
			// Eight bytes at a time, the bulk of most indentation: the
			// first that is not a space ends the run of spaces.
			for i+8 <= len(src) {
				if m := load8(src[i:i+8]) ^ ' '*eachByte; m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					continue scan
				}
				i += 8
			}
			for i < len(src) && src[i] == ' ' {
				i++
			}
		case '\n', '\t':
			i++
		default:
			break scan
		}
	}
	if i == s.i || i == len(src) || src[i] != '<' {
		return "", false
	}
	text := s.src[s.i:i]
	s.i = i
	return text, true
}

// chars reads characters up to stop (consumed unless it is '<'), decoding
// entity and character references and normalising line ends.
func (s *xmlScanner) chars(stop byte) (string, bool) {
	src, i := s.src, s.i
	start := i
	plain := true
	// Besides '&' and '<', the byte that ends the run: the closing quote
	// of an attribute value, or, in text, '>' (of a "]]>"); in every byte
	// of a word, made once.
	third := stop
	if stop == '<' {
		third = '>'
	}
	thirds := uint64(third) * eachByte
	for i < len(src) {
		// The usual case: printable ASCII, sixteen bytes at a time on
		// amd64 (textRun), going on after a line feed or tab (of base64
		// wrapped in lines, or text written over several), then eight
		// bytes at a time.
		for {
			if i += textRun(src[i:], thirds); i < len(src) && (src[i] == '\n' || src[i] == '\t') {
				i++
				continue
			}
			break
		}
		for i+8 <= len(src) {
			// Eight bytes at a time: printable ASCII.
			if m := unplainEach(load8(src[i:i+8]), thirds); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				if c := src[i]; c != '\n' && c != '\t' {
					break
				}
				// A line feed or tab (of base64 wrapped in lines, or
				// text written over several), taken as it is: on eight
				// bytes at a time after it.
				i++
				continue
			}
			i += 8
		}
		for i < len(src) && plainByte[src[i]] {
			i++
		}
		if i == len(src) {
			break
		}
		c := src[i]
		if c == stop {
			break
		}
		switch {
		case c == '&' || c == '\r':
			plain = false
		case c == '<':
			s.i = i
			return "", false
		case c == '>' && stop == '<' && i >= start+2 && src[i-1] == ']' && src[i-2] == ']':
			s.i = i
			return "", false
		case c < 0x20 && c != '\t' && c != '\n':
			s.i = i
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				s.i = i
				return "", false
			}
			i += size
			continue
		}
		i++
	}
	s.i = i
	if i >= len(src) && stop != '<' {
		return "", false
	}
	raw := src[start:i]
	if stop != '<' {
		s.i++
	}
	if plain {
		return raw, true
	}
	return s.decode(raw)
}

// decode resolves references and line ends in raw character data, into
// a string of its own made in one allocation (what is decoded is never
// longer than raw).
func (s *xmlScanner) decode(raw string) (string, bool) {
	out := make([]byte, 0, len(raw))
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		switch c {
		case '\r':
			out = append(out, '\n')
			if j+1 < len(raw) && raw[j+1] == '\n' {
				j++
			}
		case '&':
			end := j + 1
			for end < len(raw) && raw[end] != ';' && end-j < 12 {
				end++
			}
			if end >= len(raw) || raw[end] != ';' {
				return "", false
			}
			ref := raw[j+1 : end]
			var r rune
			switch ref {
			case "lt":
				r = '<'
			case "gt":
				r = '>'
			case "amp":
				r = '&'
			case "apos":
				r = '\''
			case "quot":
				r = '"'
			default:
				var ok bool
				if r, ok = charRef(ref); !ok {
					return "", false
				}
			}
			out = utf8.AppendRune(out, r)
			j = end
		default:
			out = append(out, c)
		}
	}
	return unsafe.String(unsafe.SliceData(out), len(out)), true // out is not written again
}

// charRef decodes "#123" or "#x7B" to a character allowed in XML.
func charRef(ref string) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, false
		}
		r = r*rune(base) + v
	}
	if !isXMLChar(r) {
		return 0, false
	}
	return r, true
}

// cdataOpen starts a CDATA section.
const cdataOpen = "<![CDATA["

// cdata reads a CDATA section, <![CDATA[text]]>, at s.i and returns its
// text as etree's reader reads it (into a text token of its own): as it
// stands, markup characters and references included, with its line ends
// normalised ("\r\n" and "\r" to "\n"). ok is false for a section that is
// not closed or holds a character XML does not allow (a control
// character, invalid UTF-8), which etree's reader refuses.
func (s *xmlScanner) cdata() (text string, ok bool) {
	start := s.i + len(cdataOpen)
	n := strings.Index(s.src[start:], "]]>")
	if n < 0 {
		return "", false
	}
	raw := s.src[start : start+n]
	s.i = start + n + len("]]>")
	returns := false
	for j := 0; j < len(raw); {
		switch c := raw[j]; {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(raw[j:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return "", false
			}
			j += size
			continue
		case c == '\r':
			returns = true
		case c < 0x20 && c != '\t' && c != '\n':
			return "", false
		}
		j++
	}
	if !returns {
		return raw, true
	}
	out := make([]byte, 0, len(raw))
	for j := 0; j < len(raw); j++ {
		if c := raw[j]; c != '\r' {
			out = append(out, c)
			continue
		}
		out = append(out, '\n')
		if j+1 < len(raw) && raw[j+1] == '\n' {
			j++
		}
	}
	return unsafe.String(unsafe.SliceData(out), len(out)), true // out is not written again
}

// procInst reads <?target inst?>.
func (s *xmlScanner) procInst() (target, inst string, ok bool) {
	s.i += 2
	target, _, ok = s.name()
	if !ok {
		return "", "", false
	}
	s.space()
	start := s.i
	for s.i+1 < len(s.src) {
		if s.src[s.i] == '?' && s.src[s.i+1] == '>' {
			inst = s.src[start:s.i]
			s.i += 2
			if target == "xml" && !plainDeclaration(inst) {
				return "", "", false
			}
			return target, inst, true
		}
		if s.src[s.i] < 0x20 && !isXMLSpaceByte(s.src[s.i]) || s.src[s.i] >= utf8.RuneSelf {
			return "", "", false
		}
		s.i++
	}
	return "", "", false
}

// plainDeclaration accepts an XML declaration for version 1.0 in UTF-8 (or
// without an encoding); others go to etree's reader.
func plainDeclaration(inst string) bool {
	enc := ""
	// Spaces before "?>", which some writers put there, as etree's
	// reader takes them.
	inst = strings.TrimRight(inst, " ")
	for inst != "" {
		var key, value string
		var ok bool
		if key, value, inst, ok = nextDeclared(inst); !ok {
			return false
		}
		switch key {
		case "version":
			if value != "1.0" {
				return false
			}
		case "encoding":
			enc = value
		case "standalone":
		default:
			return false
		}
	}
	return enc == "" || enc == "UTF-8" || enc == "utf-8"
}

// nextDeclared reads the first pair of `version="1.0" encoding="UTF-8"`
// (spaces before it skipped) and returns it with what follows it; ok is
// false when inst does not start with such a pair.
func nextDeclared(inst string) (key, value, rest string, ok bool) {
	for len(inst) > 0 && inst[0] == ' ' {
		inst = inst[1:]
	}
	eq := strings.IndexByte(inst, '=')
	if eq < 0 || eq+1 >= len(inst) || (inst[eq+1] != '"' && inst[eq+1] != '\'') {
		return "", "", "", false
	}
	q := inst[eq+1]
	end := strings.IndexByte(inst[eq+2:], q)
	if end < 0 {
		return "", "", "", false
	}
	end += eq + 2
	return inst[:eq], inst[eq+2 : end], inst[end+1:], true
}

// comment reads <!--comment-->; any other <! construct is left to etree's
// reader.
func (s *xmlScanner) comment() (string, bool) {
	if s.i+4 > len(s.src) || s.src[s.i:s.i+4] != "<!--" {
		return "", false
	}
	start := s.i + 4
	for j := start; j+2 < len(s.src); j++ {
		if s.src[j] == '-' && s.src[j+1] == '-' {
			if s.src[j+2] != '>' {
				return "", false
			}
			s.i = j + 3
			c := s.src[start:j]
			for k := 0; k < len(c); k++ {
				if ch := c[k]; ch < 0x20 && !isXMLSpaceByte(ch) || ch >= utf8.RuneSelf {
					return "", false
				}
			}
			return c, true
		}
	}
	return "", false
}

// isXMLSpaceByte reports whether c is XML white space: a space, tab, line
// feed or carriage return (one compare and a bit test).
func isXMLSpaceByte(c byte) bool { return c <= ' ' && xmlSpaceBits&(uint64(1)<<c) != 0 }

// xmlSpaceBits has bit c set for each white space byte c.
const xmlSpaceBits uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

func isXMLSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isXMLSpaceByte(s[i]) {
			return false
		}
	}
	return true
}

// isXMLChar reports whether r may appear in an XML document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
