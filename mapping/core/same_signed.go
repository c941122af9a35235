package core

import (
	"slices"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// SameSignedElement reports, in one walk, what SameElement(pp, got, skip)
// && v3.SameSignedParts(pp, got) report for a signed ParentPrescription and
// the one written back from what was read of it: the elements outside the
// signature's parts are compared by SameElement's rule, and each pair of
// parts by both rules at once, instead of walking the parts twice.
//
// True means both hold. False means one does not, or only that the two
// must be asked apart: the parts are missing, or skip rules out an element
// within a part (SameElement passes over it, the fragments do not).
func SameSignedElement(pp, got *etree.Element, skip func(*etree.Element) bool) bool {
	return sameSigned(pp, got, signedWalk{skip: skip})
}

// SameSignedElementUnder is SameSignedElement with the skip rule that
// rules out the child elements of each element named under (prescribe's
// InSignature, with under "signatureText"), told once for each element
// whose children are compared instead of by a call for each child: it is
// the lossless check of every signed prescription read, some 170 pairs of
// elements each.
func SameSignedElementUnder(pp, got *etree.Element, under string) bool {
	return sameSigned(pp, got, signedWalk{under: under})
}

// sameSigned is SameSignedElement with the skip rule w holds.
func sameSigned(pp, got *etree.Element, w signedWalk) bool {
	if pp == nil || got == nil {
		return false
	}
	// Room for the parts of prescriptions of up to 12 line items, which
	// the walk keeps no longer than it runs.
	var room, gotRoom [signedFixedParts + 12]*etree.Element
	parts, ok := v3.AppendSignedParts(room[:0], pp)
	gotParts, gotOK := v3.AppendSignedParts(gotRoom[:0], got)
	if !ok || !gotOK || len(parts) != len(gotParts) {
		return false
	}
	w.parts, w.gotParts, w.depth = parts, gotParts, signedPartsDepth
	return w.same(pp, got, 0)
}

// signedPartsDepth is the deepest a signed part lies below its
// ParentPrescription, by the paths v3.SignedParts finds them at:
// pertinentInformation1/pertinentPrescription/author/time (and AgentPerson)
// and pertinentInformation1/pertinentPrescription/pertinentInformation2/
// pertinentLineItem. It is not counted up the parts' parents: pp may be a
// path copy (a released prescription without Spine's additions) whose
// elements below the copied ones still name the original's as parent.
const signedPartsDepth = 4

// signedWalk is SameSignedElement's walk over a ParentPrescription (a) and
// the one written back (b).
type signedWalk struct {
	parts, gotParts []*etree.Element
	// item and gotItem are where the next line item is looked for first in
	// parts and gotParts (see partIndex).
	item, gotItem int
	// The skip rule: skip, or when under is not empty, the child elements
	// of each element named under (SameSignedElementUnder).
	skip  func(*etree.Element) bool
	under string
	// depth is the deepest a part lies below the ParentPrescription: below
	// it, elements are compared by SameElement alone.
	depth int
}

// same compares a and b, which lie d elements below the ParentPrescriptions
// and outside the signed parts.
func (w *signedWalk) same(a, b *etree.Element, d int) bool {
	if !sameOwn(a, b) {
		return false
	}
	if w.under != "" && a.Tag == w.under {
		return true // b's name is a's: the rule passes over every child element of both
	}
	i, j := 0, 0
	for {
		ae, be := nextElement(a, &i, w.skip), nextElement(b, &j, w.skip)
		if ae == nil || be == nil {
			return ae == be
		}
		if d >= w.depth {
			if w.under != "" {
				if !sameElementUnder(ae, be, w.under) {
					return false
				}
			} else if !SameElement(ae, be, w.skip) {
				return false
			}
			continue
		}
		k := partIndex(w.parts, ae, &w.item)
		if k != partIndex(w.gotParts, be, &w.gotItem) {
			return false
		}
		if k >= 0 {
			if !w.samePart(ae, be) {
				return false
			}
			continue
		}
		if !w.same(ae, be, d+1) {
			return false
		}
	}
}

// sameElementUnder is SameElement(a, b, skip) for the skip rule that rules
// out the child elements of each element named under.
func sameElementUnder(a, b *etree.Element, under string) bool {
	if !sameOwn(a, b) {
		return false
	}
	if a.Tag == under {
		return true
	}
	i, j := 0, 0
	for {
		ae, be := nextElement(a, &i, nil), nextElement(b, &j, nil)
		if ae == nil || be == nil {
			return ae == be
		}
		if !sameElementUnder(ae, be, under) {
			return false
		}
	}
}

// signedFixedParts is how many of v3.SignedParts' parts come before the
// line items: the author time, the prescription id, the author's
// AgentPerson and the recordTarget.
const signedFixedParts = 4

// partIndex is slices.Index(parts, el) for v3.SignedParts' list, whose
// parts are distinct elements, without a search that grows with the line
// items (which made the walk quadratic in them): an element is one of the
// four fixed parts, or a line item only if it has their name, and the
// walk meets the line items in the order the list holds them, so *item,
// where the one after the last found stands, is looked at first. Any
// other line item the list holds is still found.
func partIndex(parts []*etree.Element, el *etree.Element, item *int) int {
	if len(parts) < signedFixedParts {
		return slices.Index(parts, el)
	}
	switch el {
	case parts[0]:
		return 0
	case parts[1]:
		return 1
	case parts[2]:
		return 2
	case parts[3]:
		return 3
	}
	items := parts[signedFixedParts:]
	if len(items) == 0 || el.Tag != items[0].Tag {
		return -1
	}
	k := *item
	if k >= len(items) || items[k] != el {
		if k = slices.Index(items, el); k < 0 {
			return -1
		}
	}
	*item = k + 1
	return signedFixedParts + k
}

// samePart compares two signed parts, or two elements the fragments'
// comparison pairs within them, by both rules in one walk: what
// v3.SameSignedTokens(x, y, nil) tells (names, attributes as the fragments
// see them, every token the fragments keep: v3.SignedToken) and what
// SameElement tells (name, namespace, attributes, trimmed text, child
// elements). The fragments pair every child element SameElement pairs as
// long as skip rules out none of them: one it does makes the answer false
// (ask the two rules apart).
func (w *signedWalk) samePart(x, y *etree.Element) bool {
	if x.Tag != y.Tag || x.Space != y.Space {
		return false
	}
	if w.skip != nil && (w.skip(x) || w.skip(y)) {
		return false
	}
	// Attributes equal in order, none of them prefixed, satisfy both
	// rules at once.
	switch signableInOrder(x.Attr, y.Attr) {
	case attrsUnsignable:
		return false
	case attrsOther:
		if !sameAttrsSwapped(x.Attr, y.Attr) && (!sameAttrsAnyOrder(x, y) || !v3.SameSignedAttrs(x, y)) {
			return false
		}
	}
	if (!noLeadingText(x) || !noLeadingText(y)) && !sameTrimmedText(x, y) {
		return false
	}
	// The tokens the fragments keep (v3.SignedToken), paired in order: a
	// child element and white space as the reader and the writers flag it
	// (the indentation between elements) are told without asking, here
	// rather than in a function of its own, which every token of both
	// parts would call. A child element of the skip rule's element
	// (w.under) is one the rule rules out.
	i, j := 0, 0
	for {
		var ta, tb etree.Token
		for ; i < len(x.Child); i++ {
			t := x.Child[i]
			if _, ok := t.(*etree.Element); !ok {
				if c, ok := t.(*etree.CharData); ok && c.IsWhitespace() && !c.IsCData() || !v3.SignedToken(t) {
					continue
				}
			}
			ta = t
			i++
			break
		}
		for ; j < len(y.Child); j++ {
			t := y.Child[j]
			if _, ok := t.(*etree.Element); !ok {
				if c, ok := t.(*etree.CharData); ok && c.IsWhitespace() && !c.IsCData() || !v3.SignedToken(t) {
					continue
				}
			}
			tb = t
			j++
			break
		}
		if ta == nil || tb == nil {
			return ta == nil && tb == nil
		}
		if p, ok := ta.(*etree.Element); ok {
			q, ok := tb.(*etree.Element)
			if !ok || w.under != "" && x.Tag == w.under || !w.samePart(p, q) {
				return false
			}
		} else if !v3.SameSignedLeaves(ta, tb) {
			return false
		}
	}
}

// What signableInOrder finds of two attribute lists.
const (
	attrsSigned     = iota // the same attributes in order, none prefixed
	attrsUnsignable        // the same in order, one prefixed: the fragments refuse it
	attrsOther             // not the same in order: ask the other ways
)

// signableInOrder is sameAttrsInOrder(a, b), then v3.SignableAttrs(a), in
// one loop.
func signableInOrder(a, b []etree.Attr) int {
	if len(a) != len(b) {
		return attrsOther
	}
	signable := true
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Key != y.Key || x.Value != y.Value || x.Space != y.Space {
			return attrsOther
		}
		if x.Space != "" && x.Space != "xmlns" {
			signable = false
		}
	}
	if !signable {
		return attrsUnsignable
	}
	return attrsSigned
}
