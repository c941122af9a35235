package v3

// Lending a translation room for text of its own. What a translation
// reads from a message in a Space is already views of the message the
// Space holds (see Space.source), valid until the Space is given back;
// text it makes beside them with the same lifetime (a prescription's
// signature as base64, some 2.4 KB of each Bundle) can live in the Space
// too, in room kept from message to message, instead of an allocation
// each.

// lendSlab is the size of the Space's first slab of lent room.
const lendSlab = 4 << 10

// maxKeptLent bounds the slab of lent room a Space keeps between messages.
const maxKeptLent = 256 << 10

// Lend returns n bytes of room that are the caller's until the Space is
// given back (Scratch.Put): the caller must then hold nothing made in it,
// as with the Space's trees. Room lent in one message never overlaps
// another's lent in it. A nil Space lends fresh memory. The bytes are not
// cleared: the caller writes all of them.
func (sp *Space) Lend(n int) []byte {
	if sp == nil {
		return make([]byte, n)
	}
	l := len(sp.lent)
	if cap(sp.lent)-l < n {
		// A larger slab; the last stays alive through what was lent from
		// it, until the message is done with it.
		sp.lent = make([]byte, 0, max(2*cap(sp.lent), lendSlab, n))
		l = 0
	}
	sp.lent = sp.lent[:l+n]
	return sp.lent[l : l+n : l+n]
}

// relend readies the Space's lent room for another message (reset): the
// last slab, the largest, is lent again from its start, unless it is
// larger than maxKeptLent.
func relend(lent []byte) []byte {
	if cap(lent) > maxKeptLent {
		return nil
	}
	return lent[:0]
}
