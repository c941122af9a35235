package ebxml

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// xmlDecl is the XML declaration every envelope starts with.
const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writer appends XML text to a buffer; s writes markup verbatim, t writes
// escaped character data or double-quoted attribute values.
type writer struct{ bytes.Buffer }

// s writes markup pieces verbatim.
func (w *writer) s(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}

// t writes v escaped for use as text or as a double-quoted attribute
// value: markup characters become entities, line breaks and tabs character
// references, and characters XML 1.0 forbids (other control characters,
// invalid UTF-8) U+FFFD, so the output is always well-formed.
func (w *writer) t(v string) {
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == '&':
			w.WriteString("&amp;")
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '"':
			w.WriteString("&quot;")
		case r == '\t':
			w.WriteString("&#x9;")
		case r == '\n':
			w.WriteString("&#xA;")
		case r == '\r':
			w.WriteString("&#xD;")
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			w.WriteRune(utf8.RuneError)
		default:
			w.WriteString(v[i : i+size])
		}
		i += size
	}
}

// elem writes indent<name>escaped text</name>\n.
func (w *writer) elem(indent, name, text string) {
	w.s(indent, "<", name, ">")
	w.t(text)
	w.s("</", name, ">\n")
}

// party writes eb:From or eb:To with one eb:PartyId.
func (w *writer) party(indent, name, id string) {
	w.s(indent, "<eb:", name, ">\n", indent, `  <eb:PartyId eb:type="`, PartyIDType, `">`)
	w.t(id)
	w.s("</eb:PartyId>\n", indent, "</eb:", name, ">\n")
}

// ebTimestamp formats t as an eb:Timestamp in UTC.
func ebTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// missing returns an error naming the first empty field, or nil.
func missing(what string, fields ...[2]string) error {
	var names []string
	for _, f := range fields {
		if strings.TrimSpace(f[1]) == "" {
			names = append(names, f[0])
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &BuildError{What: what, Missing: names}
}

// BuildError reports a builder called without a value it needs.
type BuildError struct {
	// What names the builder.
	What string
	// Missing lists the empty fields.
	Missing []string
}

// Error implements the error interface.
func (e *BuildError) Error() string {
	return "ebxml: " + e.What + ": missing " + strings.Join(e.Missing, ", ")
}
