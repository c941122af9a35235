package cancels

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestFollowedUp: which Cancel Responses Spine follows with a Subsequent
// Cancel Response, so that the gateway tracks them: pending with a
// dispenser, and not found (the prescription not yet there, carried out
// when it comes) unless the cancellation is for a Notification of Death
// (eps-spine-shared interactions/common.py, is_death).
func TestFollowedUp(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      cancel.CancelOutcome
		want     bool
		awaiting bool
	}{
		{"with dispenser", cancel.CancelOutcome{Code: core.SpineCode{Code: "0002"}, Pending: true}, true, false},
		{"with dispenser, active", cancel.CancelOutcome{Code: core.SpineCode{Code: "0003"}, Pending: true}, true, false},
		{"not found", cancel.CancelOutcome{Code: core.SpineCode{Code: "0008"}, Request: cancel.CancelRequestInfo{ReasonCodes: []string{"0001"}}}, true, true},
		{"not found, notification of death", cancel.CancelOutcome{Code: core.SpineCode{Code: "0008"}, Request: cancel.CancelRequestInfo{ReasonCodes: []string{"0007"}}}, false, false},
		{"not found, death as a further reason", cancel.CancelOutcome{Code: core.SpineCode{Code: "0008"}, Request: cancel.CancelRequestInfo{ReasonCodes: []string{"0001", "0007"}}}, false, false},
		{"cancelled", cancel.CancelOutcome{Code: core.SpineCode{Code: "0001"}}, false, false},
		{"dispensed", cancel.CancelOutcome{Code: core.SpineCode{Code: "0004"}}, false, false},
		{"already cancelled", cancel.CancelOutcome{Code: core.SpineCode{Code: "0006"}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FollowedUp(tc.out); got != tc.want {
				t.Errorf("FollowedUp = %v, want %v", got, tc.want)
			}
			if got := awaitsPrescription(tc.out); got != tc.awaiting {
				t.Errorf("awaitsPrescription = %v, want %v", got, tc.awaiting)
			}
		})
	}
}

// TestPollerAwaitingPrescription: a cancellation answered not found waits
// for its prescription. While the EPS tracker does not know the
// prescription it stays pending (no error: that is what it waits for);
// once the tracker lists it, the cancellation was carried out (the item
// cancelled: one Subsequent Cancel Response, 0001) or it was not (any
// other item status, or the item not on it: Spine sends nothing, and
// tracking ends without an answer, the cancel request marked answered so
// that a replay does not track it again).
func TestPollerAwaitingPrescription(t *testing.T) {
	item := strings.ToLower(rxLineItem)
	for _, tc := range []struct {
		name string
		body func(t *testing.T) []byte
		// pending: still tracked after the poll; code: the answer's code ("" none).
		pending bool
		code    string
	}{
		{"prescription not yet in EPS", func(*testing.T) []byte { return []byte(`{"resourceType":"Bundle","type":"searchset"}`) }, true, ""},
		{"carried out", func(t *testing.T) []byte {
			return cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0005", "", "", map[string]string{item: "0005"}))
		}, false, "0001"},
		{"not carried out", func(t *testing.T) []byte {
			return cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0001", "", "", map[string]string{item: "0007"}))
		}, false, ""},
		{"item not on the prescription", func(t *testing.T) []byte {
			return cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0001", "", "", map[string]string{"other": "0007"}))
		}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &cannedTracker{status: 200, body: tc.body(t)}
			r := newPollerRig(t, api, func(rec *Record) { rec.AwaitingPrescription = true })
			r.clock.add(time.Minute)
			r.c.pollDue(context.Background(), newRateLimiter(1000))
			if api.calls != 1 {
				t.Fatalf("polled %d times, want 1", api.calls)
			}
			got, err := r.tr.Get(context.Background(), rxID, rxLineItem)
			switch {
			case tc.pending && err != nil:
				t.Fatalf("no longer tracked: %v", err)
			case tc.pending && (got.State != StatePending || got.Attempts != 1 || got.LastError != "" || !got.AwaitingPrescription):
				t.Errorf("after the poll: state %s attempts %d lastError %q awaiting %v; want pending 1 \"\" true",
					got.State, got.Attempts, got.LastError, got.AwaitingPrescription)
			case !tc.pending && !errors.Is(err, ErrNotFound):
				t.Errorf("still tracked (err %v)", err)
			}
			ds := r.outboxDeliveries(t)
			switch {
			case tc.code == "" && len(ds) != 0:
				t.Errorf("%d deliveries, want none", len(ds))
			case tc.code != "" && len(ds) != 1:
				t.Fatalf("%d deliveries, want 1", len(ds))
			case tc.code != "" && !strings.Contains(string(ds[0].Body), `code="`+tc.code+`"`):
				t.Errorf("the answer does not carry %s:\n%s", tc.code, ds[0].Body)
			}
			if !tc.pending {
				again := r.rec
				again.Created = r.clock.now()
				if ok, err := r.tr.Track(context.Background(), again); err != nil || ok {
					t.Errorf("the cancel request replayed is tracked again: %v %v", ok, err)
				}
			}
		})
	}
}

// TestSettleAwaitingPrescription: what passes the gateway settles a
// cancellation awaiting its prescription only as Spine does. The
// prescription EPS accepted, with the EPS tracker showing the item
// cancelled, answers it (0001, source prescription); a prescription whose
// item the tracker shows still to be dispensed leaves it to the poller;
// a dispense notification of the item (not dispensed) does not answer it
// "not dispensed" (Spine sends nothing then) and leaves it too.
func TestSettleAwaitingPrescription(t *testing.T) {
	item := strings.ToLower(rxLineItem)
	rx := cancelstest.Testdata(t, "prescribe/"+cancelstest.RxFixture)
	for _, tc := range []struct {
		name      string
		canon     string
		body      func(t *testing.T) []byte
		itemState string
		code      string // the answer's code; "" none, the cancellation still tracked
	}{
		{"prescription, carried out", v3.ParentPrescription, func(*testing.T) []byte { return rx }, "0005", "0001"},
		{"prescription, not carried out", v3.ParentPrescription, func(*testing.T) []byte { return rx }, "0007", ""},
		{"dispense notification", v3.DispenseNotification, func(t *testing.T) []byte {
			return fhirOf(t, v3.DispenseNotification, cancelstest.LegacyNotDispensed(t))
		}, "0002", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0001", "", "", map[string]string{item: tc.itemState}))}
			r := newPollerRig(t, api, func(rec *Record) { rec.AwaitingPrescription = true })
			r.c.Settle(context.Background(), Exchange{}, tc.canon, tc.body(t))
			ds := r.outboxDeliveries(t)
			_, err := r.tr.Get(context.Background(), rxID, rxLineItem)
			if tc.code == "" {
				if len(ds) != 0 || err != nil {
					t.Errorf("%d deliveries (want none), tracked: %v (want still)", len(ds), err)
				}
				return
			}
			if len(ds) != 1 || !strings.Contains(string(ds[0].Body), `code="`+tc.code+`"`) {
				t.Fatalf("%d deliveries, want 1 carrying %s", len(ds), tc.code)
			}
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("still tracked after the answer (err %v)", err)
			}
		})
	}
}

// TestTrackerCountsAwaiting: Stats counts the records awaiting their
// prescription (a prescription passing the gateway reads its Bundle again
// only while there is one), until they are completed or expire, on every
// Tracker.
func TestTrackerCountsAwaiting(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			ctx := context.Background()
			tr := im.open(t, Options{})
			awaitingCount := func(want int) {
				t.Helper()
				st, err := tr.Stats(ctx, t0)
				if err != nil || st.Awaiting != want {
					t.Fatalf("Stats = %+v, %v; want %d awaiting", st, err, want)
				}
			}
			answered := rec("P1", 1, t0)
			answered.AwaitingPrescription = true
			expiring := rec("P2", 2, t0)
			expiring.AwaitingPrescription, expiring.Expires = true, t0.Add(time.Hour)
			for _, r := range []Record{answered, expiring, rec("P3", 3, t0)} {
				if ok, err := tr.Track(ctx, r); err != nil || !ok {
					t.Fatalf("Track = %v, %v", ok, err)
				}
			}
			awaitingCount(2)
			if got, err := tr.Get(ctx, "P1", answered.LineItem); err != nil || !got.AwaitingPrescription {
				t.Fatalf("Get = %+v, %v; want it awaiting its prescription", got, err)
			}
			c, ok, err := tr.Resolve(ctx, "P1", answered.LineItem, Outcome{Code: "0001", Source: sourcePrescription}, t0)
			if err != nil || !ok {
				t.Fatalf("Resolve = %v, %v", ok, err)
			}
			if err := tr.Complete(ctx, c); err != nil {
				t.Fatal(err)
			}
			awaitingCount(1)
			at := t0.Add(time.Hour)
			claims, err := tr.Due(ctx, at, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range claims {
				if _, err := tr.Reschedule(ctx, c, at, ""); err != nil {
					t.Fatal(err)
				}
			}
			if gone, err := tr.Expire(ctx, at, 10); err != nil || len(gone) != 1 || gone[0].PrescriptionID != "P2" {
				t.Fatalf("Expire = %+v, %v", gone, err)
			}
			awaitingCount(0)
		})
	}
}

// TestTrackSupersedesAwaiting: a cancellation answered not found still
// awaits its prescription when another cancel request for the same item
// is answered pending (the prescription came without the first taking
// effect, and a dispenser now holds it). The first can no longer be
// carried out; the second must be tracked, in its own conversation, or
// its Subsequent Cancel Response would never come (and the first's
// record, resolved by a later return, would answer the wrong request).
// The first ends unanswered, as from Spine.
func TestTrackSupersedesAwaiting(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			ctx := context.Background()
			tr := im.open(t, Options{})
			c := NewService(ServiceOptions{Tracker: tr, Log: quietLog(), Now: func() time.Time { return t0 }})
			st := store.NewMemory(func() time.Time { return t0 })
			c.Attach(Outbox{Queue: st}, nil)
			request := cancelstest.LegacyCancel(t, cancelstest.RxFixture, v3.FamilyUK)
			info, err := cancel.ReadCancelRequestInfo(request)
			if err != nil {
				t.Fatal(err)
			}
			exchange := func(messageID string) Exchange {
				return Exchange{EbXML: true, MessageID: messageID, ConversationID: "CONV-" + messageID, FromParty: senderParty,
					ToParty: spineParty, CPAID: senderCPA, Payload: request}
			}
			notFound := cancel.CancelOutcome{Code: core.SpineCode{Code: "0008"}, Request: info}
			pending := cancel.CancelOutcome{Code: core.SpineCode{Code: "0002"}, Pending: true, Request: info}
			if err := c.Track(ctx, exchange("MSG-1"), notFound); err != nil {
				t.Fatal(err)
			}
			if err := c.Track(ctx, exchange("MSG-2"), pending); err != nil {
				t.Fatalf("Track of the pending cancel: %v", err)
			}
			got, err := tr.Get(ctx, info.PrescriptionID, info.LineItemID)
			if err != nil || got.MessageID != "MSG-2" || got.ConversationID != "CONV-MSG-2" || got.AwaitingPrescription || got.State != StatePending {
				t.Fatalf("tracked %s (conversation %s, awaiting %v, %s), %v; want the pending cancel MSG-2",
					got.MessageID, got.ConversationID, got.AwaitingPrescription, got.State, err)
			}
			if l, err := st.Claim(ctx, outbox.Queue, t0.Add(time.Hour), time.Minute); err != nil || l != nil {
				t.Errorf("something was queued for the superseded cancellation: %+v %v", l, err)
			}
			// The first request, processed again, is not tracked again.
			if err := c.Track(ctx, exchange("MSG-1"), notFound); err != nil {
				t.Fatal(err)
			}
			if got, _ := tr.Get(ctx, info.PrescriptionID, info.LineItemID); got.MessageID != "MSG-2" {
				t.Errorf("tracked %s after the first request came again, want MSG-2", got.MessageID)
			}
		})
	}
}

// statsCounting is a Tracker that counts its Stats calls.
type statsCounting struct {
	Tracker
	calls atomic.Int64
}

func (s *statsCounting) Stats(ctx context.Context, now time.Time) (Stats, error) {
	s.calls.Add(1)
	return s.Tracker.Stats(ctx, now)
}

// TestSettleCountsAwaitingOnceASecond: every prescription passing the
// gateway asks whether a cancellation awaits its prescription; the count
// is read from the tracker (a Redis round trip of five commands) at most
// once a second, not once a prescription (measured end to end: 3.9 % of the
// gateway's CPU and a round trip a prescription). A cancellation this
// process starts tracking as awaiting counts at once, so the next
// prescription is settled without waiting for the count to be read again.
func TestSettleCountsAwaitingOnceASecond(t *testing.T) {
	item := strings.ToLower(rxLineItem)
	rx := cancelstest.Testdata(t, "prescribe/"+cancelstest.RxFixture)
	api := &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0001", "", "", map[string]string{item: "0005"}))}
	opts := Config{PollInterval: time.Second, Backoff: time.Minute, MaxBackoff: time.Hour, MaxAge: 24 * time.Hour, Rate: 1000, Lease: 30 * time.Second}
	var counting *statsCounting
	r := newPollerRigOn(t, api, opts, func(o Options, clock func() time.Time) Tracker {
		counting = &statsCounting{Tracker: NewMemory(o, clock)}
		return counting
	})
	ctx := context.Background()
	for range 100 {
		r.c.Settle(ctx, Exchange{}, v3.ParentPrescription, rx)
	}
	if n := counting.calls.Load(); n != 1 {
		t.Errorf("100 prescriptions within a second read the count %d times, want 1", n)
	}
	// Nor does it build a logger with the exchange's fields (about ten
	// allocations for an exchange's eight): only the call's own context.
	ex := Exchange{LogAttrs: []slog.Attr{slog.String("message_id", "M1"), slog.String("conversation_id", "C1"),
		slog.String("interaction", "PORX_IN020101UK31"), slog.String("party", "P1"), slog.String("transport", "ebxml")}}
	if n := testing.AllocsPerRun(50, func() { r.c.Settle(ctx, ex, v3.ParentPrescription, rx) }); n > 4 {
		t.Errorf("a prescription with no cancellation awaiting it: %v allocations, want at most 4", n)
	}
	r.clock.add(2 * awaitingCountFor)
	r.c.Settle(ctx, Exchange{}, v3.ParentPrescription, rx)
	if n := counting.calls.Load(); n != 2 {
		t.Errorf("a prescription after the count's second read it %d times in all, want 2", n)
	}
	// Nothing awaited: the pending cancellation is untouched.
	if ds := r.outboxDeliveries(t); len(ds) != 0 {
		t.Fatalf("%d deliveries, want none", len(ds))
	}
	// One this process tracks as awaiting counts at once: a count of none
	// read a moment ago does not hide it.
	api2 := &cannedTracker{status: 200, body: api.body}
	var counting2 *statsCounting
	r2 := newPollerRigOn(t, api2, opts, func(o Options, clock func() time.Time) Tracker {
		counting2 = &statsCounting{Tracker: NewMemory(o, clock)}
		return counting2
	}, func(rec *Record) { rec.AwaitingPrescription = true })
	r2.c.awaiting.n, r2.c.awaiting.at = 0, r2.clock.now()
	r2.c.noteAwaiting()
	r2.c.Settle(ctx, Exchange{}, v3.ParentPrescription, rx)
	if ds := r2.outboxDeliveries(t); len(ds) != 1 || !strings.Contains(string(ds[0].Body), `code="0001"`) {
		t.Fatalf("%d deliveries, want the 0001 follow-up", len(ds))
	}
	if n := counting2.calls.Load(); n != 0 {
		t.Errorf("the count read %d times, want 0 (the tracked one counted at once)", n)
	}
}
