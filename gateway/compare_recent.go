package gateway

import (
	"sync"
	"time"
)

// recentSet remembers keys for a while, in memory: each for ttl, at most
// max of them (past it the oldest is forgotten first). Comparison mode
// keeps with it the messages whose shadow run was queued and the
// prescriptions whose shadow run was skipped.
type recentSet struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	// at holds each key's time of remembering; fifo the keys in that
	// order (a key remembered again is in it twice: only the entry whose
	// time at holds counts).
	at   map[string]time.Time
	fifo []recentEntry
}

// recentEntry is one key in a recentSet's order.
type recentEntry struct {
	key string
	at  time.Time
}

// newRecentSet returns an empty recentSet of at most max keys, each kept
// for ttl.
func newRecentSet(max int, ttl time.Duration) *recentSet {
	return &recentSet{ttl: ttl, max: max, at: map[string]time.Time{}}
}

// add remembers key from now and reports whether it was new (not
// remembered, or forgotten since).
func (s *recentSet) add(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	_, known := s.at[key]
	s.at[key] = now
	s.fifo = append(s.fifo, recentEntry{key: key, at: now})
	s.expire(now)
	return !known
}

// has reports whether key is remembered at now.
func (s *recentSet) has(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	_, ok := s.at[key]
	return ok
}

// expire forgets the keys older than ttl, and the oldest past max.
func (s *recentSet) expire(now time.Time) {
	n := 0
	for ; n < len(s.fifo); n++ {
		e := s.fifo[n]
		if len(s.at) <= s.max && now.Sub(e.at) < s.ttl {
			break
		}
		if at, ok := s.at[e.key]; ok && at.Equal(e.at) {
			delete(s.at, e.key)
		}
	}
	s.fifo = s.fifo[n:] // append reallocates with the live entries only
	if len(s.fifo) > 2*len(s.at)+64 {
		// Keys remembered again many times: drop their stale entries.
		live := make([]recentEntry, 0, len(s.at))
		for _, e := range s.fifo {
			if at := s.at[e.key]; at.Equal(e.at) {
				live = append(live, e)
			}
		}
		s.fifo = live
	}
}
