package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/ids"
)

// One release of a dispenser at a time. A release recovery delivers the
// indexed prescriptions EPS shows with the dispenser since the lost
// attempt; another release of the same dispenser running meanwhile may
// have been answered with one of them and not yet taken it off the index
// (between EPS's answer and forgetDelivered), and both delivered it. So
// each release with an owner holds its dispenser (a store hold, renewed
// while it runs) from before it asks EPS until what it delivers is off the
// index; another waits for it, up to releaseHoldWait, and otherwise waits
// in the inbox to be tried again. A gateway that dies holding it leaves
// the hold to run out (releaseHoldTTL); what its release did not take off
// the index stays there, recoverable.

// ReleaseHolds is the store's hold on a name (store.Memory and store.Redis
// satisfy it).
type ReleaseHolds = store.Holds

const (
	// releaseHoldTTL is how long a dispenser's hold lasts unless renewed;
	// its holder renews it every third of that.
	releaseHoldTTL = 30 * time.Second
	// releaseHoldWait bounds how long a release waits for another release
	// of its dispenser.
	releaseHoldWait = 10 * time.Second
)

// releaseHoldKey names a dispenser's hold.
func releaseHoldKey(ods string) string { return "release:" + strings.ToUpper(ods) }

// holdDispenser takes the release hold of the dispenser ods, waiting for
// another holder up to releaseHoldWait, and returns it, renewed until it
// is dropped. Without holds (or a dispenser) it holds nothing (nil: held
// throughout).
func (p *EPSProcessor) holdDispenser(ctx context.Context, ods string) (*releaseHold, error) {
	if p.holds == nil || ods == "" {
		return nil, nil
	}
	ttl := p.holdTTL
	if ttl <= 0 {
		ttl = releaseHoldTTL
	}
	h := &releaseHold{p: p, base: context.WithoutCancel(ctx), ods: ods, key: releaseHoldKey(ods), token: ids.NewUUID(), ttl: ttl}
	if err := h.take(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// releaseHold is a dispenser's release hold as its holder has it. The
// holder knows it has the hold only until the last renewal the store
// confirmed was sent, plus the hold's ttl: once that passes (the store
// unreachable, or too slow, for that long) or a renewal finds another
// holder, the hold is lost, for good — another release of the dispenser
// may have taken it meanwhile — and is no longer renewed (a renewal then
// could take it back from under another's release). A release whose hold
// is lost asks EPS nothing more under it (release_recovery.go).
type releaseHold struct {
	p *EPSProcessor
	// base is the holder's context, without its cancellation: the
	// renewals and the drop outlive a cancelled processing.
	base             context.Context
	ods, key, token  string
	ttl              time.Duration
	mu               sync.Mutex
	until            time.Time // the hold is this holder's until then
	lost             bool
	stopRenew, ended chan struct{}
	// lostCh is closed once the hold taken last is lost (lostSignal).
	lostCh chan struct{}
}

// take takes the hold, waiting for another holder up to releaseHoldWait,
// and renews it until drop.
func (h *releaseHold) take(ctx context.Context) error {
	wait := time.NewTimer(releaseHoldWait)
	defer wait.Stop()
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
		sent := time.Now()
		ok, err := h.p.holds.HoldKey(ctx, h.key, h.token, h.ttl)
		if err != nil {
			return fmt.Errorf("release hold of %s: %w", h.ods, err)
		}
		if ok {
			h.mu.Lock()
			if h.lostCh == nil || h.lost {
				h.lostCh = make(chan struct{})
			}
			h.until, h.lost = sent.Add(h.ttl), false
			h.mu.Unlock()
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-wait.C:
			t.Stop()
			return fmt.Errorf("another release of dispenser %s still in progress after %s", h.ods, releaseHoldWait)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for another release of dispenser %s: %w", h.ods, ctx.Err())
		}
	}
	h.stopRenew, h.ended = make(chan struct{}), make(chan struct{})
	go h.renew(h.stopRenew, h.ended)
	return nil
}

// renew renews the hold every third of its ttl until stop, or until it
// is lost, and then closes ended.
func (h *releaseHold) renew(stop <-chan struct{}, ended chan<- struct{}) {
	defer close(ended)
	tick := time.NewTicker(h.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if !h.held() {
			return
		}
		sent := time.Now()
		rctx, cancel := context.WithTimeout(h.base, h.ttl/3)
		ok, err := h.p.holds.HoldKey(rctx, h.key, h.token, h.ttl)
		cancel()
		switch {
		case err != nil:
			h.p.log.Warn("the release hold of a dispenser could not be renewed; it is lost unless a renewal succeeds before it runs out", "dispenser", h.ods, "err", err)
		case !ok:
			h.loseHold("another release of the dispenser has taken it")
			return
		default:
			h.mu.Lock()
			if !h.lost {
				h.until = sent.Add(h.ttl)
			}
			h.mu.Unlock()
		}
	}
}

// held reports whether the holder still certainly has the hold (always,
// for no hold).
func (h *releaseHold) held() bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	lapsed := !h.lost && !time.Now().Before(h.until)
	h.mu.Unlock()
	if lapsed {
		h.loseHold("no renewal was confirmed before it ran out")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lost
}

// lostSignal returns a channel closed once the hold, as taken last, is
// lost (seen by held, which its renewals call every third of its ttl);
// nil, never closed, for no hold. An EPS call under the hold starts no
// attempt once it is closed (upstream.StopRetriesOn).
func (h *releaseHold) lostSignal() <-chan struct{} {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lostCh
}

// loseHold marks the hold lost, saying so once.
func (h *releaseHold) loseHold(why string) {
	h.mu.Lock()
	was := h.lost
	h.lost = true
	if !was && h.lostCh != nil {
		close(h.lostCh)
	}
	h.mu.Unlock()
	if !was {
		h.p.log.Warn("the release hold of a dispenser is lost: another release of it may run meanwhile; this release asks EPS nothing more under it",
			"dispenser", h.ods, "why", why, "ttl", h.ttl)
	}
}

// retake stops the renewals and takes the hold again, waiting for
// another holder as take does. What happened while it was lost is not
// undone: the caller re-reads what it relies on.
func (h *releaseHold) retake(ctx context.Context) error {
	h.stopRenewing()
	return h.take(ctx)
}

// stopRenewing stops the renewals, if running.
func (h *releaseHold) stopRenewing() {
	if h.stopRenew != nil {
		close(h.stopRenew)
		<-h.ended
		h.stopRenew = nil
	}
}

// drop gives the hold up (nothing when nil).
func (h *releaseHold) drop() {
	if h == nil {
		return
	}
	h.stopRenewing()
	dctx, cancel := context.WithTimeout(h.base, 5*time.Second)
	defer cancel()
	if err := h.p.holds.DropHold(dctx, h.key, h.token); err != nil {
		h.p.log.Warn("the release hold of a dispenser could not be given up; its next release waits for it to run out", "dispenser", h.ods, "err", err)
	}
}
