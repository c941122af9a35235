package core

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// WriteIndented serialises a document built in code as etree's
// Indent(2) followed by WriteToBytes would, in one pass: each element on
// its own line, two spaces per level, an element holding only text on one
// line. Character data between child elements is taken to be indentation
// and replaced; an element without child elements is written on one line
// with its text and comments. It is meant for documents porxgate makes
// (elements, attributes, text, comments, processing instructions).
func WriteIndented(doc *etree.Document) []byte { return writeIndented(doc, "", nil) }

// writeIndented is WriteIndented that writes raw in place of a comment
// whose text is marker (a fragment that must keep its own bytes).
func writeIndented(doc *etree.Document, marker string, raw []byte) []byte {
	w := xmlWriter{marker: marker, raw: raw}
	return w.write(doc, len(raw))
}

// write writes doc into the write buffer of the Space it was built in
// (grown as it needs, and kept, up to 64 KiB, for the Space's next
// documents) and returns a copy, or else into a buffer of DocumentSize
// plus extra, which it fills without growing. (Sizing every document
// first cost more: 3 % of a cancellation's FHIR → v3 instructions.)
func (w *xmlWriter) write(doc *etree.Document, extra int) []byte {
	return v3.WriteInSpace(doc, func(buf []byte) []byte {
		if buf == nil {
			buf = make([]byte, 0, DocumentSize(doc)+extra)
		}
		w.buf = buf
		return w.document(doc)
	})
}

// DocumentSize is the size of doc as WriteIndented writes it, but for
// escapes and markers: what its buffer is made with, so that it is neither
// grown nor much too large.
func DocumentSize(doc *etree.Document) int {
	n := 64 // and room for a few escapes
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.ProcInst:
			n += len(t.Target) + len(t.Inst) + 6
		case *etree.Element:
			n += elementSize(t, 0) + 1
		}
	}
	return n
}

// elementSize is the size of e written at depth (its line break and
// indentation included), but for escapes.
func elementSize(e *etree.Element, depth int) int {
	name := len(e.Tag)
	if e.Space != "" {
		name += len(e.Space) + 1
	}
	n := 1 + 2*depth + 2*name + 5 // <name>…</name> on its own line
	if len(e.Child) == 0 {
		n = 1 + 2*depth + name + 3 // <name/>
	}
	for i := range e.Attr { // by index: a copy of each Attr costs more than the sum
		a := &e.Attr[i]
		n += len(a.Space) + len(a.Key) + len(a.Value) + 5
	}
	closing := false
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			closing = true
			n += elementSize(c, depth+1)
		case *etree.CharData:
			n += len(c.Data)
		case *etree.Comment:
			n += len(c.Data) + 8 + 2*depth
		}
	}
	if closing { // the end tag on a line of its own
		n += 1 + 2*depth
	}
	return n
}

// WriteIndentedQueue is WriteIndented that writes the raws in turn in
// place of the comments whose text is marker, in document order, and says
// how many it wrote; a marker beyond the last raw stays a comment.
func WriteIndentedQueue(doc *etree.Document, marker string, raws [][]byte) ([]byte, int) {
	size := 0
	for _, r := range raws {
		size += len(r)
	}
	w := xmlWriter{marker: marker, queue: raws, queued: true}
	out := w.write(doc, size)
	return out, w.next
}

// document writes the document's declaration and root.
func (w *xmlWriter) document(doc *etree.Document) []byte {
	first := true
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.ProcInst:
			if !first {
				w.buf = append(w.buf, '\n')
			}
			w.buf = append(w.buf, "<?"...)
			w.buf = append(w.buf, t.Target...)
			if t.Inst != "" {
				w.buf = append(w.buf, ' ')
				w.buf = append(w.buf, t.Inst...)
			}
			w.buf = append(w.buf, "?>"...)
			first = false
		case *etree.Element:
			if !first {
				w.buf = append(w.buf, '\n')
			}
			w.buf = w.element(w.buf, t, 0)
			first = false
		}
	}
	return append(w.buf, '\n')
}

// xmlWriter carries WriteIndented's output and its raw fragment (or, when
// queued, its raw fragments in turn).
type xmlWriter struct {
	buf    []byte
	marker string
	raw    []byte
	queued bool
	queue  [][]byte
	next   int
}

// comment appends a comment, or the raw fragment in place of the marker.
func (w *xmlWriter) comment(buf []byte, c *etree.Comment) []byte {
	if w.marker != "" && c.Data == w.marker {
		switch {
		case !w.queued:
			return append(buf, w.raw...)
		case w.next < len(w.queue):
			buf = append(buf, w.queue[w.next]...)
			w.next++
			return buf
		}
	}
	buf = append(buf, "<!--"...)
	buf = append(buf, c.Data...)
	return append(buf, "-->"...)
}

// element writes e at depth. The output is threaded through as buf (the
// caller's w.buf, stored back by document) rather than appended to w.buf
// in place: kept in registers, not loaded and stored at every append.
//
// An element v3.AddFixed or AddFixedII wrote has its tags copied from its
// Fixed's text, each in one piece (v3.FixedTags), its name and fixed
// attributes not written one by one nor their values looked at for
// escapes.
func (w *xmlWriter) element(buf []byte, e *etree.Element, depth int) []byte {
	var end string // the end tag when the element is fixed
	if !v3.FixedMarked(e) {
		buf = append(buf, '<')
		buf = appendName(buf, e.Space, e.Tag)
		if len(e.Attr) > 0 {
			buf = appendAttrs(buf, e.Attr)
		}
	} else if start, fend, n := v3.FixedTags(e); n > 0 {
		buf, end = append(buf, start...), fend
		if n < len(e.Attr) {
			buf = appendAttrs(buf, e.Attr[n:])
		}
	} else {
		buf = append(buf, '<')
		buf = appendName(buf, e.Space, e.Tag)
		buf = appendAttrs(buf, e.Attr)
	}
	if len(e.Child) == 0 {
		return append(buf, "/>"...)
	}
	hasElements := false
	for _, c := range e.Child {
		if _, ok := c.(*etree.Element); ok {
			hasElements = true
			break
		}
	}
	buf = append(buf, '>')
	if !hasElements {
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.CharData:
				buf = appendEscaped(buf, c.Data)
			case *etree.Comment:
				buf = w.comment(buf, c)
			}
		}
	} else {
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.Element:
				buf = appendNewline(buf, depth+1)
				buf = w.element(buf, c, depth+1)
			case *etree.Comment:
				buf = appendNewline(buf, depth+1)
				buf = w.comment(buf, c)
			case *etree.CharData:
				if strings.TrimSpace(c.Data) != "" {
					buf = appendEscaped(buf, c.Data)
				}
			}
		}
		buf = appendNewline(buf, depth)
	}
	if end != "" {
		return append(buf, end...)
	}
	buf = append(buf, "</"...)
	buf = appendName(buf, e.Space, e.Tag)
	return append(buf, '>')
}

// appendAttrs appends attrs as they stand in a start tag. A function of
// its own: in element's loop the appends kept fewer of their values in
// registers (more loads and stores a byte written).
func appendAttrs(buf []byte, attrs []etree.Attr) []byte {
	for i := range attrs { // by index: no copy of each Attr
		a := &attrs[i]
		buf = append(buf, ' ')
		buf = appendName(buf, a.Space, a.Key)
		buf = append(buf, '=', '"')
		buf = appendEscaped(buf, a.Value)
		buf = append(buf, '"')
	}
	return buf
}

// indentation is the start of every line WriteIndented writes, up to a
// depth of 32; deeper lines repeat its spaces.
const indentation = "\n                                                                "

// appendNewline appends a line break and the indentation of depth. Up to
// a depth of 15, with room for 32 bytes after buf's end, it stores the
// first 32 bytes of indentation there whole (two 16-byte moves, where
// append calls memmove) and keeps as many as it needs: the rest lies past
// buf's length, where the next appends write.
func appendNewline(buf []byte, depth int) []byte {
	n := 1 + 2*depth
	if l := len(buf); n <= 32 && cap(buf)-l >= 32 {
		*(*[32]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), l)) = *(*[32]byte)(unsafe.Pointer(unsafe.StringData(indentation)))
		return buf[:l+n]
	}
	if n <= len(indentation) {
		return append(buf, indentation[:n]...)
	}
	buf = append(buf, '\n')
	for i := 0; i < depth; i++ {
		buf = append(buf, "  "...)
	}
	return buf
}

// appendName appends a name, space:local or local.
func appendName(buf []byte, space, local string) []byte {
	if space != "" {
		buf = append(buf, space...)
		buf = append(buf, ':')
	}
	return append(buf, local...)
}

// xmlPlainByte marks the bytes appendEscaped writes as they are: ASCII
// from space up but & < > ' ".
var xmlPlainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && c != '>' && c != '\'' && c != '"'
	}
	return t
}()

// xmlPlainBits is xmlPlainByte as v3.PlainRun takes it.
var xmlPlainBits = func() (t [256]uint8) {
	for c, plain := range xmlPlainByte {
		if plain {
			t[c] = 1
		}
	}
	return t
}()

// appendEscaped appends s escaped as etree writes text and attribute
// values: & < > ' " as entities, characters XML does not allow (and
// invalid UTF-8) as U+FFFD, everything else as it is.
func appendEscaped(buf []byte, s string) []byte {
	// Most values need no escape: a loop of its own over their plain
	// bytes (8.5 instructions a byte under cachegrind, where the general
	// loop below takes 12.6), four bytes a test (v3.PlainRun: −1 % of a
	// prescription's FHIR → v3; eight a test, or eight bytes as one word
	// as v3's reader tests text, took more: most values are shorter than
	// a few words).
	i := v3.PlainRun(s, &xmlPlainBits)
	if i == len(s) {
		return append(buf, s...)
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if xmlPlainByte[c] {
			i++ // the usual case
			continue
		}
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\'':
			esc = "&apos;"
		case c == '"':
			esc = "&quot;"
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				esc = "\uFFFD"
			}
		case c >= utf8.RuneSelf:
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if !IsXMLChar(r) || (r == utf8.RuneError && w == 1) {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += width
			continue
		}
		buf = append(buf, s[start:i]...)
		buf = append(buf, esc...)
		i += width
		start = i
	}
	return append(buf, s[start:]...)
}
