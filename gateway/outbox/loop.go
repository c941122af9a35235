package outbox

import (
	"context"
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
// gateway's inbox workers use it too.
func Loop(ctx context.Context, n int, poll time.Duration, wake <-chan struct{}, grace time.Duration, step func(ctx context.Context) bool) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	tick := time.NewTicker(max(poll, time.Millisecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if step(work) {
					continue
				}
				select {
				case <-ctx.Done():
				case <-wake:
				case <-tick.C:
				}
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
// lease duration it extends the lease by one lease duration from now. The
// returned stop function ends the holding and waits for it to end.
func Hold(ctx context.Context, s Leaser, l *store.Lease, lease time.Duration, now func() time.Time) (stop func()) {
	hctx, cancel := context.WithCancel(ctx)
	cp := *l // Extend writes Until; keep the holder's copy untouched
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := s.Extend(hctx, &cp, now().Add(lease)); err != nil {
					return // lost or unreachable: the holder's Complete/Retry will say so
				}
			}
		}
	}()
	return func() { cancel(); <-done }
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
