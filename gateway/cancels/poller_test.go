package cancels

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// The prescriber's ebXML party and CPA, and Spine's party.
const (
	senderParty = "FQ2KM-807341"
	spineParty  = "YES-0000806"
	senderCPA   = "S3024519A3110234"
)

// quietLog discards logs unless PORXGATE_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("PORXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cannedTracker answers every EPS tracker query with status and body.
type cannedTracker struct {
	status int
	body   []byte
	calls  int
}

func (c *cannedTracker) TrackerGet(_ context.Context, q url.Values) (*upstream.Response, error) {
	c.calls++
	return &upstream.Response{Status: c.status, Body: c.body}, nil
}

// pollerRig is a Service on the in-memory tracker and store with a
// settable clock, and one tracked cancellation of the fixture prescription.
type pollerRig struct {
	clock *testClock
	tr    Tracker
	st    store.Store
	c     *Service
	rec   Record
}

func newPollerRig(t *testing.T, api TrackerAPI, edits ...func(*Record)) *pollerRig {
	t.Helper()
	opts := Config{PollInterval: time.Second, Backoff: time.Minute, MaxBackoff: time.Hour, MaxAge: 24 * time.Hour, Rate: 1000, Lease: 30 * time.Second}
	return newPollerRigOn(t, api, opts, func(o Options, clock func() time.Time) Tracker { return NewMemory(o, clock) }, edits...)
}

// newPollerRigOn is newPollerRig with settings opts, on the tracker open
// makes (given the tracker options and the rig's clock), its record
// changed by edits before it is tracked.
func newPollerRigOn(t *testing.T, api TrackerAPI, opts Config, open func(Options, func() time.Time) Tracker, edits ...func(*Record)) *pollerRig {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tr := open(opts.TrackerOptions(), clock.now)
	st := store.NewMemory(clock.now)
	c := NewService(ServiceOptions{Tracker: tr, EPS: api, Config: opts, Now: clock.now, Log: quietLog()})
	c.Attach(Outbox{Queue: st}, nil)
	rec := Record{
		PrescriptionID: rxID, LineItem: rxLineItem, ConversationID: "CONV-1", MessageID: "MSG-1",
		ResponseID: "5E9A998A-F903-4468-B27B-F7BEE4ADDB6B", SenderPartyID: senderParty, ReceiverPartyID: spineParty,
		CPAID: senderCPA, Request: cancelstest.LegacyCancel(t, cancelstest.RxFixture, v3.FamilyUK), Created: clock.now(), NextPoll: clock.now().Add(opts.Backoff),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	for _, e := range edits {
		e(&rec)
	}
	if ok, err := tr.Track(context.Background(), rec); err != nil || !ok {
		t.Fatalf("track: %v %v", ok, err)
	}
	return &pollerRig{clock: clock, tr: tr, st: st, c: c, rec: rec}
}

// outboxDeliveries takes out (and returns) what the rig's outbox holds.
func (r *pollerRig) outboxDeliveries(t *testing.T) []outbox.Delivery {
	t.Helper()
	var out []outbox.Delivery
	for {
		l, err := r.st.Claim(context.Background(), outbox.Queue, r.clock.now().Add(time.Hour), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if l == nil {
			return out
		}
		d, err := outbox.DecodeDelivery(l.Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.st.Drop(context.Background(), outbox.Queue, l.ID); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
}

func TestPollerReschedules(t *testing.T) {
	item := strings.ToLower(rxLineItem)
	cases := []struct {
		name      string
		api       *cannedTracker
		wantError string
	}{
		{"still with dispenser", &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0002", "FCG71", "", map[string]string{item: "0008"}))}, ""},
		{"EPS fails", &cannedTracker{status: 503, body: []byte(`{}`)}, "answered 503"},
		{"unreadable answer", &cannedTracker{status: 200, body: []byte(`{`)}, "EPS tracker answer"},
		{"prescription unknown", &cannedTracker{status: 200, body: []byte(`{"resourceType":"Bundle","type":"searchset"}`)}, "does not list the prescription"},
		{"item unknown", &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0002", "", "", map[string]string{"other": "0008"}))}, "does not list the line item"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newPollerRig(t, tc.api)
			lim := newRateLimiter(1000)
			r.c.pollDue(context.Background(), lim)
			if tc.api.calls != 0 {
				t.Fatalf("polled %d times before the first poll was due", tc.api.calls)
			}
			r.clock.add(time.Minute)
			r.c.pollDue(context.Background(), lim)
			if tc.api.calls != 1 {
				t.Fatalf("polled %d times, want 1", tc.api.calls)
			}
			got, err := r.tr.Get(context.Background(), rxID, rxLineItem)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != StatePending || got.Attempts != 1 || !strings.Contains(got.LastError, tc.wantError) || (tc.wantError == "") != (got.LastError == "") {
				t.Errorf("after the poll: state %s attempts %d lastError %q; want pending 1 %q", got.State, got.Attempts, got.LastError, tc.wantError)
			}
			if want := r.clock.now().Add(time.Minute); !got.NextPoll.Equal(want) {
				t.Errorf("next poll %s, want %s", got.NextPoll, want)
			}
			if ds := r.outboxDeliveries(t); len(ds) != 0 {
				t.Errorf("%d deliveries queued for a pending cancellation", len(ds))
			}
		})
	}
}

// TestPollerResolves: a poll that finds the item settled resolves the
// cancellation and queues exactly one Subsequent Cancel Response,
// addressed to the prescriber in the cancel's conversation.
func TestPollerResolves(t *testing.T) {
	api := &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0006", "FCG71", "", map[string]string{strings.ToLower(rxLineItem): "0001"}))}
	r := newPollerRig(t, api)
	r.clock.add(time.Minute)
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	ds := r.outboxDeliveries(t)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if d.MessageID != r.rec.ResponseID || d.Interaction != v3.SubsequentCancelResponse || d.Party != senderParty ||
		d.ConversationID != "CONV-1" || d.RefToMessageID != "MSG-1" || d.CPAID != senderCPA || d.TraceParent != r.rec.TraceParent {
		d.Body = nil
		t.Errorf("delivery %+v", d)
	}
	if !strings.Contains(string(d.Body), `code="0004"`) {
		t.Errorf("delivery does not carry 0004:\n%s", d.Body)
	}
	if _, err := r.tr.Get(context.Background(), rxID, rxLineItem); err == nil {
		t.Error("record still tracked")
	}
	r.clock.add(time.Hour)
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	if n := len(r.outboxDeliveries(t)); n != 0 || api.calls != 1 {
		t.Errorf("after completion: %d more deliveries, %d polls", n, api.calls)
	}
}

// TestPollerAnswersOrphan: a replica resolved a cancellation and died
// before queueing the answer; once its lease runs out the poller queues
// the Subsequent Cancel Response without asking EPS again.
func TestPollerAnswersOrphan(t *testing.T) {
	api := &cannedTracker{status: 500}
	r := newPollerRig(t, api)
	o := Outcome{Code: "0001", Source: sourceReturn, At: r.clock.now()}
	if _, ok, err := r.tr.Resolve(context.Background(), rxID, rxLineItem, o, r.clock.now()); err != nil || !ok {
		t.Fatalf("resolve: %v %v", ok, err)
	}
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	if n := len(r.outboxDeliveries(t)); n != 0 {
		t.Fatalf("answered while the resolver's lease ran: %d deliveries", n)
	}
	r.clock.add(31 * time.Second)
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	ds := r.outboxDeliveries(t)
	if len(ds) != 1 || ds[0].MessageID != r.rec.ResponseID || api.calls != 0 {
		t.Fatalf("%d deliveries (want 1 with the chosen MessageId), %d polls (want 0)", len(ds), api.calls)
	}
}

// TestSweepReportsExpired: a cancellation pending past its maximum age is
// removed, counted and kept in the expired list, once the poller has
// looked at it (here: a failed look) past that age.
func TestSweepReportsExpired(t *testing.T) {
	r := newPollerRig(t, &cannedTracker{status: 500})
	r.c.sweep(context.Background())
	if _, err := r.tr.Get(context.Background(), rxID, rxLineItem); err != nil {
		t.Fatalf("expired early: %v", err)
	}
	r.clock.add(25 * time.Hour)
	r.c.sweep(context.Background())
	if _, err := r.tr.Get(context.Background(), rxID, rxLineItem); err != nil {
		t.Fatalf("expired without a last look: %v", err)
	}
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	r.c.sweep(context.Background())
	if _, err := r.tr.Get(context.Background(), rxID, rxLineItem); err == nil {
		t.Fatal("still tracked past its maximum age and a last look")
	}
	exp, err := r.tr.ListExpired(context.Background(), 10)
	if err != nil || len(exp) != 1 || exp[0].MessageID != "MSG-1" {
		t.Fatalf("expired list %v %+v", err, exp)
	}
}

func TestCancelBackoff(t *testing.T) {
	o := Config{Backoff: time.Minute, MaxBackoff: 5 * time.Minute}.withDefaults()
	for n, want := range map[int]time.Duration{0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 4: 5 * time.Minute, 50: 5 * time.Minute} {
		if got := o.backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
	d := Config{}.withDefaults()
	if d.PollInterval != 30*time.Second || d.Backoff != 5*time.Minute || d.MaxBackoff != 6*time.Hour || d.Rate != 2 {
		t.Errorf("defaults %+v", d)
	}
}

func TestOpenTrackerFollowsTheStore(t *testing.T) {
	if _, ok := OpenTracker(store.NewMemory(nil), Config{}).(*Memory); !ok {
		t.Error("memory store: tracker is not in memory")
	}
	st, err := store.NewRedis(redistest.Start(t).URL(), "gw:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := OpenTracker(st, Config{}).(*Redis); !ok {
		t.Error("Redis store: tracker is not on Redis")
	}
}

// partyTracker answers like cannedTracker and records the upstream party
// and the log correlation fields of each call's context.
type partyTracker struct {
	cannedTracker
	parties []string
	fields  [][]slog.Attr
	traces  []string
}

func (p *partyTracker) TrackerGet(ctx context.Context, q url.Values) (*upstream.Response, error) {
	p.parties = append(p.parties, upstream.PartyOf(ctx))
	p.fields = append(p.fields, logctx.Attrs(ctx))
	p.traces = append(p.traces, trace.SpanContextFromContext(ctx).TraceID().String())
	return p.cannedTracker.TrackerGet(ctx, q)
}

// TestPollerUsesPartyIdentity: the poll of a pending cancellation goes to
// EPS under the prescriber's party (its upstream identity, item 7) with
// the cancel request's correlation fields for the EPS client's lines.
func TestPollerUsesPartyIdentity(t *testing.T) {
	api := &partyTracker{cannedTracker: cannedTracker{status: 503, body: []byte(`{}`)}}
	r := newPollerRig(t, api)
	r.clock.add(time.Minute)
	r.c.pollDue(context.Background(), newRateLimiter(1000))
	if len(api.parties) != 1 || api.parties[0] != senderParty {
		t.Fatalf("polled under parties %q, want [%s]", api.parties, senderParty)
	}
	if api.traces[0] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the poll is in trace %s, not the cancel request's", api.traces[0])
	}
	got := map[string]string{}
	for _, a := range api.fields[0] {
		got[a.Key] = a.Value.String()
	}
	want := map[string]string{logctx.KeyMessageID: "MSG-1", logctx.KeyConversationID: "CONV-1", logctx.KeyParty: senderParty,
		logctx.KeyTransport: "ebxml", logctx.KeyInteraction: requestInteraction(r.rec)}
	for k, v := range want {
		if got[k] != v || v == "" {
			t.Errorf("poll context %s = %q, want %q", k, got[k], v)
		}
	}
}
