package mapping

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
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
	var buf bytes.Buffer
	w := xmlWriter{buf: &buf, marker: marker, raw: raw}
	buf.Grow(32 << 10)
	first := true
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.ProcInst:
			if !first {
				buf.WriteByte('\n')
			}
			buf.WriteString("<?")
			buf.WriteString(t.Target)
			if t.Inst != "" {
				buf.WriteByte(' ')
				buf.WriteString(t.Inst)
			}
			buf.WriteString("?>")
			first = false
		case *etree.Element:
			if !first {
				buf.WriteByte('\n')
			}
			w.element(t, 0)
			first = false
		}
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// xmlWriter carries WriteIndented's output and its raw fragment.
type xmlWriter struct {
	buf    *bytes.Buffer
	marker string
	raw    []byte
}

// comment writes a comment, or the raw fragment in place of the marker.
func (w xmlWriter) comment(c *etree.Comment) {
	if w.marker != "" && c.Data == w.marker {
		w.buf.Write(w.raw)
		return
	}
	w.buf.WriteString("<!--")
	w.buf.WriteString(c.Data)
	w.buf.WriteString("-->")
}

func (w xmlWriter) element(e *etree.Element, depth int) {
	buf := w.buf
	buf.WriteByte('<')
	writeName(buf, e.Space, e.Tag)
	for _, a := range e.Attr {
		buf.WriteByte(' ')
		writeName(buf, a.Space, a.Key)
		buf.WriteString(`="`)
		escapeXML(buf, a.Value)
		buf.WriteByte('"')
	}
	hasElements := false
	for _, c := range e.Child {
		if _, ok := c.(*etree.Element); ok {
			hasElements = true
			break
		}
	}
	if len(e.Child) == 0 {
		buf.WriteString("/>")
		return
	}
	buf.WriteByte('>')
	if !hasElements {
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.CharData:
				escapeXML(buf, c.Data)
			case *etree.Comment:
				w.comment(c)
			}
		}
	} else {
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.Element:
				newline(buf, depth+1)
				w.element(c, depth+1)
			case *etree.Comment:
				newline(buf, depth+1)
				w.comment(c)
			case *etree.CharData:
				if strings.TrimSpace(c.Data) != "" {
					escapeXML(buf, c.Data)
				}
			}
		}
		newline(buf, depth)
	}
	buf.WriteString("</")
	writeName(buf, e.Space, e.Tag)
	buf.WriteByte('>')
}

func newline(buf *bytes.Buffer, depth int) {
	buf.WriteByte('\n')
	for i := 0; i < depth; i++ {
		buf.WriteString("  ")
	}
}

func writeName(buf *bytes.Buffer, space, local string) {
	if space != "" {
		buf.WriteString(space)
		buf.WriteByte(':')
	}
	buf.WriteString(local)
}

// escapeXML writes s escaped as etree writes text and attribute values:
// & < > ' " as entities, characters XML does not allow (and invalid UTF-8)
// as U+FFFD, everything else as it is.
func escapeXML(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
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
			if !isXMLChar(r) || (r == utf8.RuneError && w == 1) {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += width
			continue
		}
		buf.WriteString(s[start:i])
		buf.WriteString(esc)
		i += width
		start = i
	}
	buf.WriteString(s[start:])
}
