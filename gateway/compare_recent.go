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
	// at holds each key's time of remembering and note; fifo the keys in
	// that order (a key remembered again is in it twice: only the entry
	// whose time at holds counts).
	at   map[string]recentNote
	fifo []recentEntry
}

// recentNote is what a recentSet holds of a key.
type recentNote struct {
	at   time.Time
	note string
}

// recentEntry is one key in a recentSet's order.
type recentEntry struct {
	key string
	at  time.Time
}

// newRecentSet returns an empty recentSet of at most max keys, each kept
// for ttl.
func newRecentSet(max int, ttl time.Duration) *recentSet {
	return &recentSet{ttl: ttl, max: max, at: map[string]recentNote{}}
}

// add remembers key, with note, from now and reports whether it was new
// (not remembered, or forgotten since).
func (s *recentSet) add(key, note string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	_, known := s.at[key]
	s.at[key] = recentNote{at: now, note: note}
	s.fifo = append(s.fifo, recentEntry{key: key, at: now})
	s.expire(now)
	return !known
}

// get returns the note of key and whether key is remembered at now.
func (s *recentSet) get(key string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	n, ok := s.at[key]
	return n.note, ok
}

// expire forgets the keys older than ttl, and the oldest past max.
func (s *recentSet) expire(now time.Time) {
	n := 0
	for ; n < len(s.fifo); n++ {
		e := s.fifo[n]
		if len(s.at) <= s.max && now.Sub(e.at) < s.ttl {
			break
		}
		if n, ok := s.at[e.key]; ok && n.at.Equal(e.at) {
			delete(s.at, e.key)
		}
	}
	s.fifo = s.fifo[n:] // append reallocates with the live entries only
	if len(s.fifo) > 2*len(s.at)+64 {
		// Keys remembered again many times: drop their stale entries.
		live := make([]recentEntry, 0, len(s.at))
		for _, e := range s.fifo {
			if n := s.at[e.key]; n.at.Equal(e.at) {
				live = append(live, e)
			}
		}
		s.fifo = live
	}
}
