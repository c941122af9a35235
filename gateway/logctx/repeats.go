package logctx

import (
	"sync"
	"time"
)

// DefaultQuiet is how long a line repeated word for word is held back
// after it was written, when Repeats.Quiet is not set.
const DefaultQuiet = time.Minute

// repeatsSeen bounds how many distinct lines Repeats remembers.
const repeatsSeen = 64

// Repeats holds back lines a library repeats word for word while a
// dependency is down (the Redis client's dial failures, the trace
// exporter's failed exports): each is written once per Quiet, with how
// many times it was held back. The zero value holds back for
// DefaultQuiet; it is safe for concurrent use.
type Repeats struct {
	// Quiet is how long a line is held back after it was written;
	// DefaultQuiet when 0, nothing held back when negative.
	Quiet time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]*repeatedLine
}

// repeatedLine is when a line was last written and how often it was held
// back since.
type repeatedLine struct {
	at   time.Time
	held int
}

// Note records line and says whether to write it now, with how many times
// it was held back since it was last written.
func (r *Repeats) Note(line string) (held int, write bool) {
	quiet := r.Quiet
	switch {
	case quiet < 0:
		return 0, true
	case quiet == 0:
		quiet = DefaultQuiet
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.seen[line]; ok {
		if now.Sub(s.at) < quiet {
			s.held++
			return 0, false
		}
		held = s.held
	}
	if r.seen == nil {
		r.seen = map[string]*repeatedLine{}
	}
	if len(r.seen) >= repeatsSeen {
		for k, s := range r.seen {
			if now.Sub(s.at) >= quiet {
				delete(r.seen, k)
			}
		}
		if len(r.seen) >= repeatsSeen {
			return held, true // too many distinct lines at once: write, do not remember
		}
	}
	r.seen[line] = &repeatedLine{at: now}
	return held, true
}
