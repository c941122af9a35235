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
	seen    map[string]time.Time
	queues  map[string]map[string]*memItem
	dead    [][]byte // newest last
	replies map[string]memReply
	sets    map[string]memSet
	seq     uint64
	now     func() time.Time
	closed  bool
}

// memItem is one queued item of a Memory store.
type memItem struct {
	data  []byte
	due   time.Time
	token string
	seq   uint64 // order of arrival, to break ties between equal due times
}

// memReply is a kept sync reply and when it expires.
type memReply struct {
	body []byte
	exp  time.Time
}

// NewMemory returns an empty in-memory store. now may be nil for time.Now;
// it governs the expiry of seen keys and replies (queue operations take
// their time from the caller).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		seen:    map[string]time.Time{},
		queues:  map[string]map[string]*memItem{},
		replies: map[string]memReply{},
		sets:    map[string]memSet{},
		now:     now,
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
	return m.markLocked(key, ttl), nil
}

// markLocked records key for ttl unless it is recorded and unexpired; the
// caller holds mu.
func (m *Memory) markLocked(key string, ttl time.Duration) bool {
	now := m.now()
	if exp, ok := m.seen[key]; ok && now.Before(exp) {
		return false
	}
	m.seen[key] = now.Add(ttl)
	if len(m.seen)%1024 == 0 {
		m.sweep(now)
	}
	return true
}

// Touch implements Store.
func (m *Memory) Touch(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	now := m.now()
	if exp, ok := m.seen[key]; !ok || !now.Before(exp) {
		return false, nil
	}
	m.seen[key] = now.Add(ttl)
	return true, nil
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
	for k, exp := range m.seen {
		if !now.Before(exp) {
			delete(m.seen, k)
		}
	}
	for k, r := range m.replies {
		if !now.Before(r.exp) {
			delete(m.replies, k)
		}
	}
}

// PutReply implements Store.
func (m *Memory) PutReply(_ context.Context, key string, body []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := m.now()
	m.replies[key] = memReply{body: append([]byte(nil), body...), exp: now.Add(ttl)}
	if len(m.replies)%1024 == 0 {
		m.sweep(now)
	}
	return nil
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
