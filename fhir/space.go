package fhir

import "reflect"

// Reusing a Bundle's memory. A translation that decodes a message Bundle,
// writes another message from it and drops it (CancelToV3 and the other
// FHIR -> v3 paths) takes the Bundle's structs from slabs (json_slab.go):
// some 8 KB a message in one block, garbage as soon as the translation
// returns, and with it the slabs' bookkeeping and the entry list. A Space
// keeps those for the next message instead: the translation decodes its
// Bundle in a Space (ParseBundleIn) and resets it when nothing it returns
// refers to the Bundle any longer. The mapping keeps one with each v3
// Space it lends a translation, reset when that Space is given back.

// Space is the memory one translation at a time decodes its Bundle in. The
// zero Space is ready to use; a nil *Space decodes in fresh memory.
type Space struct {
	// slabs are the message's slabs; their block, once allocated, and
	// their first slab of strings are kept from message to message.
	slabs messageSlabs
	// entries is the entry list kept for the next message's Bundle.
	entries []Entry
	// listed is set once a Bundle's entries are read into entries: a
	// second Bundle decoded before Reset gets a list of its own.
	listed bool
}

// ParseBundleIn is ParseBundleBorrowed with the Bundle's structs taken from
// sp: the caller lends data as for ParseBundleBorrowed, and holds nothing
// of the Bundle but strings once it resets sp (Space.Reset). A Bundle
// of an unusual shape, which the package reads the general way, is decoded
// in fresh memory as ParseBundleBorrowed decodes it; so is every Bundle
// when sp is nil.
func ParseBundleIn(sp *Space, data []byte) (*Bundle, error) {
	return asBundle(decodeResourceIn(data, true, sp))
}

// messageSlabs returns the Space's slabs, ready for a message.
func (sp *Space) messageSlabs() slabs {
	s := &sp.slabs
	if s.byPlan == nil {
		s.byPlan = make([]slab, len(planned.plans))
		sp.entries = make([]Entry, 0, 16) // as readEntries makes them
	}
	return s
}

// maxKeptEntries bounds the entry list a Space keeps between messages.
const maxKeptEntries = 64

// keepEntries keeps the entry list a message was read into (the Space's
// own, or a longer one it grew into) for the next message, unless it is
// longer than maxKeptEntries.
func (sp *Space) keepEntries(entries []Entry) {
	sp.listed = true
	if cap(entries) > maxKeptEntries {
		clear(sp.entries[:cap(sp.entries)]) // what the message wrote before it grew
		entries = make([]Entry, 0, 16)
	}
	sp.entries = entries
}

// Reset readies the Space for another message. The structs of the Bundle
// decoded in it (its entries, and the Identifiers, References, Codings...
// its resources hold) are cleared and reused, so the caller must hold none
// of them any longer: not the Bundle, not a resource or a pointer into
// one, not a slice of its structs. Strings decoded from the message are
// views of it (as ParseBundleBorrowed's) and stay valid while it does.
// The block and the first slab of strings are cleared (nothing of the last
// message stays reachable through them, and the decoder's structs start
// zeroed), the slabs' bookkeeping emptied and the entry list cleared.
func (sp *Space) Reset() {
	s := &sp.slabs
	if s.block != nil {
		reflect.NewAt(messageBlock.typ, s.block).Elem().SetZero()
	}
	clear(s.byPlan)
	clear(s.firstStrs)
	s.strs = s.firstStrs
	clear(sp.entries[:cap(sp.entries)])
	sp.entries, sp.listed = sp.entries[:0], false
}
