package gateway

import (
	"context"
	"fmt"
	"strings"
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
// another holder up to releaseHoldWait, and returns how to give it up. It
// is renewed until then. Without holds (or a dispenser) it holds nothing.
func (p *EPSProcessor) holdDispenser(ctx context.Context, ods string) (func(), error) {
	if p.holds == nil || ods == "" {
		return func() {}, nil
	}
	key, token := releaseHoldKey(ods), ids.NewUUID()
	wait := time.NewTimer(releaseHoldWait)
	defer wait.Stop()
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
		ok, err := p.holds.HoldKey(ctx, key, token, releaseHoldTTL)
		if err != nil {
			return nil, fmt.Errorf("release hold of %s: %w", ods, err)
		}
		if ok {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-wait.C:
			t.Stop()
			return nil, fmt.Errorf("another release of dispenser %s still in progress after %s", ods, releaseHoldWait)
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for another release of dispenser %s: %w", ods, ctx.Err())
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(releaseHoldTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if ok, err := p.holds.HoldKey(context.WithoutCancel(ctx), key, token, releaseHoldTTL); err != nil || !ok {
					p.log.Warn("the release hold of a dispenser could not be renewed; another release of it may run meanwhile", "dispenser", ods, "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.holds.DropHold(dctx, key, token); err != nil {
			p.log.Warn("the release hold of a dispenser could not be given up; its next release waits for it to run out", "dispenser", ods, "err", err)
		}
	}, nil
}
