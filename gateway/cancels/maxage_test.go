package cancels

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestDefaultMaxAgeOutlastsSpine: with the default settings a pending
// cancellation is tracked as long as Spine may still resolve it and send
// the Subsequent Cancel Response: an item with the dispenser stays so
// until the prescription expires (6 months after it was written, 12 for
// repeat dispensing: eps-spine-shared common.py
// PRESCRIPTION_EXPIRY_PERIOD_MONTHS, REPEAT_DISP_EXPIRY_PERIOD_MONTHS; a
// "with dispenser - active" issue expires after
// WD_ACTIVE_EXPIRY_PERIOD_DAYS, 180), and a cancellation that came before
// its prescription is kept 180 days (CANCELLED_DELETE_PERIOD). An item
// still with the dispenser on the poller's every look for each of those
// periods, then settled (returned, cancelled), is answered (0001), not
// given up and reported expired with the prescriber told nothing.
func TestDefaultMaxAgeOutlastsSpine(t *testing.T) {
	srv := redistest.Start(t)
	item := strings.ToLower(rxLineItem)
	withDispenser := cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0002", "FCG71", "", map[string]string{item: "0008"}))
	cancelled := cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0005", "", "", map[string]string{item: "0005"}))
	for _, tc := range []struct {
		name  string
		after time.Duration // pending for this long, then settled
	}{
		{"five weeks (owing stock)", 35 * 24 * time.Hour},
		{"six months (an acute prescription's life)", 184 * 24 * time.Hour},
		{"a year (a repeat dispensing prescription's life)", 366 * 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := DefaultConfig()
			cfg.Rate = 1000
			api := &cannedTracker{status: 200, body: withDispenser}
			r := newPollerRigOn(t, api, cfg, func(o Options, _ func() time.Time) Tracker {
				return NewRedis(newClient(t, srv), fmt.Sprintf("maxage:%s:", t.Name()), o)
			})
			lim := newRateLimiter(cfg.Rate)
			for step := cfg.MaxBackoff; r.clock.now().Sub(r.rec.Created) < tc.after; r.clock.add(step) {
				r.c.sweep(ctx)
				r.c.pollDue(ctx, lim)
			}
			if _, err := r.tr.Get(ctx, rxID, rxLineItem); err != nil {
				exp, _ := r.tr.ListExpired(ctx, 10)
				t.Fatalf("after %v pending the cancellation is no longer tracked (%v; expired: %d): Spine may still answer it", tc.after, err, len(exp))
			}
			api.body = cancelled
			r.clock.add(cfg.MaxBackoff)
			r.c.sweep(ctx)
			r.c.pollDue(ctx, lim)
			ds := r.outboxDeliveries(t)
			if len(ds) != 1 || !strings.Contains(string(ds[0].Body), `code="0001"`) {
				t.Fatalf("%d deliveries after the item settled, want one Subsequent Cancel Response 0001", len(ds))
			}
		})
	}
}
