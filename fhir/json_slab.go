package fhir

import (
	"reflect"
	"unsafe"
)

// Slabs. Decoding a message Bundle for a translation that drops it
// (DecodeResourceRef, ParseBundleRef), the package's decoder takes the
// structs its resources hold (a Reference, a CodeableConcept, a list's
// only Coding...) from slabs of several of a type instead of allocating
// each apart, and its lists of strings and string pointers from slabs of
// strings. The first slab of each of the structs a message holds most of
// is in one block, allocated at the message's first such struct
// (messageBlock); past it, a type's slabs double. A struct kept keeps its
// slab alive, and so the other structs of the message in it, as a string
// kept keeps the message's bytes alive already (see DecodeResourceRef):
// long-lived state uses DecodeResource, which allocates each apart. A
// Bundle decoded in a Space (ParseBundleIn, space.go) takes its block,
// its first slab of strings and its entry list from memory the Space
// keeps from one message to the next.

// slabs are a message's slabs (nil: none, each struct allocated apart).
type slabs = *messageSlabs

// messageSlabs are the slabs of one message.
type messageSlabs struct {
	byPlan []slab         // by plan id
	block  unsafe.Pointer // the message's block, once allocated
	strs   []string       // zeroed strings, handed out from the start
	// firstStrs is the first slab of strings made, which a Space's slabs
	// (space.go) keep for the next message.
	firstStrs []string
}

// slab is where the next struct of a plan is taken from.
type slab struct {
	next unsafe.Pointer // the next zeroed struct; nil when none is left
	left int            // structs left from next on
	size int            // the length of the last slab allocated
}

// maxSlab is the most structs a slab past the block holds; a type's slabs
// double to it (measured on the corpus messages, before the block: from
// one, 72 allocations a message instead of 63 for 0.6 KB less; up to
// sixteen, 0.5 KB more for none fewer).
const maxSlab = 8

// strSlab is how many strings a slab of strings holds (more when a list
// is longer): the corpus messages' lists of strings and string pointers
// hold about a dozen a message.
const strSlab = 16

// blockCounts are how many structs of each type the block holds: about
// the most a message of the corpus holds on any FHIR -> v3 path (a
// prescription, $prepare, a dispense notification, a cancellation), of
// the types most messages hold.
var blockCounts = []struct {
	typ reflect.Type
	n   int
}{
	{reflect.TypeFor[Identifier](), 16},
	{reflect.TypeFor[Reference](), 16},
	{reflect.TypeFor[Coding](), 16},
	{reflect.TypeFor[CodeableConcept](), 12},
	{reflect.TypeFor[Extension](), 6},
	{reflect.TypeFor[Quantity](), 6},
	{reflect.TypeFor[Timing](), 2},
	{reflect.TypeFor[TimingRepeat](), 2},
	{reflect.TypeFor[Dosage](), 2},
	{reflect.TypeFor[ContactPoint](), 2},
	{reflect.TypeFor[Address](), 2},
	{reflect.TypeFor[HumanName](), 2},
	{reflect.TypeFor[Period](), 2},
	{reflect.TypeFor[DispenseRequest](), 2},
	{reflect.TypeFor[Substitution](), 2},
	{reflect.TypeFor[MessageSource](), 1},
	{reflect.TypeFor[MessageDestination](), 1},
}

// blockLayout is where each plan's first slab is in a message's block.
type blockLayout struct {
	typ reflect.Type // a struct of an array of each type blockCounts lists
	at  []uintptr    // by plan id: the first slab's offset in the block
	n   []int        // by plan id: its length; 0 for a plan without one
}

// messageBlock is the block's layout for the plans made (its arguments
// are made first).
var messageBlock = layBlock(planned, resourcePlans, plainBundlePlan)

// layBlock lays out the block of the plans pl made.
func layBlock(pl *planner, _ map[string]*plan, _ *plan) blockLayout {
	var fields []reflect.StructField
	for i, c := range blockCounts {
		fields = append(fields, reflect.StructField{
			Name: "F" + string(rune('A'+i)), Type: reflect.ArrayOf(c.n, c.typ),
		})
	}
	l := blockLayout{typ: reflect.StructOf(fields), at: make([]uintptr, len(pl.plans)), n: make([]int, len(pl.plans))}
	for i, c := range blockCounts {
		if p, ok := pl.plans[c.typ]; ok {
			l.at[p.id], l.n[p.id] = l.typ.Field(i).Offset, c.n
		}
	}
	return l
}

// newSlabs returns empty slabs for every plan.
func newSlabs() slabs { return &messageSlabs{byPlan: make([]slab, len(planned.plans))} }

// one returns a zeroed struct of the plan f holds (a fieldStructPtr's, or
// a fieldStructs' element): from its slab when the decoder has slabs,
// else allocated apart.
func (d *fastDecoder) one(f *field) unsafe.Pointer {
	if d.slabs == nil {
		return f.alloc.one()
	}
	id := f.sub.id
	s := &d.slabs.byPlan[id]
	if s.left == 0 {
		if n := messageBlock.n[id]; s.size == 0 && n > 0 {
			if d.slabs.block == nil {
				d.slabs.block = reflect.New(messageBlock.typ).UnsafePointer()
			}
			s.size = n
			s.next, s.left = unsafe.Add(d.slabs.block, messageBlock.at[id]), n
		} else {
			s.size = min(max(2*s.size, 2), max(maxSlab, s.size))
			s.next, s.left = f.alloc.grow(nil, 0, s.size), s.size
		}
	}
	e := s.next
	if s.left--; s.left > 0 {
		s.next = unsafe.Add(e, f.sub.size)
	} else {
		s.next = nil // not past the slab's end
	}
	return e
}

// more returns room for c structs of the plan f holds (a fieldStructs'
// elements) with the n at elems first: in place where elems are the last
// n structs taken from their slab and it has the rest left (a list read
// while no other struct of its type is), else allocated apart with the n
// copied.
func (d *fastDecoder) more(f *field, elems unsafe.Pointer, n, c int) unsafe.Pointer {
	if d.slabs != nil {
		s := &d.slabs.byPlan[f.sub.id]
		// Compared as numbers: a pointer past the list's end may be past
		// its slab's too, which Go's rules for unsafe.Pointer forbid.
		if k := c - n; s.next != nil && uintptr(s.next) == uintptr(elems)+uintptr(n)*f.sub.size && s.left >= k {
			if s.left -= k; s.left > 0 {
				s.next = unsafe.Add(s.next, uintptr(k)*f.sub.size)
			} else {
				s.next = nil // not past the slab's end
			}
			return elems
		}
	}
	return f.alloc.grow(elems, n, c)
}

// newStrings returns n zeroed strings: from the slabs of strings when the
// decoder has slabs (the slice's capacity its length, so that appending
// to it copies), else allocated apart.
func (d *fastDecoder) newStrings(n int) []string {
	if d.slabs == nil || n == 0 {
		return make([]string, n) // empty, not nil, as the codec's
	}
	if n > len(d.slabs.strs) {
		if n > strSlab/2 {
			return make([]string, n)
		}
		d.slabs.strs = make([]string, strSlab)
		if d.slabs.firstStrs == nil {
			d.slabs.firstStrs = d.slabs.strs
		}
	}
	out := d.slabs.strs[:n:n]
	d.slabs.strs = d.slabs.strs[n:]
	return out
}
