package core

import (
	"sort"

	"github.com/beevik/etree"
)

// refSameParty is SameParty as it was before w233 told each parent's
// set-aside rule once (sameAside) instead of once for every child: the
// reference the differential tests and FuzzSameParty hold SameParty to.
// Kept word for word but for the names, with the old setAside beside it.
func refSameParty(a, b *etree.Element, skip func(*etree.Element) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return refSamePartyIn(a, b, skip, defaultNamespace(a.Parent()), defaultNamespace(b.Parent()))
}

func refSamePartyIn(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	da, db = ownDefault(a, da), ownDefault(b, db)
	if a.Tag != b.Tag || elementNamespace(a, da) != elementNamespace(b, db) ||
		trimmedText(a) != trimmedText(b) || !sameAttrs(a, b) {
		return false
	}
	if refSameChildren(a, b, skip, da, db) {
		return true
	}
	return a.Tag == "name" && refSameNameParts(a, b, skip, da, db)
}

func refPartyChild(e, c *etree.Element, skip func(*etree.Element) bool) bool {
	return (skip == nil || !skip(c)) && !refSetAside(e, c)
}

func refSetAside(e, c *etree.Element) bool {
	switch {
	case isCodedValue(e):
		return c.Tag == "originalText" || c.Tag == "translation" ||
			c.Tag == "qualifier" && (c.SelectElement("name") != nil || c.SelectElement("value") != nil)
	case isQuantity(e):
		return c.Tag == "translation" && c != firstDMDTranslation(e)
	}
	return false
}

func refSameChildren(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	next := func(e *etree.Element, i *int) *etree.Element {
		for ; *i < len(e.Child); *i++ {
			if c, ok := e.Child[*i].(*etree.Element); ok && refPartyChild(e, c, skip) {
				*i++
				return c
			}
		}
		return nil
	}
	for i, j := 0, 0; ; {
		ca, cb := next(a, &i), next(b, &j)
		if ca == nil || cb == nil {
			return ca == cb
		}
		if !refSamePartyIn(ca, cb, skip, da, db) {
			return false
		}
	}
}

func refSameNameParts(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	parts := func(e *etree.Element) []*etree.Element {
		var out []*etree.Element
		for _, t := range e.Child {
			if c, ok := t.(*etree.Element); ok && refPartyChild(e, c, skip) {
				out = append(out, c)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
		return out
	}
	pa, pb := parts(a), parts(b)
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		if !refSamePartyIn(pa[i], pb[i], skip, da, db) {
			return false
		}
	}
	return true
}
