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
type TreeEdits struct {
	Copied, Removed   []*etree.Element // of a
	Inserted, Changed []*etree.Element // of b
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
	w := editedWalk{skip: skip}
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
	if !w.copied.has(a) {
		// a itself is shared with a0, and b0 was compared with a0 as a
		// whole.
		if !w.touched.has(b) {
			return true
		}
		return SameElement(a, b, skip)
	}
	return w.same(a, b)
}

// editedWalk is SameElementEdited's walk: the edits' lists, and the
// elements of b whose subtree changed (touched).
type editedWalk struct {
	copied, removed, inserted, touched elementSet
	skip                               func(*etree.Element) bool
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
	k := elementBit(el)
	return s.bits[k>>6]&(1<<(k&63)) != 0 && slices.Contains(s.list, el)
}

// elementBit is the bit of an elementSet el's address picks: elements lie
// some hundred bytes apart, so the address's bits above the sixteens tell
// neighbours apart.
func elementBit(el *etree.Element) uint {
	return uint(uintptr(unsafe.Pointer(el))>>4) & 255
}

// same compares an element of a that a0 holds a copy of with the element
// of b whose former self that copy was compared with.
func (w *editedWalk) same(a, b *etree.Element) bool {
	if !sameOwn(a, b) {
		return false
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
		removed, inserted := w.removed.has(ae), w.inserted.has(be)
		switch {
		case removed || inserted || ka != kb:
			if !SameElement(ae, be, w.skip) {
				return false
			}
		case w.copied.has(ae):
			if !w.same(ae, be) {
				return false
			}
		case w.touched.has(be):
			if !SameElement(ae, be, w.skip) {
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
