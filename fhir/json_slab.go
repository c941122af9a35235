package fhir

import "unsafe"

// Slabs. Decoding a message Bundle for a translation that drops it
// (DecodeResourceRef, ParseBundleRef), the package's decoder takes the
// structs its resources hold (a Reference, a CodeableConcept, a list's
// only Coding...) from slabs of several of a type instead of allocating
// each apart: about forty allocations fewer a message. A struct kept keeps
// its slab alive, and so the other structs of the message in it, as a
// string kept keeps the message's bytes alive already (see
// DecodeResourceRef): long-lived state uses DecodeResource, which
// allocates each apart.

// slabs are a message's slabs, by plan id.
type slabs []slab

// slab is where the next struct of a plan is taken from.
type slab struct {
	next unsafe.Pointer // the next zeroed struct; nil when none is left
	left int            // structs left from next on
	size int            // the length of the last slab allocated
}

// maxSlab is the most structs a slab holds; a type's slabs double from
// two to it (measured on the corpus messages: from one, 72 allocations a
// message instead of 63 for 0.6 KB less; up to sixteen, 0.5 KB more for
// none fewer).
const maxSlab = 8

// newSlabs returns empty slabs for every plan.
func newSlabs() slabs { return make(slabs, len(planned.plans)) }

// one returns a zeroed struct of the plan f holds (a fieldStructPtr's, or
// a fieldStructs' element): from its slab when the decoder has slabs,
// else allocated apart.
func (d *fastDecoder) one(f *field) unsafe.Pointer {
	if d.slabs == nil {
		return f.alloc.one()
	}
	s := &d.slabs[f.sub.id]
	if s.left == 0 {
		s.size = min(max(2*s.size, 2), maxSlab)
		s.next, s.left = f.alloc.grow(nil, 0, s.size), s.size
	}
	e := s.next
	if s.left--; s.left > 0 {
		s.next = unsafe.Add(e, f.sub.size)
	} else {
		s.next = nil // not past the slab's end
	}
	return e
}
