package journal

import (
	"strings"
	"testing"
	"unsafe"
)

// TestHeadCacheKeepsItsOwnIDs: the head cache keeps each exchange id as a
// copy of its own, not as the view into a larger string it was given (the
// copy of a whole ebXML envelope the front door reads the MessageId from),
// which it would hold live with it; a head put again, or moved to a new
// generation, is still found.
func TestHeadCacheKeepsItsOwnIDs(t *testing.T) {
	envelope := strings.Repeat("<eb:MessageHeader/>", 100) + "F1A2B3C4-0000-4000-8000-00000000000A" + strings.Repeat(" ", 100)
	at := strings.Index(envelope, "F1A2")
	id := envelope[at : at+36]
	inEnvelope := func(s string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(envelope)))
		return p >= start && p < start+uintptr(len(envelope))
	}
	if !inEnvelope(id) {
		t.Fatal("the test's id is not a view into its envelope")
	}
	c := newHeadCache(64)
	check := func(when, want string) {
		t.Helper()
		for k := range c.cur {
			if inEnvelope(k) {
				t.Errorf("%s: the cache keeps the id as a view into the envelope", when)
			}
		}
		if h, ok := c.get(id); !ok || string(h.x) != want {
			t.Fatalf("%s: get = %q, %v; want %s", when, h.x, ok, want)
		}
	}
	c.put(id, storedHead{x: []byte("head-1")})
	c.put(id, storedHead{x: []byte("head-2")})
	check("put twice", "head-2")
	c.put("other", storedHead{x: make([]byte, 30)}) // a new generation: id's head moves to prev
	c.put(id, storedHead{x: []byte("head-3")})
	check("put in a new generation", "head-3")
}
