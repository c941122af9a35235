package v3

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// AlgorithmExcC14N is the Exclusive XML Canonicalization 1.0 (without
// comments) algorithm URI, the canonicalisation and transform of every
// prescription signature.
const AlgorithmExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

// CanonicalFragments returns the Exclusive C14N form of fragments (as built
// by SignatureFragments): the exact bytes that are digested. The element is
// not modified.
func CanonicalFragments(fragments *etree.Element) ([]byte, error) {
	if fragments == nil {
		return nil, fmt.Errorf("canonicalising signature fragments: no element")
	}
	if out, ok := canonicalBuilt(fragments); ok {
		return out, nil
	}
	return canonicalize(fragments)
}

// canonicalBuilt writes the Exclusive C14N form of a parentless element
// of the shape SignatureFragments and SignedInfo build, in one pass without
// copying it: unprefixed elements, unprefixed attributes in name order
// after an optional default namespace declaration, and text. For that
// shape the bytes are goxmldsig's (TestCanonicalBuiltAsGoxmldsig): empty
// elements with end tags, a default namespace declared where it differs
// from the one in scope, text escaped & < > CR and attribute values & < "
// TAB LF CR, characters XML does not allow (and invalid UTF-8) as U+FFFD.
// ok is false for any other shape (prefixes, CDATA, comments, unsorted
// attributes, a parent), which canonicalize handles.
func canonicalBuilt(el *etree.Element) (out []byte, ok bool) {
	if p := el.Parent(); p != nil {
		return nil, false
	}
	return appendCanonicalBuilt(make([]byte, 0, 8<<10), el, "", nil)
}

// appendCanonicalBuilt appends canonicalBuilt's bytes of el, in the
// default namespace scope, to buf. With a flush, each time buf holds
// canonicalFlushAt bytes or more after a start tag or a child they are
// written to flush and buf is emptied: the caller then writes what is
// left in buf, and the bytes were never all in memory at once.
func appendCanonicalBuilt(buf []byte, el *etree.Element, scope string, flush io.Writer) ([]byte, bool) {
	if el.Space != "" {
		return nil, false
	}
	buf = append(buf, '<')
	buf = append(buf, el.Tag...)
	prev := ""
	for i, a := range el.Attr {
		switch {
		case a.Space != "":
			return nil, false
		case a.Key == "xmlns":
			if i != 0 {
				return nil, false
			}
			if a.Value != scope {
				buf = append(buf, ` xmlns="`...)
				buf = appendC14NEscaped(buf, a.Value, true)
				buf = append(buf, '"')
				scope = a.Value
			}
			continue
		case a.Key <= prev:
			return nil, false
		}
		prev = a.Key
		buf = append(buf, ' ')
		buf = append(buf, a.Key...)
		buf = append(buf, '=', '"')
		buf = appendC14NEscaped(buf, a.Value, true)
		buf = append(buf, '"')
	}
	buf = append(buf, '>')
	for _, t := range el.Child {
		if flush != nil && len(buf) >= canonicalFlushAt {
			flush.Write(buf)
			buf = buf[:0]
		}
		switch t := t.(type) {
		case *etree.Element:
			var ok bool
			if buf, ok = appendCanonicalBuilt(buf, t, scope, flush); !ok {
				return nil, false
			}
		case *etree.CharData:
			if t.IsCData() {
				return nil, false
			}
			buf = appendC14NEscaped(buf, t.Data, false)
		default:
			return nil, false
		}
	}
	buf = append(buf, '<', '/')
	buf = append(buf, el.Tag...)
	return append(buf, '>'), true
}

// canonicalFlushAt is how many bytes appendCanonicalBuilt gathers before
// it writes them to its flush.
const canonicalFlushAt = 2 << 10

// c14nPlainByte marks the bytes appendC14NEscaped writes as they are, in
// text and attribute values alike: printable ASCII but & < > ".
var c14nPlainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && c != '>' && c != '"'
	}
	return t
}()

// c14nPlainBits is c14nPlainByte as PlainRun takes it.
var c14nPlainBits = func() (t [256]uint8) {
	for c, plain := range c14nPlainByte {
		if plain {
			t[c] = 1
		}
	}
	return t
}()

// appendC14NEscaped appends s escaped as canonical text (attr false) or a
// canonical attribute value (attr true), as etree writes them for
// goxmldsig.
func appendC14NEscaped(buf []byte, s string, attr bool) []byte {
	// Most values need no escape: a loop of its own over their plain
	// bytes, then one copy.
	i := PlainRun(s, &c14nPlainBits)
	if i == len(s) {
		return append(buf, s...)
	}
	last := 0
	for i < len(s) {
		c := s[i]
		if c14nPlainByte[c] {
			i++
			continue
		}
		r, width := rune(c), 1
		if c >= utf8.RuneSelf {
			r, width = utf8.DecodeRuneInString(s[i:])
		}
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>' && !attr:
			esc = "&gt;"
		case r == '"' && attr:
			esc = "&quot;"
		case r == '\t' && attr:
			esc = "&#x9;"
		case r == '\n' && attr:
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\t' || r == '\n' || r == '>' || r == '"':
		case !c14nChar(r) || (r == utf8.RuneError && width == 1):
			esc = "\uFFFD"
		}
		i += width
		if esc == "" {
			continue
		}
		buf = append(buf, s[last:i-width]...)
		buf = append(buf, esc...)
		last = i
	}
	return append(buf, s[last:]...)
}

// c14nChar reports whether r is a character XML allows (etree's test).
func c14nChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// canonicalize applies Exclusive C14N (no inclusive prefixes, no comments)
// to a copy of el. An element inside a larger tree is first detached from
// its ancestors' namespace context (goxmldsig's NSDetatch puts the
// declarations in scope on the copy), so that it is canonicalised as the
// standalone element it stands for; NSDetatch refuses subtrees of more than
// 1000 elements, which is why a parentless element (as SignatureFragments
// and SignedInfo build them: there is nothing to detach from) is only
// copied. goxmldsig's canonicaliser modifies its input, hence the copy.
func canonicalize(el *etree.Element) ([]byte, error) {
	var src *etree.Element
	if p := el.Parent(); p != nil && p.Tag != "" {
		ctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			return nil, fmt.Errorf("exclusive c14n of <%s>: namespace context: %w", el.Tag, err)
		}
		if src, err = etreeutils.NSDetatch(ctx, el); err != nil {
			return nil, fmt.Errorf("exclusive c14n of <%s>: detaching: %w", el.Tag, err)
		}
	} else {
		src = el.Copy()
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(src)
	if err != nil {
		return nil, fmt.Errorf("exclusive c14n of <%s>: %w", el.Tag, err)
	}
	return out, nil
}
