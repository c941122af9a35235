package sim

import (
	"crypto/sha256"
	"sync"
)

// replayCache remembers answers by X-Request-ID for Options.ReplayRequestIDs.
type replayCache struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string]replayEntry
}

type replayEntry struct {
	key    [sha256.Size]byte // method, path and body
	status int
	body   []byte
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, m: map[string]replayEntry{}}
}

func replayKey(method, path string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	var k [sha256.Size]byte
	copy(k[:], h.Sum(nil))
	return k
}

// get returns the stored answer for a repeat of the same request.
func (c *replayCache) get(rid string, key [sha256.Size]byte) (replayEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[rid]
	if !ok || e.key != key {
		return replayEntry{}, false
	}
	return e, true
}

// put stores an answer, evicting the oldest beyond max.
func (c *replayCache) put(rid string, e replayEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[rid]; !ok {
		c.order = append(c.order, rid)
	}
	c.m[rid] = e
	for len(c.order) > c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}
