package core

import (
	"slices"
	"sync"
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
// there) and its Kids entry (nil: none).
type onceEntry struct {
	key  uint64
	tag  string
	once int
	kid  *Once
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
			t.entries = append(t.entries, onceEntry{key: tagKey(tag), tag: tag, once: i, kid: o.Kids[tag]})
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
		t.entries = append(t.entries, onceEntry{key: tagKey(tag), tag: tag, once: -1, kid: o.Kids[tag]})
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
			if e := &t.entries[i]; e.key == k && e.tag == tag {
				return e
			}
		}
		return nil
	}
	i := t.slots[slotOf(k, t.mul)]
	if i == 0 {
		return nil
	}
	if e := &t.entries[i-1]; e.key == k && e.tag == tag {
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
