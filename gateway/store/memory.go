package store

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for the zero-setup default and tests. It
// keeps nothing across restarts.
type Memory struct {
	mu      sync.Mutex
	seen    map[string]memMark
	queues  map[string]map[string]*memItem
	dead    [][]byte // newest last
	replies map[string]memReply
	// replyOrder lists the replies oldest first, and replyBytes is what
	// they hold: past MemoryReplyCap the oldest are dropped.
	replyOrder []replyRef
	replyBytes int
	replyCap   int // MemoryReplyCap
	sets       map[string]memSet
	holds      map[string]memHold // hold.go
	seq        uint64
	now        func() time.Time
	closed     bool

	// deadHeads are dead's heads (Finish.DeadLetterHead) in step with it,
	// nil where none was given.
	deadHeads [][]byte
}

// memMark is a duplicate-elimination mark of a Memory store: when it
// expires, and the party recorded with it (AcceptFrom).
type memMark struct {
	exp   time.Time
	party string
}

// memItem is one queued item of a Memory store.
type memItem struct {
	data []byte
	// due is when the item is due (while leased: when the lease runs
	// out), in Unix milliseconds as Redis keeps it, so that the memory
	// store claims in the order Redis does: by due millisecond, then id.
	due   int64
	token string
	party string // Item.Party
}

// memReply is a kept sync reply and when it expires.
type memReply struct {
	body []byte
	exp  time.Time
	seq  uint64 // which put made it (replyOrder)
}

// replyRef names one put of a reply in replyOrder.
type replyRef struct {
	key string
	seq uint64
}

// MemoryReplyCap bounds the bytes of the replies and EPS outcome records a
// Memory store keeps; past it the oldest are dropped before they expire.
// The records serve replays, which come within minutes of the first
// processing, and the in-memory store keeps nothing across a restart
// anyway: without the cap a day's records (their TTL) grew with the rate.
const MemoryReplyCap = 64 << 20

// NewMemory returns an empty in-memory store. now may be nil for time.Now;
// it governs the expiry of seen keys and replies (queue operations take
// their time from the caller).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		seen:     map[string]memMark{},
		queues:   map[string]map[string]*memItem{},
		replies:  map[string]memReply{},
		replyCap: MemoryReplyCap,
		sets:     map[string]memSet{},
		now:      now,
	}
}

// Kind implements Store.
func (m *Memory) Kind() string { return "memory" }

// MarkSeen implements Store.
func (m *Memory) MarkSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	return m.markLocked(key, "", ttl), nil
}

// markLocked records key, with party, for ttl unless it is recorded and
// unexpired; the caller holds mu.
func (m *Memory) markLocked(key, party string, ttl time.Duration) bool {
	now := m.now()
	if _, ok := m.markAt(now, key); ok {
		return false
	}
	m.seen[key] = memMark{exp: now.Add(ttl), party: party}
	if len(m.seen)%1024 == 0 {
		m.sweep(now)
	}
	return true
}

// markAt returns the mark key if it is recorded and unexpired at now;
// the caller holds mu.
func (m *Memory) markAt(now time.Time, key string) (memMark, bool) {
	mk, ok := m.seen[key]
	return mk, ok && now.Before(mk.exp)
}

// Touch implements Store.
func (m *Memory) Touch(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	return m.touchLocked(m.now(), key, ttl), nil
}

// TouchMark implements Store.
func (m *Memory) TouchMark(_ context.Context, key string, ttl time.Duration) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", false, ErrClosed
	}
	now := m.now()
	mk, ok := m.markAt(now, key)
	if !ok {
		return "", false, nil
	}
	m.touchLocked(now, key, ttl)
	return mk.party, true, nil
}

// touchLocked is Touch at now; the caller holds mu.
func (m *Memory) touchLocked(now time.Time, key string, ttl time.Duration) bool {
	mk, ok := m.markAt(now, key)
	if !ok {
		return false
	}
	mk.exp = now.Add(ttl)
	m.seen[key] = mk
	return true
}

// Forget implements Store.
func (m *Memory) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	delete(m.seen, key)
	return nil
}

// sweep drops expired keys and replies; the caller holds mu.
func (m *Memory) sweep(now time.Time) {
	for k, mk := range m.seen {
		if !now.Before(mk.exp) {
			delete(m.seen, k)
		}
	}
	for k, r := range m.replies {
		if !now.Before(r.exp) {
			m.dropReply(k)
		}
	}
}

// putReply keeps body under key for ttl, dropping the oldest replies past
// MemoryReplyCap; the caller holds mu.
func (m *Memory) putReply(now time.Time, key string, body []byte, ttl time.Duration) {
	m.dropReply(key)
	m.seq++
	m.replies[key] = memReply{body: append([]byte(nil), body...), exp: now.Add(ttl), seq: m.seq}
	m.replyBytes += len(key) + len(body)
	m.replyOrder = append(m.replyOrder, replyRef{key: key, seq: m.seq})
	for m.replyBytes > m.replyCap && len(m.replyOrder) > 1 {
		ref := m.replyOrder[0]
		m.replyOrder = m.replyOrder[1:]
		if r, ok := m.replies[ref.key]; ok && r.seq == ref.seq {
			m.dropReply(ref.key)
		}
	}
	if len(m.replies)%1024 == 0 {
		m.sweep(now)
	}
	if len(m.replyOrder) > 2*len(m.replies)+1024 { // refs of replies gone: compact
		live := m.replyOrder[:0:0]
		for _, ref := range m.replyOrder {
			if r, ok := m.replies[ref.key]; ok && r.seq == ref.seq {
				live = append(live, ref)
			}
		}
		m.replyOrder = live
	}
}

// dropReply forgets the reply under key, if any; the caller holds mu.
func (m *Memory) dropReply(key string) {
	if r, ok := m.replies[key]; ok {
		m.replyBytes -= len(key) + len(r.body)
		delete(m.replies, key)
	}
}

// PutReply implements Store.
func (m *Memory) PutReply(_ context.Context, key string, body []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.putReply(m.now(), key, body, ttl)
	return nil
}

// PutReplyRemoving is PutReply and a SetRemove per removal in one atomic
// step.
func (m *Memory) PutReplyRemoving(_ context.Context, key string, body []byte, ttl time.Duration, removals ...SetRemoval) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.putReply(m.now(), key, body, ttl)
	m.removeLocked(removals)
	return nil
}

// removeLocked makes the removals, for a caller that holds mu.
func (m *Memory) removeLocked(removals []SetRemoval) {
	for _, r := range removals {
		if s, ok := m.sets[r.Set]; ok {
			for _, v := range r.Members {
				delete(s.members, v)
			}
		}
	}
}

// KeepReply implements Store.
func (m *Memory) KeepReply(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...SetRemoval) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	now := m.now()
	m.putReply(now, key, body, ttl)
	m.removeLocked(removals)
	if m.touchLocked(now, key, ttl) {
		return true, nil
	}
	m.markLocked(key, "", ttl) // lapsed: made again, for duplicates to get the kept answer
	return false, nil
}

// GetReply implements Store.
func (m *Memory) GetReply(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, false, ErrClosed
	}
	r, ok := m.replies[key]
	if !ok || !m.now().Before(r.exp) {
		return nil, false, nil
	}
	return append([]byte(nil), r.body...), true, nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Memory and Redis implement Store.
var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
)
