package core

import (
	"slices"

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
	w := editedWalk{e: e, skip: skip}
	// The elements of b whose subtree changed: the changed and inserted
	// ones and their ancestors.
	var room [32]*etree.Element
	w.touched = room[:0]
	for _, list := range [...][]*etree.Element{e.Inserted, e.Changed} {
		for _, el := range list {
			for p := el; p != nil && !slices.Contains(w.touched, p); p = p.Parent() {
				w.touched = append(w.touched, p)
				if p == b {
					break
				}
			}
		}
	}
	if !slices.Contains(e.Copied, a) {
		// a itself is shared with a0, and b0 was compared with a0 as a
		// whole.
		if !slices.Contains(w.touched, b) {
			return true
		}
		return SameElement(a, b, skip)
	}
	return w.same(a, b)
}

// editedWalk is SameElementEdited's walk.
type editedWalk struct {
	e       TreeEdits
	skip    func(*etree.Element) bool
	touched []*etree.Element
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
		removed, inserted := slices.Contains(w.e.Removed, ae), slices.Contains(w.e.Inserted, be)
		switch {
		case removed || inserted || ka != kb:
			if !SameElement(ae, be, w.skip) {
				return false
			}
		case slices.Contains(w.e.Copied, ae):
			if !w.same(ae, be) {
				return false
			}
		case slices.Contains(w.touched, be):
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
