package cancels

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Memory is the in-memory Tracker of the zero-setup default: the same
// behaviour as Redis within one process, nothing kept across a restart.
// Leases run on its clock.
type Memory struct {
	opts  Options
	clock func() time.Time

	mu      sync.Mutex
	records map[string]*memEntry
	expired []Record // newest first
	// answered remembers completed cancellations' request MessageIDs.
	answered map[string]answeredMark
}

// answeredMark is a completed cancellation's request MessageID, kept until.
type answeredMark struct {
	messageID string
	until     time.Time
}

type memEntry struct {
	rec        Record
	token      string
	leaseUntil time.Time
}

// NewMemory returns an empty in-memory Tracker. clock times the leases;
// nil means time.Now.
func NewMemory(opts Options, clock func() time.Time) *Memory {
	if clock == nil {
		clock = time.Now
	}
	return &Memory{opts: opts.withDefaults(), clock: clock, records: map[string]*memEntry{}, answered: map[string]answeredMark{}}
}

func (e *memEntry) leased(now time.Time) bool { return e.token != "" && now.Before(e.leaseUntil) }

// Track implements Tracker.
func (m *Memory) Track(_ context.Context, rec Record) (bool, error) {
	rec, err := prepare(rec, m.opts)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[rec.Key()]; ok {
		return false, nil
	}
	if a, ok := m.answered[rec.Key()]; ok && answeredID(rec.MessageID) != "" && a.messageID == answeredID(rec.MessageID) && m.clock().Before(a.until) {
		return false, nil
	}
	m.records[rec.Key()] = &memEntry{rec: copyRecord(rec)}
	return true, nil
}

// Get implements Tracker.
func (m *Memory) Get(_ context.Context, prescriptionID, lineItem string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.records[recordKey(prescriptionID, lineItem)]
	if !ok {
		return Record{}, ErrNotFound
	}
	return copyRecord(e.rec), nil
}

// Resolve implements Tracker.
func (m *Memory) Resolve(_ context.Context, prescriptionID, lineItem string, outcome Outcome, _ time.Time) (Claim, bool, error) {
	if err := checkIDs(prescriptionID, lineItem); err != nil {
		return Claim{}, false, err
	}
	token, err := newToken()
	if err != nil {
		return Claim{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.records[recordKey(prescriptionID, lineItem)]
	if !ok || e.rec.State == StateResolved {
		return Claim{}, false, nil
	}
	o := outcome
	e.rec.State, e.rec.Outcome = StateResolved, &o
	e.token, e.leaseUntil = token, m.clock().Add(m.opts.LeaseTTL)
	return Claim{Record: copyRecord(e.rec), Token: token}, true, nil
}

// Due implements Tracker.
func (m *Memory) Due(_ context.Context, now time.Time, limit int) ([]Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	wall := m.clock()
	var ready []*memEntry
	for _, e := range m.records {
		if e.leased(wall) {
			continue
		}
		if e.rec.State == StateResolved || !e.rec.NextPoll.After(now) {
			ready = append(ready, e)
		}
	}
	sort.Slice(ready, func(i, j int) bool {
		a, b := dueAt(ready[i]), dueAt(ready[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return ready[i].rec.Key() < ready[j].rec.Key()
	})
	if len(ready) > limit {
		ready = ready[:limit]
	}
	out := make([]Claim, 0, len(ready))
	for _, e := range ready {
		token, err := newToken()
		if err != nil {
			return out, err
		}
		e.token, e.leaseUntil = token, wall.Add(m.opts.LeaseTTL)
		out = append(out, Claim{Record: copyRecord(e.rec), Token: token})
	}
	return out, nil
}

// dueAt orders ready records: resolved ones by their lapsed lease, pending
// ones by their poll time.
func dueAt(e *memEntry) time.Time {
	if e.rec.State == StateResolved {
		return e.leaseUntil
	}
	return e.rec.NextPoll
}

// holder returns the entry whose current lease c holds, or ErrLeaseLost.
func (m *Memory) holder(c Claim) (*memEntry, error) {
	e, ok := m.records[c.Key()]
	if !ok || c.Token == "" || e.token != c.Token || !e.leased(m.clock()) {
		return nil, ErrLeaseLost
	}
	return e, nil
}

// Extend implements Tracker.
func (m *Memory) Extend(_ context.Context, c Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.holder(c)
	if err != nil {
		return err
	}
	e.leaseUntil = m.clock().Add(m.opts.LeaseTTL)
	return nil
}

// Reschedule implements Tracker.
func (m *Memory) Reschedule(_ context.Context, c Claim, now time.Time, lastError string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.holder(c)
	if err != nil {
		return Record{}, err
	}
	if e.rec.State != StatePending {
		return Record{}, fmt.Errorf("cancels: reschedule %s: it is %s", c.Key(), e.rec.State)
	}
	e.rec.Attempts++
	e.rec.NextPoll = nextPoll(now, m.opts.Backoff(e.rec.Attempts), e.rec.Expires)
	e.rec.LastError = lastError
	e.token, e.leaseUntil = "", time.Time{}
	return copyRecord(e.rec), nil
}

// Complete implements Tracker.
func (m *Memory) Complete(_ context.Context, c Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.holder(c)
	if err != nil {
		return err
	}
	delete(m.records, c.Key())
	now := m.clock()
	for k, a := range m.answered {
		if !now.Before(a.until) {
			delete(m.answered, k)
		}
	}
	if id := answeredID(e.rec.MessageID); id != "" {
		m.answered[c.Key()] = answeredMark{messageID: id, until: now.Add(m.opts.AnsweredTTL)}
	}
	return nil
}

// Expire implements Tracker.
func (m *Memory) Expire(_ context.Context, now time.Time, limit int) ([]Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	wall := m.clock()
	var gone []Record
	for _, e := range m.records {
		if e.rec.State == StatePending && !e.rec.Expires.After(now) && e.rec.NextPoll.After(e.rec.Expires) && !e.leased(wall) {
			gone = append(gone, copyRecord(e.rec))
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		if !gone[i].Expires.Equal(gone[j].Expires) {
			return gone[i].Expires.Before(gone[j].Expires)
		}
		return gone[i].Key() < gone[j].Key()
	})
	if len(gone) > limit {
		gone = gone[:limit]
	}
	for _, r := range gone {
		delete(m.records, r.Key())
		kept := copyRecord(r)
		kept.Request = nil // the expired list keeps no patient data (Tracker.ListExpired)
		m.expired = append([]Record{kept}, m.expired...)
	}
	if len(m.expired) > m.opts.ExpiredCap {
		m.expired = m.expired[:m.opts.ExpiredCap]
	}
	return gone, nil
}

// ListExpired implements Tracker.
func (m *Memory) ListExpired(_ context.Context, limit int) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.expired)
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]Record, n)
	for i := range out {
		out[i] = copyRecord(m.expired[i])
	}
	return out, nil
}

// List implements Tracker.
func (m *Memory) List(_ context.Context, limit int) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.records))
	for _, e := range m.records {
		out = append(out, e.rec)
	}
	sortByCreated(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i] = copyRecord(out[i])
	}
	return out, nil
}

// Stats implements Tracker.
func (m *Memory) Stats(_ context.Context, now time.Time) (Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Tracked: len(m.records), Expired: len(m.expired)}
	for _, e := range m.records {
		if e.rec.State == StatePending {
			s.Pending++
		}
		if e.rec.AwaitingPrescription {
			s.Awaiting++
		}
		if age := e.rec.Age(now); age > s.OldestAge {
			s.OldestAge = age
		}
	}
	return s, nil
}

// sortByCreated orders records oldest first (then by id).
func sortByCreated(rs []Record) {
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Created.Equal(rs[j].Created) {
			return rs[i].Created.Before(rs[j].Created)
		}
		return rs[i].Key() < rs[j].Key()
	})
}

// copyRecord copies a record so callers never share its slices or outcome.
func copyRecord(r Record) Record {
	if r.Request != nil {
		r.Request = append([]byte(nil), r.Request...)
	}
	if r.Outcome != nil {
		o := *r.Outcome
		r.Outcome = &o
	}
	return r
}
