package v3

import (
	"io"

	"github.com/beevik/etree"
)

// Canonicalising the fragments without building them. SignatureFragments
// copies the parts of a ParentPrescription, normalised as EPS holds them,
// and the canonical writer then writes the copy; for a $prepare digest the
// copy is only ever written. writeCanonical writes the canonical bytes of
// the fragments straight from the parts, normalising as it goes, for the
// parts of the usual shape; for any other it declines, and the fragments
// are built and written as before, so the bytes are the same either way
// (TestDirectFragmentsAsBuilt).

// writeCanonical writes the canonical bytes of the parts' fragments (what
// appendCanonicalBuilt writes of p.fragments()) to w, a few kilobytes at a
// time. ok is false, with some bytes perhaps written, when a part holds
// what only the copy handles: a prefixed attribute (an error), CDATA, a
// processing instruction, two runs of text the copy would join, children
// of one name apart from each other (which the copy gathers), attributes
// of one name.
func (p *fragmentParts) writeCanonical(w io.Writer) (ok bool) {
	buf := make([]byte, 0, 2*canonicalFlushAt)
	buf = append(buf, "<"+fragmentsRootTag+"><"+fragmentTag+">"...)
	if p.cfg.authorTime != "" {
		buf = append(buf, `<time xmlns="`+Namespace+`" value="`...)
		buf = appendC14NEscaped(buf, p.cfg.authorTime, true)
		buf = append(buf, `"></time>`...)
	} else if buf, ok = appendDirect(buf, p.time.El, true, nil, w); !ok {
		return false
	}
	if buf, ok = appendDirect(buf, p.id.El, true, nil, w); !ok {
		return false
	}
	for i := -2; i < len(p.items); i++ {
		buf = append(buf, "</"+fragmentTag+"><"+fragmentTag+">"...)
		el, edit := p.agent.El, childEdit(nil)
		switch {
		case i == -1:
			el = p.recordTarget.El
		case i >= 0:
			el, edit = p.items[i].El, lineItemEdit
		}
		if buf, ok = appendDirect(buf, el, true, edit, w); !ok {
			return false
		}
	}
	buf = append(buf, "</"+fragmentTag+"></"+fragmentsRootTag+">"...)
	w.Write(buf)
	return true
}

// authorTimeValue is the author time the fragments carry, as their time
// element's value: the one given, or the prescription's normalised as the
// copy normalises it.
func (p *fragmentParts) authorTimeValue() string {
	if p.cfg.authorTime != "" {
		return p.cfg.authorTime
	}
	for i := range p.time.El.Attr {
		if a := &p.time.El.Attr[i]; a.Space == "" && a.Key == "value" {
			return normalisedAttr(a.Value)
		}
	}
	return ""
}

// normalisedAttr is an attribute value as the copy holds it.
func normalisedAttr(v string) string {
	if plainPrintable(v) { // neither clean-up changes it
		return v
	}
	return attrCRSpaces(attrSpaces(v))
}

// appendCanonicalValue appends the canonical bytes of an attribute value
// (attr true) or text as the copy holds it (normalisedAttr, eolNormalised).
// Most values are printable ASCII without a character to escape: those
// are appended after one pass over them, which tells that neither the
// clean-up nor escaping changes them.
func appendCanonicalValue(buf []byte, v string, attr bool) []byte {
	switch {
	case PlainRun(v, &c14nPlainBits) == len(v):
		return append(buf, v...)
	case attr:
		return appendC14NEscaped(buf, normalisedAttr(v), true)
	}
	return appendC14NEscaped(buf, eolNormalised(v), false)
}

// appendDirect appends the canonical bytes of src's copy (copyNormalisedAt
// of src, top adding the v3 namespace, edit rewriting its children) as
// appendCanonicalBuilt writes them in the v3 namespace's scope (below a
// Fragment for top), writing buf to flush as appendCanonicalBuilt does.
// ok is false for the shapes writeCanonical declines.
func appendDirect(buf []byte, src *etree.Element, top bool, edit childEdit, flush io.Writer) (_ []byte, ok bool) {
	buf = append(buf, '<')
	buf = append(buf, src.Tag...)
	if top {
		buf = append(buf, ` xmlns="`+Namespace+`"`...)
	}
	// The attributes the copy keeps, in name order (insertion sort, stable
	// as the copy's: most elements have one to three, mostly in order).
	var room [8]*etree.Attr
	attrs := room[:0]
	for i := range src.Attr {
		a := &src.Attr[i]
		switch {
		case a.Space == "" && a.Key == "xmlns", a.Space == "xmlns":
			continue
		case a.Space != "":
			return nil, false // the copy refuses it
		}
		j := len(attrs)
		attrs = append(attrs, a)
		for ; j > 0 && attrs[j-1].Key > a.Key; j-- {
			attrs[j] = attrs[j-1]
		}
		attrs[j] = a
	}
	for i, a := range attrs {
		if a.Key == "" || (i > 0 && a.Key == attrs[i-1].Key) {
			return nil, false // the canonical writer declines it
		}
		buf = append(buf, ' ')
		buf = append(buf, a.Key...)
		buf = append(buf, '=', '"')
		buf = appendCanonicalValue(buf, a.Value, true)
		buf = append(buf, '"')
	}
	buf = append(buf, '>')
	// The children the copy keeps, each group of one key (a name, or text)
	// written where it stands: declined when a key comes back after
	// another, or text comes twice in a row (the copy gathers and joins
	// them).
	var keyRoom [16]string
	seen := keyRoom[:0]
	last := ""
	for _, tok := range src.Child {
		if flush != nil && len(buf) >= canonicalFlushAt {
			flush.Write(buf)
			buf = buf[:0]
		}
		key := "#text"
		var el *etree.Element
		switch t := tok.(type) {
		case *etree.CharData:
			if t.IsCData() {
				return nil, false
			}
			if jsBlankToken(t) {
				continue
			}
			if last == key {
				return nil, false
			}
		case *etree.Element:
			el = t
			if edit != nil {
				if el = edit(t); el == nil {
					continue
				}
			}
			key = el.Tag
		case *etree.ProcInst:
			return nil, false
		default:
			continue // comments and directives: not in the copy
		}
		if key != last {
			for _, k := range seen {
				if k == key {
					return nil, false
				}
			}
			seen = append(seen, key)
			last = key
		}
		if el == nil {
			buf = appendCanonicalValue(buf, tok.(*etree.CharData).Data, false)
			continue
		}
		if buf, ok = appendDirect(buf, el, false, nil, flush); !ok {
			return nil, false
		}
	}
	buf = append(buf, '<', '/')
	buf = append(buf, src.Tag...)
	return append(buf, '>'), true
}
