package v3

import (
	"strings"

	"github.com/beevik/etree"
)

// XMLElement is an element as WalkXML meets it. Its strings share the
// walked document's memory.
type XMLElement struct {
	// Space is the element's prefix ("" for none) and Tag its local name,
	// as etree splits them.
	Space, Tag string
	// Parent is the parent element's local name, "" for the root.
	Parent string
	// Depth is how deep the element is, the root being 1.
	Depth int
	// Text, at End only, is the character data that follows the start tag
	// up to the first child element or processing instruction (comments
	// skipped), references decoded: etree's Element.Text.
	Text string
	// attrs are the start tag's attributes (at Start only).
	attrs []etree.Attr
}

// Attr returns the value of the attribute key, found as etree's
// SelectAttrValue finds it (a key without prefix matches any prefix), or
// def when there is none. Attributes are there at Start only.
func (e *XMLElement) Attr(key, def string) string {
	space, local := "", key
	if colon := strings.IndexByte(key, ':'); colon >= 0 {
		space, local = key[:colon], key[colon+1:]
	}
	for _, a := range e.attrs {
		if a.Key == local && (space == "" || space == a.Space) {
			return a.Value
		}
	}
	return def
}

// XMLVisitor receives the elements WalkXML reads, in document order;
// either may be nil. The element passed is reused: keep none of it past
// the call but its strings.
type XMLVisitor struct {
	// Start is called at each element's start tag.
	Start func(e *XMLElement)
	// End is called at each element's end (for an empty-element tag,
	// right after Start), with its Text.
	End func(e *XMLElement)
}

// WalkXML reads doc with the fast scanner's rules, building nothing, and
// calls v for every element. ok is true for exactly the documents ScanXML
// reads; when it is false the walk stopped part way, and the caller must
// discard what it gathered and read doc another way (ReadXML).
func WalkXML(doc string, v XMLVisitor) (ok bool) {
	s := xmlScanner{src: doc}
	_, ok = s.walk(&v)
	return ok
}

// WalkTree calls v for el and every element under it, in document order,
// as WalkXML calls it for the elements of a document it reads: the same
// visitor serves a tree read another way (ReadXML's fallback).
func WalkTree(el *etree.Element, v XMLVisitor) {
	var e XMLElement
	walkTree(el, "", 1, &v, &e)
}

// walkTree is WalkTree at depth under a parent of local name parent; e is
// the element passed to v, reused.
func walkTree(el *etree.Element, parent string, depth int, v *XMLVisitor, e *XMLElement) {
	if v.Start != nil {
		e.Space, e.Tag, e.Parent, e.Depth, e.Text = el.Space, el.Tag, parent, depth, ""
		e.attrs = append(e.attrs[:0], el.Attr...)
		v.Start(e)
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			walkTree(c, el.Tag, depth+1, v, e)
		}
	}
	if v.End != nil {
		e.Space, e.Tag, e.Parent, e.Depth, e.Text = el.Space, el.Tag, parent, depth, el.Text()
		e.attrs = e.attrs[:0]
		v.End(e)
	}
}

// walkFrame is an element whose end tag is still to come.
type walkFrame struct {
	name string // as written, prefix included
	// textDone: a child element or processing instruction came, which
	// ends the element's Text.
	textDone bool
	text     string   // Text so far
	more     []string // Text's further pieces, when it has several
}

// addText adds a run of text (character data or a CDATA section) to the
// frame's Text, unless a child element or processing instruction ended it.
func (f *walkFrame) addText(text string) {
	switch {
	case f.textDone:
	case f.text == "":
		f.text = text
	default:
		f.more = append(f.more, text)
	}
}

// walk is document without the tree: the same steps, in the same order,
// refusing exactly what document refuses, calling v (nil: nobody) for
// every element. It returns the root and depth as CheckXML reports them.
func (s *xmlScanner) walk(v *XMLVisitor) (XMLRoot, bool) {
	var root XMLRoot
	seenRoot := false
	var openRoom [32]walkFrame
	open := openRoom[:0]
	visits := v != nil && (v.Start != nil || v.End != nil)
	wantText := v != nil && v.End != nil
	// The element passed to v, made only for a visitor (passed to its
	// functions, it lives on the heap); without one (CheckXML) the
	// attributes are read into room on the stack: no allocation.
	// (plainTag reads attributes only into the room there is.)
	var attrRoom [16]etree.Attr
	var el *XMLElement
	if visits {
		el = &XMLElement{attrs: make([]etree.Attr, 0, len(attrRoom))}
	}
	attrs := attrRoom[:0]
	if strings.HasPrefix(s.src, byteOrderMark) {
		s.i = len(byteOrderMark) // text before the root, as document reads it
	}
	for s.i < len(s.src) {
		if s.src[s.i] != '<' {
			// Indentation as document reads it, else any text.
			text, ok := s.indentation()
			if !ok {
				text, ok = s.chars('<')
			}
			if !ok || len(open) == 0 && !isXMLSpace(text) {
				return XMLRoot{}, false
			}
			if wantText && len(open) > 0 {
				open[len(open)-1].addText(text)
			}
			continue
		}
		if s.i+1 >= len(s.src) {
			return XMLRoot{}, false
		}
		switch c := s.src[s.i+1]; {
		case c == '/':
			if len(open) == 0 {
				return XMLRoot{}, false
			}
			s.i += 2
			top := &open[len(open)-1]
			if !strings.HasPrefix(s.src[s.i:], top.name) {
				return XMLRoot{}, false
			}
			s.i += len(top.name)
			if s.i < len(s.src) && nameByte[s.src[s.i]] != 0 {
				return XMLRoot{}, false // a longer name
			}
			s.space()
			if !s.expect('>') {
				return XMLRoot{}, false
			}
			if wantText {
				el.Space, el.Tag = splitName(top.name)
				el.Parent, el.Depth, el.Text = "", len(open), top.text
				if len(open) > 1 {
					el.Parent = localName(open[len(open)-2].name)
				}
				if top.more != nil {
					el.Text += strings.Join(top.more, "")
				}
				v.End(el)
			}
			open = open[:len(open)-1]
		case c == '?':
			if _, _, ok := s.procInst(); !ok {
				return XMLRoot{}, false
			}
			if len(open) > 0 {
				open[len(open)-1].textDone = true
			}
		case c == '!':
			if strings.HasPrefix(s.src[s.i:], cdataOpen) {
				text, ok := s.cdata()
				if !ok || len(open) == 0 {
					return XMLRoot{}, false
				}
				if wantText {
					open[len(open)-1].addText(text)
				}
				continue
			}
			if _, ok := s.comment(); !ok {
				return XMLRoot{}, false
			}
		default:
			if len(open) == 0 && seenRoot || len(open) >= maxXMLDepth {
				return XMLRoot{}, false
			}
			s.i++
			var name, space string
			var empty, ok bool
			if visits {
				el.attrs, name, space, empty, ok = s.readTag(!seenRoot, el.attrs)
			} else {
				attrs, name, space, empty, ok = s.readTag(!seenRoot, attrs)
			}
			if !ok {
				return XMLRoot{}, false
			}
			if !seenRoot {
				root.Space, root.Local = space, localName(name)
				seenRoot = true
			}
			root.Depth = max(root.Depth, len(open)+1)
			root.Elements++
			if !visits {
				if !empty {
					open = append(open, walkFrame{name: name})
				}
				continue
			}
			el.Space, el.Tag = splitName(name)
			el.Parent, el.Depth, el.Text = "", len(open)+1, ""
			if len(open) > 0 {
				top := &open[len(open)-1]
				el.Parent, top.textDone = localName(top.name), true
			}
			if v.Start != nil {
				v.Start(el)
			}
			el.attrs = el.attrs[:0]
			if empty {
				if wantText {
					v.End(el)
				}
				continue
			}
			open = append(open, walkFrame{name: name})
		}
	}
	if len(open) != 0 || !seenRoot {
		return XMLRoot{}, false
	}
	return root, true
}

// splitName splits a name as written into its prefix and local name.
func splitName(name string) (space, local string) {
	if colon := strings.IndexByte(name, ':'); colon >= 0 {
		return name[:colon], name[colon+1:]
	}
	return "", name
}

// localName is a name as written without its prefix.
func localName(name string) string {
	_, local := splitName(name)
	return local
}
