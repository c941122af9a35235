package core

import (
	"slices"
	"unsafe"

	"github.com/beevik/etree"
)

// TreeEdits says how two trees a and b, compared by SameElementEdited,
// were made from two trees a0 and b0 that SameElement has already found
// alike.
//
// a0 is a path copy of a: each element of a0 is either an element of a
// itself (shared and unchanged) or a copy of one of Copied, whose children
// are the original's in the same order, the elements of Removed left out
// and a copy standing in for each element of Copied. b is b0 changed in
// place: the elements of Inserted were added to it (with whatever they
// hold), and the elements of Changed (of b0) had their own name,
// attributes or text changed; nothing else of b0 changed.
//
// Copies, when it is as long as Copied, holds the copy in a0 of each
// element of Copied, in the same order: an element whose copy has its
// very name and attributes (the same strings, as v3.Space.ShallowCopy
// makes an unprefixed attribute's) and whose counterpart in b is not
// among Changed then has its name and attributes found alike without
// being compared again; any other is compared as before.
type TreeEdits struct {
	Copied, Removed   []*etree.Element // of a
	Inserted, Changed []*etree.Element // of b
	Copies            []*etree.Element // of a0
}

// SameElementEdited reports what SameElement(a, b, skip) reports, given
// that SameElement(a0, b0, skip) holds for the trees a and b were made
// from as e says, and that skip gives the same answer for an element and
// its copy. It compares only where the edits can have made a and b
// differ: an element of a outside the copied paths that stands where its
// place in a0 stood against an unchanged element of b0 is alike without
// being walked again.
//
// A released prescription is read from a path copy without Spine's
// additions, written back and compared with that copy; the written tree
// then has the additions put back and must be the released prescription
// exactly: this second comparison need only look at the additions and the
// elements on their paths.
func SameElementEdited(a, b *etree.Element, skip func(*etree.Element) bool, e TreeEdits) bool {
	return sameEdited(a, b, e, editedWalk{skip: skip})
}

// SameElementEditedUnder is SameElementEdited with the skip rule that
// rules out the child elements of each element named under (prescribe's
// InSignature, with under "signatureText"), told once for each element
// whose children are compared instead of by a call for each child, as
// SameSignedElementUnder tells it.
func SameElementEditedUnder(a, b *etree.Element, under string, e TreeEdits) bool {
	return sameEdited(a, b, e, editedWalk{under: under})
}

// sameEdited is SameElementEdited with the skip rule w holds.
func sameEdited(a, b *etree.Element, e TreeEdits, w editedWalk) bool {
	// The elements of b whose subtree changed: the changed and inserted
	// ones and their ancestors.
	var room [32]*etree.Element
	touched := room[:0]
	for _, list := range [...][]*etree.Element{e.Inserted, e.Changed} {
		for _, el := range list {
			for p := el; p != nil && !slices.Contains(touched, p); p = p.Parent() {
				touched = append(touched, p)
				if p == b {
					break
				}
			}
		}
	}
	w.copied, w.removed, w.inserted, w.touched = newElementSet(e.Copied), newElementSet(e.Removed), newElementSet(e.Inserted), newElementSet(touched)
	w.changed = newElementSet(e.Changed)
	if len(e.Copies) == len(e.Copied) {
		w.copies = e.Copies
	}
	// An element of a that is in neither Copied nor Removed, and one of b
	// that is neither inserted nor touched, is told by one bit.
	for k := range w.aBits {
		w.aBits[k] = w.copied.bits[k] | w.removed.bits[k]
		w.bBits[k] = w.inserted.bits[k] | w.touched.bits[k]
	}
	if !w.copied.has(a) {
		// a itself is shared with a0, and b0 was compared with a0 as a
		// whole.
		if !w.touched.has(b) {
			return true
		}
		return w.sameElement(a, b)
	}
	return w.same(a, b, w.copyOf(a))
}

// editedWalk is SameElementEdited's walk: the edits' lists, the elements
// of b whose subtree changed (touched), and the skip rule.
type editedWalk struct {
	copied, removed, inserted, touched, changed elementSet
	// copies are the copies of copied's elements, in its order (nil: not
	// known).
	copies []*etree.Element
	// aBits and bBits are the bits of the elements of a in copied or
	// removed and of those of b in inserted or touched.
	aBits, bBits [4]uint64
	// The skip rule: skip, or when under is not empty, the child elements
	// of each element named under (SameElementEditedUnder).
	skip  func(*etree.Element) bool
	under string
}

// elementSet is a short list of elements asked, for each element the walk
// meets, whether it holds that element: most are in none, which a bit an
// element's address picks tells without looking through the list (an
// element whose bit is set is looked for in it; Go does not move what it
// allocates, so an element's bit stays the same).
type elementSet struct {
	bits [4]uint64
	list []*etree.Element
}

// newElementSet returns the set of list's elements.
func newElementSet(list []*etree.Element) elementSet {
	s := elementSet{list: list}
	for _, el := range list {
		k := elementBit(el)
		s.bits[k>>6] |= 1 << (k & 63)
	}
	return s
}

// has reports whether el is one of s's elements.
func (s *elementSet) has(el *etree.Element) bool {
	return hasBit(&s.bits, el) && slices.Contains(s.list, el)
}

// hasBit reports whether el's bit is set in bits.
func hasBit(bits *[4]uint64, el *etree.Element) bool {
	k := elementBit(el)
	return bits[k>>6]&(1<<(k&63)) != 0
}

// elementBit is the bit of an elementSet el's address picks: elements lie
// some hundred bytes apart, so the address's bits above the sixteens tell
// neighbours apart.
func elementBit(el *etree.Element) uint {
	return uint(uintptr(unsafe.Pointer(el))>>4) & 255
}

// sameElement is SameElement(a, b, skip) by the walk's skip rule.
func (w *editedWalk) sameElement(a, b *etree.Element) bool {
	if w.under != "" {
		return sameElementUnder(a, b, w.under)
	}
	return SameElement(a, b, w.skip)
}

// copyOf returns the copy of el, one of the copied elements, or nil when
// the copies are not known.
func (w *editedWalk) copyOf(el *etree.Element) *etree.Element {
	if w.copies == nil {
		return nil
	}
	if k := slices.Index(w.copied.list, el); k >= 0 {
		return w.copies[k]
	}
	return nil
}

// same compares an element of a that a0 holds a copy of, cp (nil: not
// known), with the element of b whose former self that copy was compared
// with.
func (w *editedWalk) same(a, b, cp *etree.Element) bool {
	if cp != nil && sameNameAttrsAsCopied(a, cp) && !w.changed.has(b) {
		// The first comparison found cp's name and attributes, which are
		// a's, alike b's, which have not changed since: only the text
		// is left (which the edits of the children can change).
		if !(noLeadingText(a) && noLeadingText(b) || sameTrimmedText(a, b)) {
			return false
		}
	} else if !sameOwn(a, b) {
		return false
	}
	if w.under != "" && a.Tag == w.under {
		return true // b's name is a's: the rule passes over every child element of both
	}
	i, j := 0, 0
	// ka and kb count the children of a and b so far that a0 and b0 also
	// hold: the ones the first comparison paired when they are equal.
	ka, kb := 0, 0
	for {
		ae, be := nextElement(a, &i, w.skip), nextElement(b, &j, w.skip)
		if ae == nil || be == nil {
			return ae == be
		}
		if ka == kb && !hasBit(&w.aBits, ae) && !hasBit(&w.bBits, be) {
			// ae, shared with a0, was found alike be, unchanged since:
			// what most children are, told by a bit each.
			ka++
			kb++
			continue
		}
		removed, inserted := w.removed.has(ae), w.inserted.has(be)
		switch {
		case removed || inserted || ka != kb:
			if !w.sameElement(ae, be) {
				return false
			}
		case w.copied.has(ae):
			if !w.same(ae, be, w.copyOf(ae)) {
				return false
			}
		case w.touched.has(be):
			if !w.sameElement(ae, be) {
				return false
			}
		}
		// Otherwise ae, shared with a0, was found alike be, unchanged
		// since.
		if !removed {
			ka++
		}
		if !inserted {
			kb++
		}
	}
}

// sameNameAttrsAsCopied reports whether cp has el's very name and
// attributes in the same order: the same strings, not only equal ones, so
// that it is told without comparing their bytes. False means only that
// they must be compared.
func sameNameAttrsAsCopied(el, cp *etree.Element) bool {
	if !sameStringData(el.Tag, cp.Tag) || !sameStringData(el.Space, cp.Space) || len(el.Attr) != len(cp.Attr) {
		return false
	}
	for i := range el.Attr {
		x, y := &el.Attr[i], &cp.Attr[i]
		if !sameStringData(x.Key, y.Key) || !sameStringData(x.Value, y.Value) || !sameStringData(x.Space, y.Space) {
			return false
		}
	}
	return true
}

// sameStringData reports whether x and y are the same string: the same
// length and, unless empty, the same bytes in memory.
func sameStringData(x, y string) bool {
	return len(x) == len(y) && (len(x) == 0 || unsafe.StringData(x) == unsafe.StringData(y))
}
