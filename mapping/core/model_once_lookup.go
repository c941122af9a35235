package core

import (
	"encoding/binary"
	"slices"
	"sync"
	"unsafe"
)

// onceTable is a Once's Tags and Kids as CheckOnce looks a child's tag up:
// one entry for each tag either names (a tag Tags names twice counts at its
// first index, as a look from the first tag would count it), in Tags' order
// then the other Kids' in name order, and a table of 64 slots that holds
// each entry at the slot its tag's key hashes to, with a multiplier chosen
// so that no two entries share a slot: a child's tag is then looked up with
// one hash, one key compared and one string compared, where a look through
// Tags cost a compare for each tag before it (and a Kids lookup a map's
// hash), for every child. Made once, the first time the Once is checked.
type onceTable struct {
	once    sync.Once
	entries []onceEntry
	// mul is the multiplier of slotOf, 0 when none was found that puts
	// every entry in a slot of its own (tags sharing a key), and find
	// then looks through the entries one by one.
	mul   uint64
	slots [64]uint8 // 1 + the index of the entry in each slot, 0 for none
}

// onceEntry is one tag of a Once: its key, its index in Tags (-1: not
// there), its Kids entry (nil: none) and, for a tag of 4 to 16 bytes, the
// two words that cover it (see is).
type onceEntry struct {
	key    uint64
	tag    string
	once   int
	kid    *Once
	w0, w1 uint64
}

// newOnceEntry returns the entry of tag.
func newOnceEntry(tag string, once int, kid *Once) onceEntry {
	e := onceEntry{key: tagKey(tag), tag: tag, once: once, kid: kid}
	e.w0, e.w1 = nameWords(tag)
	return e
}

// nameWords returns, for a name of 8 to 16 bytes, its first and its last
// 8 bytes, for one of 4 to 7 its first and last 4 (each pair overlapping,
// every load within the name); 0, 0 for other lengths.
func nameWords(s string) (w0, w1 uint64) {
	switch n := len(s); {
	case n >= 8 && n <= 16:
		return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8)),
			binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[n-8:]), 8))
	case n >= 4 && n < 8:
		return uint64(binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s), 4))),
			uint64(binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[n-4:]), 4)))
	}
	return 0, 0
}

// is reports whether tag, whose key is e's (so of e's length), is e's
// tag: by its words, read in registers (a compare of strings is a call,
// around which check saved and loaded what it holds); a tag of up to
// three bytes by its key alone, which holds every byte of it.
func (e *onceEntry) is(tag string) bool {
	switch n := len(tag); {
	case n <= 3:
		return true
	case n <= 16:
		w0, w1 := nameWords(tag)
		return w0 == e.w0 && w1 == e.w1
	}
	return e.tag == tag
}

// lookup returns o's table, making it the first time.
func (o *Once) lookup() *onceTable {
	t := &o.table
	t.once.Do(func() { t.make(o) })
	return t
}

// make fills t from o's Tags and Kids.
func (t *onceTable) make(o *Once) {
	named := make(map[string]bool, len(o.Tags)+len(o.Kids))
	for i, tag := range o.Tags {
		if !named[tag] {
			named[tag] = true
			t.entries = append(t.entries, newOnceEntry(tag, i, o.Kids[tag]))
		}
	}
	others := make([]string, 0, len(o.Kids))
	for tag := range o.Kids {
		if !named[tag] {
			others = append(others, tag)
		}
	}
	slices.Sort(others)
	for _, tag := range others {
		t.entries = append(t.entries, newOnceEntry(tag, -1, o.Kids[tag]))
	}
	if len(t.entries) >= len(t.slots) {
		return
	}
	// Odd multipliers from the golden ratio's, stepped by a large odd
	// constant: for the few tags of a Once one of the first few puts each
	// in a slot of its own, unless two share a key.
	mul := uint64(0x9e3779b97f4a7c15)
	for range 256 {
		clear(t.slots[:])
		ok := true
		for i, e := range t.entries {
			s := slotOf(e.key, mul)
			if t.slots[s] != 0 {
				ok = false
				break
			}
			t.slots[s] = uint8(i + 1)
		}
		if ok {
			t.mul = mul
			return
		}
		mul += 0x7f4a7c15f39cc060
	}
	clear(t.slots[:])
}

// find returns the entry of tag, or nil.
func (t *onceTable) find(tag string) *onceEntry {
	k := tagKey(tag)
	if t.mul == 0 {
		for i := range t.entries {
			if e := &t.entries[i]; e.key == k && e.is(tag) {
				return e
			}
		}
		return nil
	}
	i := t.slots[slotOf(k, t.mul)]
	if i == 0 {
		return nil
	}
	e := &t.entries[i-1]
	if e.key != k {
		return nil
	}
	// e.is(tag), written out: a call here had check save and load again
	// what it holds, as the compare of strings did.
	switch n := len(tag); {
	case n <= 3:
		return e
	case n <= 16:
		if w0, w1 := nameWords(tag); w0 == e.w0 && w1 == e.w1 {
			return e
		}
		return nil
	}
	if e.tag == tag {
		return e
	}
	return nil
}

// tagKey is a tag's length and its first, middle and last bytes in one
// word: tags with different keys differ.
func tagKey(tag string) uint64 {
	if tag == "" {
		return 0
	}
	n := len(tag)
	return uint64(n)&0xffff | uint64(tag[0])<<16 | uint64(tag[n/2])<<24 | uint64(tag[n-1])<<32
}

// slotOf is key's slot in a table of 64 for multiplier mul.
func slotOf(key, mul uint64) uint64 { return key * mul >> 58 }
