package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Memory is the in-process backend: nothing survives a restart.
type Memory struct {
	ret      Retention
	mu       sync.Mutex
	byID     map[string]*memEntry
	order    []string // exchange ids, oldest first by start (ties: by arrival)
	bytes    int64
	accesses []Access // newest last
	gone     tombstones
	// ids indexes the kept exchanges by each of their ids and their own,
	// in lower case: the exchanges that carry it, in the order they came
	// to (so nearly oldest first, as they go).
	ids map[string][]string
	// placed counts the places taken in order (memEntry.placed).
	placed uint64
	// work is what the reads looked at under the lock, for the tests
	// that pin how long a read keeps the writer waiting.
	work readWork
}

// readWork counts the exchanges Memory's reads (Search, Prune) looked at
// under its lock: in all, and the most in one hold of the lock (the
// longest the writer can wait behind a read, in exchanges).
type readWork struct {
	looked      int
	longestHold int
}

// held records one hold of the lock in which n exchanges were looked at.
func (w *readWork) held(n int) {
	w.looked += n
	w.longestHold = max(w.longestHold, n)
}

// memEntry is one kept exchange with its size.
type memEntry struct {
	x    Exchange
	size int64
	// placed orders the exchanges of one start as order does: the
	// later placed, the later in order.
	placed uint64
	// payloads are the digests of the legacy request payloads kept
	// (keepOnce).
	payloads []string
}

// NewMemory returns an empty in-memory backend with retention r (zero
// fields take the defaults).
func NewMemory(r Retention) *Memory {
	return &Memory{ret: r.withDefaults(), byID: map[string]*memEntry{}, ids: map[string][]string{}}
}

// Kind implements Backend.
func (m *Memory) Kind() string { return "memory" }

// Apply implements Backend.
func (m *Memory) Apply(_ context.Context, ev Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byID[ev.Exchange]
	if !ok && m.gone.has(ev.Exchange) && !startsExchange([]Event{ev}) {
		return fmt.Errorf("journal: exchange %s: %w", ev.Exchange, ErrGone)
	}
	if !ok {
		e = &memEntry{}
		m.byID[ev.Exchange] = e
	}
	var digest string
	ev.Step, digest = keepOnce(ev.Step, e.payloads)
	e.payloads = remember(e.payloads, digest)
	if ev.Step != nil && ev.Step.Body != "" {
		// What the exchange keeps is its own: a Body may share the memory
		// of a larger buffer (Payload), which keeping it would hold whole.
		st := *ev.Step
		st.Body = strings.Clone(st.Body)
		ev.Step = &st
	}
	// The ids the exchange may come to carry, indexed after the merge.
	var fresh []string
	for _, v := range append(ev.IDs.all(), ev.Exchange) {
		if v != "" && !strings.EqualFold(e.x.ID, v) && !e.x.IDs.has(v) {
			fresh = append(fresh, v)
		}
	}
	was := e.x.Started
	e.x.apply(ev)
	var filed int64
	for _, v := range fresh {
		if strings.EqualFold(e.x.ID, v) || e.x.IDs.has(v) { // not a second ConversationId
			m.index(ev.Exchange, v)
			filed += int64(len(v)) + indexEntryBytes
		}
	}
	if !ok || !e.x.Started.Equal(was) {
		m.place(ev.Exchange, e.x.Started, was, ok)
	}
	size := e.size + eventSize(ev) + filed
	if !ok {
		size += 256 // the exchange's own fields
	}
	m.bytes += size - e.size
	e.size = size
	m.evictOverSize()
	return nil
}

// ApplyAll implements Backend: an event of an exchange no longer kept is
// left out (ErrGone), the others are written.
func (m *Memory) ApplyAll(ctx context.Context, evs []Event) (left int, err error) {
	for _, ev := range evs {
		if err := m.Apply(ctx, ev); errors.Is(err, ErrGone) {
			left++
		} else if err != nil {
			return left, err
		}
	}
	return left, nil
}

// eventSize estimates what an event adds to its exchange's stored size
// (payloads, headers and ids, plus a fixed overhead per step), without
// encoding it: the writer must stay cheap.
func eventSize(ev Event) int64 {
	n := ev.IDs.size()
	if s := ev.Step; s != nil {
		n += 96 + len(s.Kind) + len(s.Title) + len(s.Interaction) + len(s.ContentType) + len(s.Body) + len(s.Note)
		for k, v := range s.Headers {
			n += len(k) + len(v) + 6
		}
	}
	if ev.Comparison != nil {
		n += 64 + len(ev.Comparison.Error)
		for _, d := range ev.Comparison.Differences {
			n += len(d) + 3
		}
	}
	return int64(n)
}

// indexEntryBytes is what an exchange's place in the index of one of its
// ids costs, besides the id (measured: about 400 bytes for an exchange
// with six ids, three its own, three shared with others), counted in its
// size so that MaxBytes bounds the index too.
const indexEntryBytes = 64

// index files exchange id under its id v (ids), unless it is filed there
// already. m.mu is held.
func (m *Memory) index(id, v string) {
	k := strings.ToLower(v)
	list := m.ids[k]
	if len(list) > 0 && list[len(list)-1] == id {
		return // the same id again, as another kind or in another case
	}
	m.ids[k] = append(list, id)
}

// unindex takes exchange id out of the index of each id it carries. The
// exchanges of an index are nearly oldest first, and the oldest go
// first: they are cut off the front of it, not moved down. m.mu is held.
func (m *Memory) unindex(id string, x *Exchange) {
	for _, v := range append(x.IDs.all(), x.ID) {
		k := strings.ToLower(v)
		list := m.ids[k]
		i := slices.Index(list, id)
		switch {
		case i < 0: // the same id again, taken out already
			continue
		case len(list) == 1:
			delete(m.ids, k)
			continue
		case i == 0:
			list[0] = ""
			list = list[1:]
		default:
			list = slices.Delete(list, i, i+1)
		}
		m.ids[k] = list
	}
}

// place puts id in order by its start, after any that started at the
// same time; moved says it is in order already, at start was (it
// changed). Both places are found by binary search: order is by start,
// then by when placed. m.mu is held.
func (m *Memory) place(id string, started, was time.Time, moved bool) {
	e := m.byID[id]
	if moved {
		if i := m.placeOf(id, was, e.placed); i >= 0 {
			m.order = slices.Delete(m.order, i, i+1)
		}
	}
	m.placed++
	e.placed = m.placed
	i := sort.Search(len(m.order), func(i int) bool { return m.started(i).After(started) })
	m.order = slices.Insert(m.order, i, id)
}

// placeOf returns where exchange id, placed at placed with start was, is
// in order; -1 when it is not. m.mu is held.
func (m *Memory) placeOf(id string, was time.Time, placed uint64) int {
	i := sort.Search(len(m.order), func(i int) bool {
		if m.order[i] == id {
			return true // its start is was, as it stands in order
		}
		e := m.byID[m.order[i]]
		if c := e.x.Started.Compare(was); c != 0 {
			return c > 0
		}
		return e.placed > placed
	})
	if i < len(m.order) && m.order[i] == id {
		return i
	}
	return slices.Index(m.order, id)
}

// evictOverSize drops the oldest exchanges while over MaxBytes; the
// newest is always kept. m.mu is held.
func (m *Memory) evictOverSize() {
	for m.bytes > m.ret.MaxBytes && len(m.order) > 1 {
		m.drop(m.order[0])
		m.order = m.order[1:]
	}
}

// drop forgets one exchange (not its place in order). m.mu is held.
func (m *Memory) drop(id string) {
	if e, ok := m.byID[id]; ok {
		m.bytes -= e.size
		m.unindex(id, &e.x)
		delete(m.byID, id)
		m.gone.add(id)
	}
}

// Get implements Backend.
func (m *Memory) Get(_ context.Context, id string) (*Exchange, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byID[id]
	if !ok {
		return nil, nil
	}
	x := e.x
	x.Steps = slices.Clone(e.x.Steps)
	return &x, nil
}

// searchChunk is how many exchanges a search of Memory looks at under
// its lock at a time: between them the writer gets in, however many a
// search looks at (TestMemoryLongReadsLetTheWriterIn).
const searchChunk = 1024

// Search implements Backend: the exchanges kept when it starts that
// started within q's time range (found by their place in order), newest
// first, looked at searchChunk at a time, each as it is then (one dropped
// meanwhile is left out); by an id carried by no more than searchChunk,
// those that carry it (found by the index of ids).
func (m *Memory) Search(_ context.Context, q Query) ([]Summary, error) {
	m.mu.Lock()
	if q.ID != "" {
		if list := m.ids[strings.ToLower(q.ID)]; len(list) <= searchChunk {
			defer m.mu.Unlock()
			m.work.held(len(list))
			return m.searchAmong(list, q), nil
		}
	}
	lo, hi := 0, len(m.order)
	if !q.To.IsZero() {
		hi = sort.Search(hi, func(i int) bool { return !m.started(i).Before(q.To) })
	}
	if !q.From.IsZero() {
		lo = sort.Search(hi, func(i int) bool { return !m.started(i).Before(q.From) })
	}
	order := slices.Clone(m.order[lo:hi])
	m.mu.Unlock()
	var out []Summary
	for end := len(order); end > 0 && len(out) < q.limit(); end -= searchChunk {
		m.mu.Lock()
		looked := 0
		for i := end - 1; i >= max(end-searchChunk, 0) && len(out) < q.limit(); i-- {
			looked++
			e, ok := m.byID[order[i]]
			if !ok {
				continue
			}
			s := e.x.Summary()
			if q.matches(&s) {
				out = append(out, s)
			}
		}
		m.work.held(looked)
		m.mu.Unlock()
	}
	return out, nil
}

// searchAmong returns the exchanges of ids that q selects, newest first
// as in order. m.mu is held.
func (m *Memory) searchAmong(ids []string, q Query) []Summary {
	var found []*memEntry
	for _, id := range ids {
		e, ok := m.byID[id]
		if !ok {
			continue
		}
		if s := e.x.Summary(); q.matches(&s) {
			found = append(found, e)
		}
	}
	slices.SortFunc(found, func(a, b *memEntry) int {
		if c := b.x.Started.Compare(a.x.Started); c != 0 {
			return c
		}
		return cmp.Compare(b.placed, a.placed)
	})
	out := make([]Summary, 0, min(len(found), q.limit()))
	for _, e := range found[:min(len(found), q.limit())] {
		out = append(out, e.x.Summary())
	}
	return out
}

// started returns when the exchange at place i of order started. m.mu is
// held.
func (m *Memory) started(i int) time.Time {
	if e, ok := m.byID[m.order[i]]; ok {
		return e.x.Started
	}
	return time.Time{}
}

// AddAccess implements Backend: past MaxAccesses the oldest goes, cut
// off the front of the list (not moved down: append copies the list only
// when it outgrows its array, about once every quarter of it).
func (m *Memory) AddAccess(_ context.Context, a Access) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accesses = append(m.accesses, a)
	if over := len(m.accesses) - m.ret.MaxAccesses; over > 0 {
		m.dropAccesses(over)
	}
	return nil
}

// dropAccesses forgets the oldest n accesses. m.mu is held.
func (m *Memory) dropAccesses(n int) {
	clear(m.accesses[:n])
	m.accesses = m.accesses[n:]
}

// Accesses implements Backend.
func (m *Memory) Accesses(_ context.Context, limit int) ([]Access, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Access
	for i := len(m.accesses) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.accesses[i])
	}
	return out, nil
}

// Prune implements Backend: exchanges that started before now-MaxAge go,
// and accesses as old. Both are kept oldest first, so it looks at those
// that go and one more, not at every one kept.
func (m *Memory) Prune(_ context.Context, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cutoff := now.Add(-m.ret.MaxAge)
	i := 0
	for i < len(m.order) {
		if e, ok := m.byID[m.order[i]]; ok && !e.x.Started.Before(cutoff) {
			break
		}
		m.drop(m.order[i])
		i++
	}
	m.work.held(min(i+1, len(m.order)))
	clear(m.order[:i])
	m.order = m.order[i:]
	i = 0
	for i < len(m.accesses) && m.accesses[i].At.Before(cutoff) {
		i++
	}
	m.dropAccesses(i)
	return nil
}

// Stats implements Backend.
func (m *Memory) Stats(context.Context) (Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Exchanges: len(m.byID), Bytes: m.bytes}, nil
}

// maxTombstones bounds how many dropped exchanges a backend remembers
// (each by its id alone), so that a late event of one is not written as a
// fragment of it (ErrGone); the oldest are forgotten first.
const maxTombstones = 100000

// tombstones remember the ids of the exchanges dropped last, oldest first.
type tombstones struct {
	ids   map[string]struct{}
	order []string
}

// add remembers id, forgetting the oldest past maxTombstones.
func (t *tombstones) add(id string) {
	if t.ids == nil {
		t.ids = map[string]struct{}{}
	}
	if _, ok := t.ids[id]; ok {
		return
	}
	t.ids[id] = struct{}{}
	t.order = append(t.order, id)
	if len(t.order) > maxTombstones {
		delete(t.ids, t.order[0])
		t.order[0] = ""
		t.order = t.order[1:]
	}
}

// has reports whether id was dropped (and is still remembered).
func (t *tombstones) has(id string) bool {
	_, ok := t.ids[id]
	return ok
}
