package outbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// Loop runs n goroutines that call step until ctx is done. A goroutine
// whose step found no work (false) waits until a value on wake or the next
// tick of one poll ticker shared by all n: each tick wakes one idle
// goroutine, not every one, so an idle pool looks at the store once a
// poll, however many goroutines it has. When ctx is done no new step
// starts; steps in hand keep a working context for at most grace longer,
// then it is cancelled. Loop returns when every goroutine has. The
// gateway's inbox and delivery workers run it through a Handoff
// (Handoff.Loop), which also hands them work claimed for them.
func Loop(ctx context.Context, n int, poll time.Duration, wake <-chan struct{}, grace time.Duration, step func(ctx context.Context) bool) {
	loop(ctx, n, poll, wake, grace, step, nil)
}

// Handoff passes work claimed elsewhere in the process (a store item
// queued already claimed, store.Item.Token) straight to an idle goroutine
// of a pool run by its Loop, instead of waking the pool to claim it from
// the store: one round trip to the store fewer per item, and no wait for a
// wake. Only idle goroutines take handed work, so a pool that is busy (or
// not running) takes none and work goes through the store as before.
type Handoff struct {
	ch    chan handed
	avail atomic.Int64 // idle goroutines not reserved
	run   func(ctx context.Context, l *store.Lease, decoded any)
}

// handed is work handed over: a lease, and what its data decodes to when
// the giver had it (nil: the goroutine decodes l.Data).
type handed struct {
	l       *store.Lease
	decoded any
}

// NewHandoff returns a Handoff for a pool of n goroutines, which run work
// handed to them with run: decoded is what the giver passed to
// GiveDecoded, nil after Give.
func NewHandoff(n int, run func(ctx context.Context, l *store.Lease, decoded any)) *Handoff {
	return &Handoff{ch: make(chan handed, max(n, 1)), run: run}
}

// Reserve reserves an idle goroutine of the pool, if there is one. After
// true the caller must call Give exactly once, soon: the goroutine waits
// for it.
func (h *Handoff) Reserve() bool {
	if h == nil {
		return false
	}
	for {
		n := h.avail.Load()
		if n <= 0 {
			return false
		}
		if h.avail.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// Idle reports how many goroutines of the pool are idle and not reserved.
func (h *Handoff) Idle() int { return int(h.avail.Load()) }

// Give hands the goroutine reserved its work; nil gives the reservation
// back (the goroutine waits again, or looks at the store if it was woken
// meanwhile).
func (h *Handoff) Give(l *store.Lease) { h.ch <- handed{l: l} }

// GiveDecoded is Give for a giver that holds what l.Data decodes to
// (decoded, as the pool's run reads it): the goroutine runs it without
// decoding l.Data again, which it would only do to get the value the
// giver encoded it from.
func (h *Handoff) GiveDecoded(l *store.Lease, decoded any) { h.ch <- handed{l: l, decoded: decoded} }

// Loop runs the pool as Loop does, its idle goroutines also taking work
// handed over (Reserve, Give).
func (h *Handoff) Loop(ctx context.Context, n int, poll time.Duration, wake <-chan struct{}, grace time.Duration, step func(ctx context.Context) bool) {
	loop(ctx, n, poll, wake, grace, step, h)
}

// idle waits as a goroutine without work does and runs work handed over
// meanwhile (h may be nil). It reports whether to look at the store next:
// yes when woken (a wake, a tick, the end); after work handed over or a
// reservation given back, no: the goroutine waits again, as after a step
// that found nothing more due (more work queued meanwhile sent a wake). A
// goroutine woken while reserved runs what it is given, then looks.
func (h *Handoff) idle(ctx, work context.Context, wake <-chan struct{}, tick <-chan time.Time) (look bool) {
	if h == nil {
		select {
		case <-ctx.Done():
		case <-wake:
		case <-tick:
		}
		return true
	}
	h.avail.Add(1)
	select {
	case w := <-h.ch:
		h.take(work, w)
		return false
	case <-ctx.Done():
	case <-wake:
	case <-tick:
	}
	// Leaving for another reason: out of the idle count, unless every
	// idle goroutine is reserved; then this one takes what is given.
	for {
		n := h.avail.Load()
		if n <= 0 {
			h.take(work, <-h.ch)
			return true
		}
		if h.avail.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// take runs work handed over; a nil lease (a reservation given back) is
// none.
func (h *Handoff) take(work context.Context, w handed) {
	if w.l != nil {
		h.run(work, w.l, w.decoded)
	}
}

// loop is Loop, with handed-over work when h is not nil.
func loop(ctx context.Context, n int, poll time.Duration, wake <-chan struct{}, grace time.Duration, step func(ctx context.Context) bool, h *Handoff) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	tick := time.NewTicker(max(poll, time.Millisecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			look := true
			for ctx.Err() == nil {
				if look && step(work) {
					continue
				}
				look = h.idle(ctx, work, wake, tick.C)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	<-ctx.Done()
	g := time.NewTimer(grace)
	defer g.Stop()
	select {
	case <-done:
	case <-g.C:
		cancelWork()
		<-done
	}
}

// Leaser is the part of the store that leases hold on to.
type Leaser interface {
	// Extend moves the end of a held lease.
	Extend(ctx context.Context, l *store.Lease, until time.Time) error
}

// Hold keeps a lease alive while its holder works: every third of the
// lease duration it extends the lease by one lease duration from now. An
// extension that fails for a moment (the store unreachable) is tried again
// at the next tick, within the lease still held; holding stops only when
// the lease is lost (store.ErrLeaseLost: someone else has the item). The
// returned stop function ends the holding and waits for it to end.
//
// Every message is held while it is processed and while it is delivered,
// and almost all are done long before a third of the lease (10 s) has
// passed: holding costs one timer, and a goroutine (the timer's) only
// when an extension is due. Before, each holding started a goroutine with
// a ticker and a context of its own: about 5 µs and 9 allocations per
// holding, two holdings per message.
func Hold(ctx context.Context, s Leaser, l *store.Lease, lease time.Duration, now func() time.Time) (stop func()) {
	h := &holding{ctx: ctx, s: s, l: *l, lease: lease, now: now, every: max(lease/3, time.Millisecond)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.t = time.AfterFunc(h.every, h.extend)
	return h.stop
}

// holding is one Hold: its timer's function extends the lease and sets
// the timer again.
type holding struct {
	ctx   context.Context
	s     Leaser
	l     store.Lease // Extend writes Until; the holder's copy stays untouched
	lease time.Duration
	now   func() time.Time
	every time.Duration

	mu      sync.Mutex
	t       *time.Timer
	stopped bool
	// cancel ends the extension in hand, whose end closes done; both nil
	// when none is.
	cancel context.CancelFunc
	done   chan struct{}
}

// extend extends the lease, and unless it is lost, the holding stopped or
// its context done, sets the timer for the next extension a third of the
// lease after this one began (at once when this one took longer).
func (h *holding) extend() {
	h.mu.Lock()
	if h.stopped || h.ctx.Err() != nil {
		h.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	h.cancel, h.done = cancel, done
	h.mu.Unlock()

	began := time.Now()
	err := h.s.Extend(ctx, &h.l, h.now().Add(h.lease))
	cancel()
	close(done)

	h.mu.Lock()
	defer h.mu.Unlock()
	h.cancel, h.done = nil, nil
	if h.stopped || h.ctx.Err() != nil || errors.Is(err, store.ErrLeaseLost) {
		return // a lost lease: the holder's Complete or Retry will say so
	}
	h.t.Reset(max(h.every-time.Since(began), 0))
}

// stop ends the holding: no extension starts after it, and one in hand
// is cancelled and waited for.
func (h *holding) stop() {
	h.mu.Lock()
	h.stopped = true
	h.t.Stop()
	cancel, done := h.cancel, h.done
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// FailureLog logs a queue's claim failures once per outage rather than
// once per poll: a warning when claims start failing, a note when they
// work again. The zero value is ready to use.
type FailureLog struct{ failing atomic.Bool }

// Failed records a failed claim, logging it if it starts an outage.
func (f *FailureLog) Failed(log *slog.Logger, queue string, err error) {
	if !f.failing.Swap(true) {
		log.Warn("cannot claim work from the store; retrying at each poll", "queue", queue, "err", err)
	}
}

// Succeeded records a working claim, logging the end of an outage.
func (f *FailureLog) Succeeded(log *slog.Logger, queue string) {
	if f.failing.Swap(false) {
		log.Info("claiming work from the store again", "queue", queue)
	}
}
