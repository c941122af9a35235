package gateway

import (
	"context"
	"encoding/json"
	"errors"
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
	// firstRun remembers the message key (for shadowRunsFor) as taken up
	// by the gateway process owner and reports whether it was new; when
	// it was not, by is the process that took it up ("" when unknown).
	firstRun(ctx context.Context, key, owner string, now time.Time) (fresh bool, by string, err error)
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
	// hold remembers the shadow run run() describes, queued by this
	// process, until release: should the process stop first (killed),
	// another finds it (lost) once its heartbeat has lapsed for lease.
	// run is called only by a memory that keeps it.
	hold(ctx context.Context, run func() heldRun, lease time.Duration) error
	// release forgets the held run of key: it was made, or journalled as
	// not made, or found made by another process.
	release(ctx context.Context, key string) error
	// heartbeat says the process owner is alive, for lease.
	heartbeat(ctx context.Context, owner string, lease time.Duration) error
	// alive reports whether the process owner's heartbeat lasts.
	alive(ctx context.Context, owner string) (bool, error)
	// lost returns up to limit held runs whose process's heartbeat has
	// lapsed, each taken for lease (no other process finds it meanwhile),
	// to be handed to forget once journalled.
	lost(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]lostRun, error)
	// forget forgets a lost run handled.
	forget(ctx context.Context, run lostRun) error
}

// heldRun is what comparison mode keeps in the store of a shadow run a
// process queued, until it is settled: enough for another process to
// journal and count it skipped, and remember its prescriptions untried,
// should the first stop (killed) before.
type heldRun struct {
	Key         string `json:"key"`
	Owner       string `json:"owner"`
	Interaction string `json:"interaction"`
	MessageID   string `json:"messageId"`
	// Prescriptions are the short-form ids of its request and the
	// primary's answer.
	Prescriptions []string  `json:"prescriptions,omitempty"`
	QueuedAt      time.Time `json:"queuedAt"`
}

// lostRun is a held run found lost, taken by the process handling it.
type lostRun struct {
	heldRun
	lease *store.Lease
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

func (m *localMemory) firstRun(context.Context, string, string, time.Time) (bool, string, error) {
	return true, "", nil
}

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

// A gateway of its own loses its queue with its process: nothing of it
// survives a restart for a held run to be found by.

func (m *localMemory) hold(context.Context, func() heldRun, time.Duration) error { return nil }

func (m *localMemory) release(context.Context, string) error { return nil }

func (m *localMemory) heartbeat(context.Context, string, time.Duration) error { return nil }

func (m *localMemory) alive(context.Context, string) (bool, error) { return true, nil }

func (m *localMemory) lost(context.Context, time.Time, time.Duration, int) ([]lostRun, error) {
	return nil, nil
}

func (m *localMemory) forget(context.Context, lostRun) error { return nil }

// storeMemory is a compareMemory in the store that replicas share: a
// message's shadow run taken up is a duplicate-elimination mark with the
// process that took it up ("compare-run:<key>", AcceptFrom) and, once
// made or journalled as not made, a record ("compare-settled:<key>",
// PutReply); a prescription's note is a kept record
// ("compare-untried:<short-form id>", PutReply); each with its TTL. A run
// queued and not yet settled is an item of the queue "compare-held" (id
// its key, due when its process's heartbeat may have lapsed), and a
// process's heartbeat a record ("compare-alive:<owner>", PutReply).
type storeMemory struct {
	st store.Store
}

// Key prefixes of storeMemory in the store.
const (
	compareRunKey     = "compare-run:"
	compareSettledKey = "compare-settled:"
	compareUntriedKey = "compare-untried:"
	compareAliveKey   = "compare-alive:"
	compareHeldQueue  = "compare-held"
)

func (m storeMemory) firstRun(ctx context.Context, key, owner string, _ time.Time) (bool, string, error) {
	a, err := m.st.AcceptFrom(ctx, compareRunKey+key, owner, shadowRunsFor)
	if err != nil {
		return false, "", fmt.Errorf("comparison memory: %w", err)
	}
	return a.Fresh, a.Party, nil
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

func (m storeMemory) hold(ctx context.Context, run func() heldRun, lease time.Duration) error {
	r := run()
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("comparison memory: %w", err)
	}
	// A run of the same key held already (its message processed again
	// after another process) is left as it is: this process releases it
	// once it settles its own.
	if err := m.st.Enqueue(ctx, store.Item{Queue: compareHeldQueue, ID: r.Key, Data: b, Due: r.QueuedAt.Add(lease)}); err != nil {
		return fmt.Errorf("comparison memory: holding %s: %w", r.Key, err)
	}
	return nil
}

func (m storeMemory) release(ctx context.Context, key string) error {
	if _, err := m.st.Drop(ctx, compareHeldQueue, key); err != nil {
		return fmt.Errorf("comparison memory: releasing %s: %w", key, err)
	}
	return nil
}

func (m storeMemory) heartbeat(ctx context.Context, owner string, lease time.Duration) error {
	if err := m.st.PutReply(ctx, compareAliveKey+owner, []byte("1"), lease); err != nil {
		return fmt.Errorf("comparison memory: heartbeat: %w", err)
	}
	return nil
}

func (m storeMemory) alive(ctx context.Context, owner string) (bool, error) {
	_, ok, err := m.st.GetReply(ctx, compareAliveKey+owner)
	if err != nil {
		return false, fmt.Errorf("comparison memory: %w", err)
	}
	return ok, nil
}

// lost claims the held runs due (their process's heartbeat may have
// lapsed) one by one: a run whose process is alive is made due again a
// lease later; one whose process is not is returned, leased for lease.
// An entry that cannot be read names no run to journal: it is dropped.
func (m storeMemory) lost(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]lostRun, error) {
	var out []lostRun
	alive := map[string]bool{} // each process asked once per sweep
	for range limit {
		l, err := m.st.Claim(ctx, compareHeldQueue, now, lease)
		if err != nil || l == nil {
			return out, err
		}
		var r heldRun
		if err := json.Unmarshal(l.Data, &r); err != nil {
			if err := m.st.Complete(ctx, l, store.Finish{}); err != nil && !errors.Is(err, store.ErrLeaseLost) {
				return out, fmt.Errorf("comparison memory: dropping unreadable held run %s: %w", l.ID, err)
			}
			continue
		}
		ok, known := alive[r.Owner]
		if !known {
			if ok, err = m.alive(ctx, r.Owner); err != nil {
				return out, err // the lease runs out: found again later
			}
			alive[r.Owner] = ok
		}
		if !ok {
			out = append(out, lostRun{heldRun: r, lease: l})
			continue
		}
		if err := m.st.Retry(ctx, l, l.Data, now.Add(lease)); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			return out, fmt.Errorf("comparison memory: keeping held run %s: %w", r.Key, err)
		}
	}
	return out, nil
}

func (m storeMemory) forget(ctx context.Context, r lostRun) error {
	if err := m.st.Complete(ctx, r.lease, store.Finish{}); err != nil && !errors.Is(err, store.ErrLeaseLost) {
		return fmt.Errorf("comparison memory: forgetting lost run %s: %w", r.Key, err)
	}
	return nil
}
