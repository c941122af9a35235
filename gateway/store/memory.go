package store

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for the zero-setup default and tests. It
// keeps nothing across restarts.
type Memory struct {
	mu     sync.Mutex
	seen   map[string]time.Time
	now    func() time.Time
	closed bool
}

// NewMemory returns an empty in-memory store. now may be nil for time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{seen: map[string]time.Time{}, now: now}
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
	now := m.now()
	if exp, ok := m.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	m.seen[key] = now.Add(ttl)
	if len(m.seen)%1024 == 0 {
		m.sweep(now)
	}
	return true, nil
}

// sweep drops expired keys; the caller holds mu.
func (m *Memory) sweep(now time.Time) {
	for k, exp := range m.seen {
		if !now.Before(exp) {
			delete(m.seen, k)
		}
	}
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
