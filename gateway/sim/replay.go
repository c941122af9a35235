package sim

import (
	"context"
	"crypto/sha256"
	"sync"
)

// replayCache remembers answers by X-Request-ID for Options.ReplayRequestIDs.
type replayCache struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string]replayEntry
	// inflight holds the request ids being processed; the channel closes
	// when the answer is stored.
	inflight map[string]chan struct{}
}

type replayEntry struct {
	key    [sha256.Size]byte // method, path and body
	status int
	body   []byte
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, m: map[string]replayEntry{}, inflight: map[string]chan struct{}{}}
}

// do answers a request with id rid and key: the stored answer of an earlier
// one with both (hit), else process's, stored. A repeat that comes while
// the first is still processed waits for its answer instead of being
// processed beside it (a client retrying after its attempt timed out).
// It fails only when ctx ends while waiting.
func (c *replayCache) do(ctx context.Context, rid string, key [sha256.Size]byte, process func() replayEntry) (e replayEntry, hit bool, err error) {
	for {
		c.mu.Lock()
		if e, ok := c.m[rid]; ok && e.key == key {
			c.mu.Unlock()
			return e, true, nil
		}
		wait, busy := c.inflight[rid]
		if !busy {
			done := make(chan struct{})
			c.inflight[rid] = done
			c.mu.Unlock()
			defer func() {
				c.mu.Lock()
				delete(c.inflight, rid)
				close(done)
				c.mu.Unlock()
			}()
			e = process()
			e.key = key
			c.put(rid, e)
			return e, false, nil
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return replayEntry{}, false, ctx.Err()
		}
	}
}

func replayKey(method, path string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	var k [sha256.Size]byte
	copy(k[:], h.Sum(nil))
	return k
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
