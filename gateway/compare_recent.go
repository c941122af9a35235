package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
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

// compareMemory is what comparison mode remembers across messages and
// the gateway processes that share it: whose shadow run was made, so that
// a message processed again (by another replica) runs it once; and the
// prescriptions of skipped or failed shadow runs, each with why, so that
// a later comparison about one of them that differs is incomplete. In
// memory (localMemory) on a gateway of its own, whose own queue
// (comparing.queued) knows what it ran; in the store (storeMemory) when
// replicas share a Redis, any of which may take any message.
type compareMemory interface {
	// firstRun remembers the message key (for shadowRunsFor) and reports
	// whether it was new.
	firstRun(ctx context.Context, key string, now time.Time) (bool, error)
	// settled remembers that the shadow run of key was made, or
	// journalled as not made.
	settled(ctx context.Context, key string, now time.Time) error
	// wasSettled reports whether the shadow run of key, remembered by
	// firstRun, is settled: false when the process that queued it (a
	// replica, or this one before a restart) may have stopped before
	// making it.
	wasSettled(ctx context.Context, key string, now time.Time) (bool, error)
	// untry remembers prescription id (for untriedFor) with note.
	untry(ctx context.Context, id, note string, now time.Time) error
	// untried returns the note of prescription id, and whether it is
	// remembered.
	untried(ctx context.Context, id string, now time.Time) (string, bool, error)
}

// localMemory is a compareMemory of this process's own: its runs are its
// own queue's, each made once (comparing.queued); the prescriptions are a
// bounded set (rememberedUntried), lost on restart.
type localMemory struct {
	untriedIDs *recentSet
}

// newLocalMemory returns an empty localMemory.
func newLocalMemory() *localMemory {
	return &localMemory{untriedIDs: newRecentSet(rememberedUntried, untriedFor)}
}

func (m *localMemory) firstRun(context.Context, string, time.Time) (bool, error) { return true, nil }

func (m *localMemory) settled(context.Context, string, time.Time) error { return nil }

func (m *localMemory) wasSettled(context.Context, string, time.Time) (bool, error) { return true, nil }

func (m *localMemory) untry(_ context.Context, id, note string, now time.Time) error {
	m.untriedIDs.add(id, note, now)
	return nil
}

func (m *localMemory) untried(_ context.Context, id string, now time.Time) (string, bool, error) {
	note, ok := m.untriedIDs.get(id, now)
	return note, ok, nil
}

// storeMemory is a compareMemory in the store that replicas share: a
// message's shadow run is a duplicate-elimination mark
// ("compare-run:<key>", MarkSeen) and, once made or journalled as not
// made, a record ("compare-settled:<key>", PutReply); a prescription's
// note is a kept record ("compare-untried:<short-form id>", PutReply);
// each with its TTL.
type storeMemory struct {
	st store.Store
}

// Key prefixes of storeMemory in the store.
const (
	compareRunKey     = "compare-run:"
	compareSettledKey = "compare-settled:"
	compareUntriedKey = "compare-untried:"
)

func (m storeMemory) firstRun(ctx context.Context, key string, _ time.Time) (bool, error) {
	fresh, err := m.st.MarkSeen(ctx, compareRunKey+key, shadowRunsFor)
	if err != nil {
		return false, fmt.Errorf("comparison memory: %w", err)
	}
	return fresh, nil
}

func (m storeMemory) settled(ctx context.Context, key string, _ time.Time) error {
	if err := m.st.PutReply(ctx, compareSettledKey+key, []byte("1"), shadowRunsFor); err != nil {
		return fmt.Errorf("comparison memory: %w", err)
	}
	return nil
}

func (m storeMemory) wasSettled(ctx context.Context, key string, _ time.Time) (bool, error) {
	_, ok, err := m.st.GetReply(ctx, compareSettledKey+key)
	if err != nil {
		return false, fmt.Errorf("comparison memory: %w", err)
	}
	return ok, nil
}

func (m storeMemory) untry(ctx context.Context, id, note string, _ time.Time) error {
	if err := m.st.PutReply(ctx, compareUntriedKey+id, []byte(note), untriedFor); err != nil {
		return fmt.Errorf("comparison memory: %w", err)
	}
	return nil
}

func (m storeMemory) untried(ctx context.Context, id string, _ time.Time) (string, bool, error) {
	b, ok, err := m.st.GetReply(ctx, compareUntriedKey+id)
	if err != nil {
		return "", false, fmt.Errorf("comparison memory: %w", err)
	}
	return string(b), ok, nil
}
