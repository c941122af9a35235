package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/porxgate/porxgate/internal/ids"
)

// Accept implements Store.
func (m *Memory) Accept(ctx context.Context, seenKey string, ttl time.Duration, items ...Item) (bool, error) {
	a, err := m.AcceptFrom(ctx, seenKey, "", ttl, items...)
	return a.Fresh, err
}

// AcceptFrom implements Store.
func (m *Memory) AcceptFrom(_ context.Context, seenKey, party string, ttl time.Duration, items ...Item) (Accepted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Accepted{}, ErrClosed
	}
	if mk, ok := m.markAt(m.now(), seenKey); ok {
		return Accepted{Party: mk.party}, nil
	}
	inHand, queued := m.inHandLocked(items)
	if queued && inHand.party != "" && inHand.party != party {
		return Accepted{Party: inHand.party}, nil
	}
	m.markLocked(seenKey, party, ttl)
	m.enqueueLocked(items)
	if queued {
		return Accepted{Party: inHand.party}, nil
	}
	return Accepted{Fresh: true}, nil
}

// inHandLocked returns the first of items that is in its queue already
// (as queued), and whether there is one; the caller holds mu.
func (m *Memory) inHandLocked(items []Item) (*memItem, bool) {
	for _, it := range items {
		if q, ok := m.queues[it.Queue][it.ID]; ok {
			return q, true
		}
	}
	return nil, false
}

// Enqueue implements Store.
func (m *Memory) Enqueue(_ context.Context, items ...Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.enqueueLocked(items)
	return nil
}

// heldQueuedLocked reports whether one of items to be queued already
// claimed (Item.Token) is in its queue already; the caller holds mu.
func (m *Memory) heldQueuedLocked(items []Item) bool {
	for _, it := range items {
		if _, ok := m.queues[it.Queue][it.ID]; ok && it.Token != "" {
			return true
		}
	}
	return false
}

// enqueueLocked adds items that are not queued yet; the caller holds mu.
func (m *Memory) enqueueLocked(items []Item) {
	for _, it := range items {
		q := m.queues[it.Queue]
		if q == nil {
			q = map[string]*memItem{}
			m.queues[it.Queue] = q
		}
		if _, ok := q[it.ID]; ok {
			continue
		}
		q[it.ID] = &memItem{data: append([]byte(nil), it.Data...), due: it.Due.UnixMilli(), token: it.Token, party: it.Party}
	}
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, queue string, now time.Time, lease time.Duration) (*Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	// As in Redis (claimScript): due in whole milliseconds, ties of the
	// same millisecond in order of id.
	var (
		bestID string
		best   *memItem
		due    int
		nowMs  = now.UnixMilli()
	)
	for id, it := range m.queues[queue] {
		if it.due > nowMs {
			continue
		}
		due++
		if best == nil || it.due < best.due || it.due == best.due && id < bestID {
			bestID, best = id, it
		}
	}
	if best == nil {
		return nil, nil
	}
	until := now.Add(lease)
	best.token = ids.NewUUID()
	best.due = until.UnixMilli()
	return &Lease{Queue: queue, ID: bestID, Data: append([]byte(nil), best.data...), Token: best.token, Until: until, More: due > 1}, nil
}

// held returns the item l names when l's token still holds it; the caller
// holds mu.
func (m *Memory) held(l *Lease) (*memItem, error) {
	if m.closed {
		return nil, ErrClosed
	}
	it, ok := m.queues[l.Queue][l.ID]
	if !ok || it.token == "" || it.token != l.Token {
		return nil, ErrLeaseLost
	}
	return it, nil
}

// Extend implements Store.
func (m *Memory) Extend(_ context.Context, l *Lease, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, err := m.held(l)
	if err != nil {
		return err
	}
	it.due = until.UnixMilli()
	l.Until = until
	return nil
}

// Retry implements Store.
func (m *Memory) Retry(_ context.Context, l *Lease, data []byte, due time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, err := m.held(l)
	if err != nil {
		return err
	}
	it.data = append([]byte(nil), data...)
	it.due = due.UnixMilli()
	it.token = ""
	return nil
}

// CompleteClaim implements CompleteClaimer: Complete, then, when it
// completed l, Claim of l's queue.
func (m *Memory) CompleteClaim(ctx context.Context, l *Lease, f Finish, now time.Time, lease time.Duration) (*Lease, error) {
	if err := m.Complete(ctx, l, f); err != nil {
		return nil, err
	}
	return m.Claim(ctx, l.Queue, now, lease)
}

// Complete implements Store.
func (m *Memory) Complete(_ context.Context, l *Lease, f Finish) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.held(l); err != nil {
		return err
	}
	if m.heldQueuedLocked(f.Enqueue) {
		return fmt.Errorf("complete %s/%s: %w", l.Queue, l.ID, ErrHeldQueued)
	}
	delete(m.queues[l.Queue], l.ID)
	if f.DeadLetter != nil {
		m.dead = append(m.dead, append([]byte(nil), f.DeadLetter...))
		m.deadHeads = append(m.deadHeads, bytes.Clone(f.DeadLetterHead))
		if over := len(m.dead) - DeadLetterCap; over > 0 {
			m.dead = append([][]byte(nil), m.dead[over:]...)
			m.deadHeads = append([][]byte(nil), m.deadHeads[over:]...)
		}
	}
	m.enqueueLocked(f.Enqueue)
	return nil
}

// Requeue implements Store.
func (m *Memory) Requeue(_ context.Context, deadLetter []byte, items ...Item) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	for i := len(m.dead) - 1; i >= 0; i-- { // the newest of equal ones, as LREM 1 in Redis
		if dl := m.dead[i]; string(dl) == string(deadLetter) {
			m.dead = append(m.dead[:i:i], m.dead[i+1:]...)
			m.deadHeads = append(m.deadHeads[:i:i], m.deadHeads[i+1:]...)
			m.enqueueLocked(items)
			return true, nil
		}
	}
	return false, nil
}

// Peek implements Store.
func (m *Memory) Peek(_ context.Context, queue, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, false, ErrClosed
	}
	it, ok := m.queues[queue][id]
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(it.data), true, nil
}

// Drop implements Store.
func (m *Memory) Drop(_ context.Context, queue, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	_, ok := m.queues[queue][id]
	delete(m.queues[queue], id)
	return ok, nil
}

// QueueLen implements Store.
func (m *Memory) QueueLen(_ context.Context, queue string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	return len(m.queues[queue]), nil
}

// DeadLetters implements Store.
func (m *Memory) DeadLetters(ctx context.Context, limit int) ([][]byte, error) {
	return m.DeadLetterPage(ctx, 0, limit)
}

// DeadLetterPage implements Store.
func (m *Memory) DeadLetterPage(_ context.Context, offset, limit int) ([][]byte, error) {
	var out [][]byte
	err := m.eachDead(offset, limit, func(i int) { out = append(out, append([]byte(nil), m.dead[i]...)) })
	return out, err
}

// eachDead calls fn, under m's lock, with the index in m.dead of each of
// up to limit dead letters, newest first, after the newest offset.
func (m *Memory) eachDead(offset, limit int, fn func(i int)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for i, n := len(m.dead)-1-max(offset, 0), 0; offset >= 0 && i >= 0 && n < limit; i, n = i-1, n+1 {
		fn(i)
	}
	return nil
}
