package v3

import "github.com/beevik/etree"

// FindPath returns the first element reached from el by child elements of
// the given tags in turn, in document order, or nil: what el.FindElement
// of the path "a/b/…" finds, without compiling the path (and allocating)
// on every call. No tags gives el itself.
func FindPath(el *etree.Element, tags ...string) *etree.Element {
	if len(tags) == 0 {
		return el
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == tags[0] {
			if found := FindPath(c, tags[1:]...); found != nil {
				return found
			}
		}
	}
	return nil
}
