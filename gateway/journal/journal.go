package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/internal/stopqueue"
)

// Backend keeps exchanges and accesses.
type Backend interface {
	// Apply merges ev into its exchange (making it when new).
	Apply(ctx context.Context, ev Event) error
	// ApplyAll merges events in order, as Apply each would, in as few
	// round trips as the backend can. It returns how many of them it left
	// out, unwritten, because their exchange is no longer kept (ErrGone:
	// Apply would have refused each). An error wrapping ErrOverCap (from
	// it or Apply) says the events were written all the same; a
	// *PartialWriteError that some were written before it failed (left
	// then counts those left out among them).
	ApplyAll(ctx context.Context, evs []Event) (left int, err error)
	// Get returns one exchange; nil, nil when it is not kept.
	Get(ctx context.Context, id string) (*Exchange, error)
	// Search returns the exchanges q selects, newest first.
	Search(ctx context.Context, q Query) ([]Summary, error)
	// AddAccess records an access.
	AddAccess(ctx context.Context, a Access) error
	// Accesses returns up to limit accesses, newest first.
	Accesses(ctx context.Context, limit int) ([]Access, error)
	// Prune drops what the retention no longer allows at now.
	Prune(ctx context.Context, now time.Time) error
	// Stats reports how many exchanges are kept and their total size.
	Stats(ctx context.Context) (Stats, error)
	// Kind names the backend ("memory" or "redis").
	Kind() string
}

// ErrGone says an event was not written because its exchange is no
// longer kept (the retention dropped it) and the event does not record its
// request: written, it would make a fragment of the exchange, with no
// request, listed as a new one.
var ErrGone = errors.New("the exchange is no longer kept (past the journal's retention)")

// ErrOverCap says events were written but the oldest exchanges past the
// size cap could not be dropped after them: the write is not lost, and
// the next write drops them.
var ErrOverCap = errors.New("the events were written, but the oldest exchanges past the size cap could not be dropped")

// PartialWriteError says a backend wrote some of a batch's events before
// it failed (the Redis journal writes a batch in bounded runs).
type PartialWriteError struct {
	// Written counts the events written (not those left out, ErrGone).
	Written int
	// Err is the failure.
	Err error
}

// Error implements error.
func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("%d events written, the rest not: %v", e.Written, e.Err)
}

// Unwrap returns the failure.
func (e *PartialWriteError) Unwrap() error { return e.Err }

// ErrSearchCut says a search stopped at the exchanges it may look at
// before it found as many as it was asked for: more may match among
// those it did not look at. What it found comes with it.
var ErrSearchCut = errors.New("the search looked at as many exchanges as it may and found fewer than asked; narrow it (a time range, another id)")

// Stats describe what a backend holds.
type Stats struct {
	// Exchanges is how many exchanges are kept.
	Exchanges int `json:"exchanges"`
	// Bytes is their total size as stored.
	Bytes int64 `json:"bytes"`
}

// Options configure a Journal.
type Options struct {
	// Queue is how many events may wait for the writer (default 4096);
	// beyond it events are dropped and counted.
	Queue int
	// QueueBytes bounds what the events waiting for the writer, and those
	// of the write in hand, carry (eventSize: payloads, headers, ids;
	// default DefaultQueueBytes); beyond it events are dropped and counted
	// as a full queue's are. One event alone is always taken.
	QueueBytes int64
	// PruneEvery is how often the writer applies the retention (default 30s).
	PruneEvery time.Duration
	// BatchWait is how long the writer, having taken an event, waits for
	// more to write with it (default 10ms; negative: not at all). A message
	// makes about five events within milliseconds: written one by one, each
	// cost the backend its own transaction (three round trips to Redis),
	// more than the message's own store work.
	BatchWait time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives write failures (rate-limited to one line per outage).
	Log *slog.Logger
	// Registry, when set, gets the journal's counters.
	Registry *prometheus.Registry
	// RequestBody, when set, gives the body of the call whose request
	// carries a context (upstream.RequestBody): the tap (Tap) keeps it as
	// it is, bytes its caller never writes, instead of reading a copy of
	// it through the request's GetBody (nil: read, as for any call).
	RequestBody func(context.Context) []byte
}

// Journal records events off the hot path into a Backend.
type Journal struct {
	b       Backend
	opts    Options
	queue   *stopqueue.Queue[item]
	dropped atomic.Uint64
	pending atomic.Int64
	// held is what the pending events carry (Options.QueueBytes).
	held    atomic.Int64
	failing atomic.Bool
	// overCap is set while writes leave the journal over its size cap
	// (ErrOverCap), so that it is logged once an episode.
	overCap atomic.Bool
	metrics struct {
		recorded prometheus.Counter
		dropped  *prometheus.CounterVec
	}
	done chan struct{}
}

// Why the journal did not write an event: the reason label of
// porxgate_journal_dropped_total.
const (
	// DropQueueFull: the writer's queue was full.
	DropQueueFull = "queue_full"
	// DropStopped: the writer had stopped.
	DropStopped = "stopped"
	// DropWriteFailed: the backend failed the write.
	DropWriteFailed = "write_failed"
	// DropGone: the event's exchange is no longer kept (the retention
	// dropped it) and the event does not record its request (ErrGone).
	DropGone = "gone"
)

// item is what waits on the queue: an event or an access, and what it
// carries (eventSize; 0 for an access).
type item struct {
	ev     *Event
	access *Access
	size   int64
}

// DefaultQueueBytes is Options.QueueBytes's default: the writer's queue
// was bounded by its count of events alone, and with Redis hung (the
// writer waiting on its write) 200 events of 1 MiB were all held, where
// 4096 of the front door's 4 MiB requests would have held 16 GiB under a
// soft memory limit of 100 MiB (TestQueueIsBoundedInBytes). Messages of
// ordinary size (tens of KB an event) meet the count's bound first.
const DefaultQueueBytes = 32 << 20

// New returns a Journal over b. Call Run to start its writer.
func New(b Backend, opts Options) *Journal {
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = 30 * time.Second
	}
	if opts.BatchWait == 0 {
		opts.BatchWait = 10 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	j := &Journal{b: b, opts: opts, queue: stopqueue.New[item](opts.Queue), done: make(chan struct{})}
	j.metrics.recorded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porxgate_journal_recorded_total", Help: "Journal events written."})
	j.metrics.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porxgate_journal_dropped_total", Help: "Journal events not written, by reason: queue_full (the writer's queue was full), stopped (the writer had stopped), write_failed (the backend failed), gone (the exchange is no longer kept and the event does not record its request)."},
		[]string{"reason"})
	for _, r := range []string{DropQueueFull, DropStopped, DropWriteFailed, DropGone} {
		j.metrics.dropped.WithLabelValues(r)
	}
	if opts.Registry != nil {
		j.metrics.recorded = registerOrExisting(opts.Registry, j.metrics.recorded)
		j.metrics.dropped = registerOrExisting(opts.Registry, j.metrics.dropped)
	}
	return j
}

// registerOrExisting registers c on reg, or returns the collector of its
// kind already there.
func registerOrExisting[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// Backend returns the backend, for reading.
func (j *Journal) Backend() Backend { return j.b }

// Record queues ev for the writer; it never waits. A nil Journal records
// nothing.
func (j *Journal) Record(ev Event) {
	if j == nil || ev.Exchange == "" {
		return
	}
	if ev.At.IsZero() {
		ev.At = j.opts.Now()
	}
	j.put(item{ev: &ev, size: eventSize(ev)})
}

// RecordAccess queues an access entry; it never waits. An access that
// cannot be queued or written is logged instead (accessLost).
func (j *Journal) RecordAccess(a Access) {
	if j == nil {
		return
	}
	if a.At.IsZero() {
		a.At = j.opts.Now()
	}
	if !j.put(item{access: &a}) {
		j.accessLost(a, "the journal's queue is full or its writer has stopped")
	}
}

// put queues it, or counts it dropped when the queue is full (of
// events, or of what they carry: Options.QueueBytes) or the writer has
// stopped; it says whether it was queued.
func (j *Journal) put(it item) bool {
	j.pending.Add(1)
	if held := j.held.Add(it.size); held > j.opts.QueueBytes && held > it.size {
		j.release(1, it.size)
		j.drop(1, DropQueueFull)
		return false
	}
	switch j.queue.Put(it) {
	case stopqueue.Queued:
		return true
	case stopqueue.Full:
		j.drop(1, DropQueueFull)
	default:
		j.drop(1, DropStopped)
	}
	j.release(1, it.size)
	return false
}

// release counts n items, carrying size, no longer pending: written,
// dropped or not queued.
func (j *Journal) release(n int, size int64) {
	j.held.Add(-size)
	j.pending.Add(-int64(n))
}

// accessLost logs an access the access journal could not keep, as the
// admin listener logs each access with the journal off: every look at
// patient data leaves a record. The path goes without its query (a
// search may hold an NHS number), which a log line must not carry.
func (j *Journal) accessLost(a Access, why string) {
	path, _, _ := strings.Cut(a.What, "?")
	j.opts.Log.Warn("journal: access not recorded in the access journal, logged here instead", "why", why,
		"at", a.At, "door", a.Door, "who", a.Who, "role", a.Role, "method", a.Method, "path", path,
		"status", a.Status, "remote", a.Remote)
}

// drop counts n items dropped for reason; all but DropGone (left out by
// design, the exchange being no longer kept) are losses (Dropped).
func (j *Journal) drop(n int, reason string) {
	if reason != DropGone {
		j.dropped.Add(uint64(n))
	}
	j.metrics.dropped.WithLabelValues(reason).Add(float64(n))
}

// RecordNow writes ev at once, bypassing the queue, and says whether it
// was written: for what must not be lost (an answer kept for its party
// instead of being dead-lettered). It waits for the backend, so it is for
// workers, never for a request's path.
func (j *Journal) RecordNow(ctx context.Context, ev Event) error {
	if j == nil {
		return errors.New("journal: off")
	}
	if ev.At.IsZero() {
		ev.At = j.opts.Now()
	}
	enrich(&ev)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := j.overCapped(j.b.Apply(wctx, ev)); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.metrics.recorded.Inc()
	return nil
}

// overCapped returns err, or nil when it says the write was done but the
// size cap not applied after it (ErrOverCap), which it logs, once until a
// write applies it again.
func (j *Journal) overCapped(err error) error {
	if errors.Is(err, ErrOverCap) {
		if !j.overCap.Swap(true) {
			j.opts.Log.Warn("journal: written, but the size cap could not be applied; the next write tries again", "err", err)
		}
		return nil
	}
	if err == nil && j.overCap.Swap(false) {
		j.opts.Log.Info("journal: the size cap is applied again")
	}
	return err
}

// Dropped returns how many events were lost since start: not written
// because the queue was full, the writer had stopped or the backend
// failed (not the late events of exchanges no longer kept, DropGone).
func (j *Journal) Dropped() uint64 {
	if j == nil {
		return 0
	}
	return j.dropped.Load()
}

// Pending returns how many events wait to be written.
func (j *Journal) Pending() int64 { return j.pending.Load() }

// DrainTimeout bounds how long the writer goes on writing after Run's
// context ends: the write in hand and what is still queued (a Redis read
// in hand when it runs out still ends at the client's read timeout).
const DrainTimeout = 2 * time.Second

// Run writes queued events until ctx is done; then it writes what is still
// queued, for at most DrainTimeout, and returns. Writes are not cut short
// by the stop itself, only by that bound: what is recorded before Run
// returns is written or counted dropped (and logged), and what is recorded
// after it is counted dropped. Every PruneEvery it starts a pass of the
// retention (Prune) beside the writes, unless the last is still running:
// a long pass (a backlog past the age) must not stop the writing. Run
// returns when that pass has (ctx ends it).
func (j *Journal) Run(ctx context.Context) {
	defer close(j.done)
	idle := make(chan struct{}, 1) // holds a token while no pass runs
	idle <- struct{}{}
	defer func() { <-idle }()
	wctx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopBound := context.AfterFunc(ctx, func() { time.AfterFunc(DrainTimeout, cancelWrites) })
	defer stopBound()
	tick := time.NewTicker(j.opts.PruneEvery)
	defer tick.Stop()
	for {
		select {
		case it := <-j.queue.C():
			j.writeBatch(wctx, j.batch(it))
		case <-tick.C:
			select {
			case <-idle:
				go j.prune(ctx, idle)
			default: // the last pass still runs
			}
		case <-ctx.Done():
			// wctx ends DrainTimeout after ctx (stopBound); then the
			// backend refuses further writes (the Redis client checks the
			// context before each command and retry), and a read in hand
			// ends at the client's read timeout.
			j.drain(wctx)
			return
		}
	}
}

// prune runs a pass of the retention, then puts back the token it took
// from idle.
func (j *Journal) prune(ctx context.Context, idle chan<- struct{}) {
	defer func() { idle <- struct{}{} }()
	if err := j.b.Prune(ctx, j.opts.Now()); err != nil && ctx.Err() == nil {
		j.opts.Log.Warn("journal: retention could not be applied", "err", err)
	}
}

// drain closes the journal to new items and writes what is queued, a
// batch at a time, with ctx (bounded by Run); it logs what was lost.
func (j *Journal) drain(ctx context.Context) {
	before := j.dropped.Load()
	for left := j.queue.Close(); len(left) > 0; {
		n := min(len(left), maxBatch)
		j.writeBatch(ctx, left[:n])
		left = left[n:]
	}
	if lost := j.dropped.Load() - before; lost > 0 {
		j.opts.Log.Warn("journal: stopped with events not written", "dropped", lost)
	}
}

// maxBatch bounds how many queued items the writer takes at once.
const maxBatch = 512

// batch returns first and what else is queued within BatchWait, up to
// maxBatch.
func (j *Journal) batch(first item) []item {
	items := []item{first}
	var wait <-chan time.Time
	if j.opts.BatchWait > 0 {
		t := time.NewTimer(j.opts.BatchWait)
		defer t.Stop()
		wait = t.C
	}
	for len(items) < maxBatch {
		select {
		case it := <-j.queue.C():
			items = append(items, it)
			continue
		default:
		}
		if wait == nil {
			return items
		}
		select {
		case it := <-j.queue.C():
			items = append(items, it)
		case <-wait:
			return items
		}
	}
	return items
}

// writeBatch writes queued items: the events in one ApplyAll, the accesses
// one by one; a failure counts every item it loses as dropped.
func (j *Journal) writeBatch(ctx context.Context, items []item) {
	evs := make([]Event, 0, len(items)) // grown by appends, a batch of 512 made nine arrays
	var held int64
	for _, it := range items {
		if it.ev == nil {
			j.write(ctx, it)
			continue
		}
		enrich(it.ev)
		evs = append(evs, *it.ev)
		held += it.size
	}
	if len(evs) == 0 {
		return
	}
	defer j.release(len(evs), held)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	left, err := j.b.ApplyAll(wctx, evs)
	err = j.overCapped(err)
	if left > 0 {
		j.drop(left, DropGone)
	}
	if pw := (*PartialWriteError)(nil); errors.As(err, &pw) {
		j.metrics.recorded.Add(float64(pw.Written))
		left += pw.Written
	}
	j.outcome(err, len(evs)-left)
}

// outcome counts n items written, or dropped on err.
func (j *Journal) outcome(err error, n int) {
	if err != nil {
		j.drop(n, DropWriteFailed)
		if !j.failing.Swap(true) {
			j.opts.Log.Warn("journal: write failed; events are dropped until it recovers", "err", err)
		}
		return
	}
	if j.failing.Swap(false) {
		j.opts.Log.Info("journal: writing again")
	}
	j.metrics.recorded.Add(float64(n))
}

// write applies one queued item; a failure counts as a drop.
func (j *Journal) write(ctx context.Context, it item) {
	defer j.release(1, it.size)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	if it.ev != nil {
		enrich(it.ev)
		err = j.overCapped(j.b.Apply(wctx, *it.ev))
	} else {
		err = j.b.AddAccess(wctx, *it.access)
		if err != nil {
			j.accessLost(*it.access, err.Error())
		}
	}
	j.outcome(err, 1)
}

// Wait returns when every event recorded so far is written, or ctx is done.
func (j *Journal) Wait(ctx context.Context) error {
	for j.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("journal: %d events still pending: %w", j.pending.Load(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// enrich reads ids, signature and outcome out of a v3 step's payload. A
// delivery that carries its answer (one kept for its party, or an answer
// the journal sees only as it is delivered) is read as a v3 answer is.
func enrich(ev *Event) {
	s := ev.Step
	if s == nil || s.Body == "" {
		return
	}
	switch s.Kind {
	case StepLegacyRequest, StepV3Answer, StepShadow, StepDelivery:
	default:
		return
	}
	f := readV3(s.Body)
	if s.Interaction == "" {
		s.Interaction = f.interaction
	}
	ev.IDs.merge(f.ids)
	if (s.Kind == StepV3Answer || s.Kind == StepDelivery) && f.outcome != nil {
		if ev.Outcome == nil {
			ev.Outcome = f.outcome
		}
		ev.AnswerOutcome = f.outcome
	}
	if s.Kind == StepLegacyRequest && f.signature != nil && f.signature.Digest != "" {
		ev.Signature = f.signature
	}
}
