package journal

import (
	"strings"
	"sync"
)

// headCacheBytes bounds the heads a Redis journal keeps in memory: two
// generations of up to 2 MiB each, about 2,700 heads of some 770 bytes a
// generation, so the exchanges of the last 1.3 to 2.7 seconds at 2,000
// messages a second (an exchange's events come within its processing and
// delivery); a head not kept is read back (one MGET a batch). At 8 MiB
// the cache was, once full, 4 to 8 MiB of the live heap under the 100 MiB
// soft memory limit, which every collection marks.
const headCacheBytes = 4 << 20

// storedHead is an exchange's head as x:<id> holds it, and the length of
// its summary as s:<id> holds it (-1: not known).
type storedHead struct {
	x      []byte
	sumLen int
}

// headCache keeps the heads a writer last wrote, so that the next events
// of an exchange merge into its head without reading it back: Redis
// checks it is still the one stored before anything is written. It holds
// two generations of at most half its bound each; when the newer is full
// the older goes. Safe for concurrent use; its slices are never changed.
type headCache struct {
	mu        sync.Mutex
	cur, prev map[string]storedHead
	size, max int
}

// newHeadCache returns a cache holding heads of up to bound bytes in all.
func newHeadCache(bound int) headCache {
	return headCache{cur: map[string]storedHead{}, max: bound / 2}
}

// get returns the head last put for id, if kept.
func (c *headCache) get(id string) (storedHead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.cur[id]; ok {
		return h, true
	}
	h, ok := c.prev[id]
	return h, ok
}

// put keeps h as id's head. The id is kept as a copy of its own (a map
// given a string key again takes the new one): the exchange id is the
// legacy message's MessageId, a view into the copy of its whole ebXML
// envelope the front door read it from (v3.ReadXML), and kept as it came
// it held those 2 KB live for as long as the head stayed here, some
// thousands of messages.
func (c *headCache) put(id string, h storedHead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.cur[id]; ok {
		c.size -= len(old.x)
	}
	delete(c.prev, id)
	if c.size+len(h.x) > c.max {
		c.prev, c.cur, c.size = c.cur, make(map[string]storedHead, len(c.cur)), 0
	}
	c.cur[strings.Clone(id)] = h
	c.size += len(h.x)
}

// forget drops the heads of ids.
func (c *headCache) forget(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if old, ok := c.cur[id]; ok {
			c.size -= len(old.x)
			delete(c.cur, id)
		}
		delete(c.prev, id)
	}
}
