package cancels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/redis/go-redis/v9"
)

// t0 is the tests' scheduling clock.
var t0 = time.Date(2024, 6, 7, 8, 0, 0, 0, time.UTC)

// impl makes Trackers of one kind that share their state.
type impl struct {
	name string
	// open returns a new Tracker on the shared state.
	open func(t *testing.T, opts Options) Tracker
}

// impls returns the in-memory and the Redis kind; each call of the Redis
// kind's open makes a new client (a new "replica") on one redis-server.
func impls(t *testing.T) []impl {
	t.Helper()
	srv := redistest.Start(t)
	cluster := redistest.StartCluster(t)
	var mem *Memory
	return []impl{
		{"memory", func(t *testing.T, opts Options) Tracker {
			if mem == nil {
				mem = NewMemory(opts, nil)
			}
			return mem
		}},
		{"redis", func(t *testing.T, opts Options) Tracker {
			return NewRedis(newClient(t, srv), "test:"+t.Name()+":", opts)
		}},
		{"redis-cluster", func(t *testing.T, opts Options) Tracker {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs()})
			t.Cleanup(func() { _ = c.Close() })
			// One hash tag, as store.ClusterPrefix makes it: every key of a
			// script on one slot.
			return NewRedis(c, "{test:"+t.Name()+"}:", opts)
		}},
	}
}

// newClient returns a Redis client closed when the test ends.
func newClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rec returns a pending cancellation for line item n of prescription pid.
func rec(pid string, n int, created time.Time) Record {
	return Record{
		PrescriptionID: pid,
		LineItem:       fmt.Sprintf("a9b8c7d6-e5f4-4a3b-8c2d-%012d", n),
		CancellationID: "0E5D4C3B-2A19-4F08-8E7D-6C5B4A392817",
		ConversationID: "C0NV-" + pid,
		MessageID:      "5B1C9E0A-3D2F-4A6B-9C8D-7E6F5A4B3C21",
		ResponseID:     fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		SenderPartyID:  "B86019-822103",
		SenderASID:     "918273645546",
		Request:        []byte("<PORX_IN030101UK32/>"),
		TraceParent:    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Created:        created,
	}
}

func TestTrackerLifecycle(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			ctx := context.Background()
			tr := im.open(t, Options{})
			r1 := rec("7d3e21-b86019-4a2c9f", 1, t0)
			if ok, err := tr.Track(ctx, r1); err != nil || !ok {
				t.Fatalf("Track = %v, %v", ok, err)
			}
			if ok, err := tr.Track(ctx, r1); err != nil || ok {
				t.Fatalf("second Track = %v, %v; want false", ok, err)
			}
			for _, bad := range []Record{rec("", 1, t0), rec("A B", 1, t0), rec("P1", 1, time.Time{})} {
				if _, err := tr.Track(ctx, bad); err == nil {
					t.Errorf("Track(%+v) gave no error", bad)
				}
			}
			got, err := tr.Get(ctx, "7D3E21-B86019-4A2C9F", r1.LineItem)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != StatePending || got.PrescriptionID != "7D3E21-B86019-4A2C9F" || got.ConversationID != r1.ConversationID ||
				string(got.Request) != string(r1.Request) || !got.Expires.Equal(t0.Add(DefaultMaxAge)) || !got.NextPoll.Equal(t0) {
				t.Errorf("Get = %+v", got)
			}
			if _, err := tr.Get(ctx, "NOPE", "X"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get of nothing: %v", err)
			}
			if ok, _ := tr.Track(ctx, rec("P2", 2, t0.Add(time.Minute))); !ok {
				t.Fatal("second record not tracked")
			}
			list, err := tr.List(ctx, 0)
			if err != nil || len(list) != 2 || list[0].PrescriptionID != "7D3E21-B86019-4A2C9F" {
				t.Fatalf("List = %+v, %v", list, err)
			}
			if oldest, err := tr.List(ctx, 1); err != nil || len(oldest) != 1 || oldest[0].PrescriptionID != "7D3E21-B86019-4A2C9F" {
				t.Fatalf("List(1) = %+v, %v; want the oldest only", oldest, err)
			}
			st, err := tr.Stats(ctx, t0.Add(time.Hour))
			if err != nil || st.Tracked != 2 || st.Pending != 2 || st.OldestAge != time.Hour {
				t.Errorf("Stats = %+v, %v", st, err)
			}

			// Poll: due at once, leased, rescheduled with back-off.
			claims, err := tr.Due(ctx, t0, 10)
			if err != nil || len(claims) != 1 || claims[0].Key() != r1.Key() {
				t.Fatalf("Due = %+v, %v", claims, err)
			}
			if again, _ := tr.Due(ctx, t0.Add(2*time.Minute), 10); len(again) != 1 || again[0].PrescriptionID != "P2" {
				t.Fatalf("the leased record was handed out again: %+v", again)
			}
			if err := tr.Extend(ctx, claims[0]); err != nil {
				t.Errorf("Extend: %v", err)
			}
			after, err := tr.Reschedule(ctx, claims[0], t0, "tracker: HTTP 503")
			if err != nil || after.Attempts != 1 || !after.NextPoll.Equal(t0.Add(5*time.Minute)) {
				t.Fatalf("Reschedule = %+v, %v", after, err)
			}
			if _, err := tr.Reschedule(ctx, claims[0], t0, ""); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("Reschedule without the lease: %v", err)
			}
			if d, _ := tr.Due(ctx, t0.Add(4*time.Minute), 10); len(d) != 0 {
				t.Errorf("due before its next poll: %+v", d)
			}
			claims, _ = tr.Due(ctx, t0.Add(5*time.Minute), 10)
			if len(claims) != 1 || claims[0].Attempts != 1 || claims[0].LastError != "tracker: HTTP 503" {
				t.Fatalf("Due after back-off = %+v", claims)
			}

			// Resolve takes the poller's lease over, exactly once.
			oc := Outcome{Code: "0001", Source: "return", DispenserODS: "FZZ99", At: t0.Add(6 * time.Minute)}
			won, ok, err := tr.Resolve(ctx, r1.PrescriptionID, r1.LineItem, oc, t0.Add(6*time.Minute))
			if err != nil || !ok || won.State != StateResolved || won.Outcome == nil || won.Outcome.Code != "0001" || won.ConversationID != r1.ConversationID {
				t.Fatalf("Resolve = %+v, %v, %v", won, ok, err)
			}
			if _, ok, _ := tr.Resolve(ctx, r1.PrescriptionID, r1.LineItem, oc, t0); ok {
				t.Error("resolved twice")
			}
			if _, err := tr.Reschedule(ctx, claims[0], t0, ""); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("the poller kept its lease: %v", err)
			}
			if err := tr.Complete(ctx, claims[0]); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("the poller completed: %v", err)
			}
			if st, _ := tr.Stats(ctx, t0); st.Pending != 1 || st.Tracked != 2 {
				t.Errorf("Stats while resolving = %+v", st)
			}
			if err := tr.Complete(ctx, won); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if _, err := tr.Get(ctx, r1.PrescriptionID, r1.LineItem); !errors.Is(err, ErrNotFound) {
				t.Errorf("completed record still there: %v", err)
			}
			if _, ok, _ := tr.Resolve(ctx, r1.PrescriptionID, r1.LineItem, oc, t0); ok {
				t.Error("a completed record resolved")
			}
			if _, ok, err := tr.Resolve(ctx, "P9", "X", oc, t0); ok || err != nil {
				t.Errorf("Resolve of nothing = %v, %v", ok, err)
			}
		})
	}
}

func TestTrackerExpiryIsReported(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			ctx := context.Background()
			tr := im.open(t, Options{ExpiredCap: 2})
			old := rec("P1", 1, t0)
			old.Expires = t0.Add(time.Hour)
			old.NextPoll = t0.Add(3 * time.Hour) // not claimed by the Due below (due at its expiry)
			held := rec("P2", 2, t0)
			held.Expires = t0.Add(time.Hour)
			resolved := rec("P3", 3, t0)
			resolved.Expires = t0.Add(time.Hour)
			young := rec("P4", 4, t0)
			for _, r := range []Record{old, held, resolved, young} {
				if _, err := tr.Track(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok, _ := tr.Resolve(ctx, "P3", resolved.LineItem, Outcome{Code: "0004", Source: "dispense-notification"}, t0); !ok {
				t.Fatal("not resolved")
			}
			if gone, _ := tr.Expire(ctx, t0.Add(59*time.Minute), 10); len(gone) != 0 {
				t.Errorf("expired early: %+v", gone)
			}
			claims, _ := tr.Due(ctx, t0, 10)
			var hold Claim
			for _, c := range claims {
				if c.PrescriptionID == "P2" {
					hold = c
				}
			}
			if hold.Token == "" {
				t.Fatalf("P2 not claimed: %+v", claims)
			}
			// look polls pid at at, finding it still pending.
			look := func(pid string, at time.Time) {
				t.Helper()
				claims, err := tr.Due(ctx, at, 10)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range claims {
					if c.PrescriptionID == pid {
						if _, err := tr.Reschedule(ctx, c, at, "still pending"); err != nil {
							t.Fatal(err)
						}
						return
					}
				}
				t.Fatalf("%s not due at %s: %+v", pid, at, claims)
			}
			if gone, _ := tr.Expire(ctx, t0.Add(2*time.Hour), 10); len(gone) != 0 {
				t.Errorf("expired without a look since its expiry: %+v", gone)
			}
			look("P1", t0.Add(2*time.Hour))
			gone, err := tr.Expire(ctx, t0.Add(2*time.Hour), 10)
			if err != nil || len(gone) != 1 || gone[0].PrescriptionID != "P1" || gone[0].State != StatePending || gone[0].ConversationID != old.ConversationID {
				t.Fatalf("Expire = %+v, %v; want P1 only (P2 is leased, P3 resolved, P4 young)", gone, err)
			}
			if again, _ := tr.Expire(ctx, t0.Add(2*time.Hour), 10); len(again) != 0 {
				t.Errorf("reported twice: %+v", again)
			}
			if _, err := tr.Reschedule(ctx, hold, t0.Add(2*time.Hour), "still pending"); err != nil {
				t.Fatal(err)
			}
			gone, _ = tr.Expire(ctx, t0.Add(2*time.Hour), 10)
			if len(gone) != 1 || gone[0].PrescriptionID != "P2" || gone[0].Attempts != 1 || gone[0].LastError != "still pending" {
				t.Fatalf("Expire after release = %+v", gone)
			}
			exp, err := tr.ListExpired(ctx, 0)
			if err != nil || len(exp) != 2 || exp[0].PrescriptionID != "P2" || exp[1].PrescriptionID != "P1" {
				t.Errorf("ListExpired = %+v, %v", exp, err)
			}
			for _, e := range exp {
				// Everything but the cancel request's payload (patient data).
				want := rec(e.PrescriptionID, 0, t0)
				if e.Request != nil || e.ConversationID != want.ConversationID || e.MessageID != want.MessageID ||
					e.SenderPartyID != want.SenderPartyID || e.TraceParent != want.TraceParent || !e.Created.Equal(t0) {
					t.Errorf("expired entry %+v: want it whole but for its request", e)
				}
			}
			st, _ := tr.Stats(ctx, t0.Add(2*time.Hour))
			if st.Tracked != 2 || st.Pending != 1 || st.Expired != 2 {
				t.Errorf("Stats = %+v", st)
			}
			late := rec("P5", 5, t0)
			late.Expires = t0.Add(time.Minute)
			if _, err := tr.Track(ctx, late); err != nil {
				t.Fatal(err)
			}
			if gone, _ := tr.Expire(ctx, t0.Add(2*time.Hour), 10); len(gone) != 0 {
				t.Fatalf("P5 expired without a look since its expiry: %+v", gone)
			}
			look("P5", t0.Add(2*time.Hour))
			if gone, _ := tr.Expire(ctx, t0.Add(2*time.Hour), 10); len(gone) != 1 {
				t.Fatalf("P5 not expired: %+v", gone)
			}
			if exp, _ := tr.ListExpired(ctx, 0); len(exp) != 2 || exp[0].PrescriptionID != "P5" {
				t.Errorf("expired list not capped at 2, newest first: %+v", exp)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 5 * time.Minute}, {1, 5 * time.Minute}, {2, 10 * time.Minute}, {4, 40 * time.Minute}, {7, 320 * time.Minute}, {8, 6 * time.Hour}, {100, 6 * time.Hour}} {
		if got := DefaultBackoff(tc.n); got != tc.want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestMemoryLeaseRunsOnItsClock(t *testing.T) {
	ctx := context.Background()
	wall := t0
	m := NewMemory(Options{LeaseTTL: time.Minute}, func() time.Time { return wall })
	if _, err := m.Track(ctx, rec("P1", 1, t0)); err != nil {
		t.Fatal(err)
	}
	c, _ := m.Due(ctx, t0, 1)
	if len(c) != 1 {
		t.Fatal("nothing due")
	}
	wall = wall.Add(59 * time.Second)
	if d, _ := m.Due(ctx, t0, 1); len(d) != 0 {
		t.Fatal("handed out while leased")
	}
	if err := m.Extend(ctx, c[0]); err != nil {
		t.Fatal(err)
	}
	wall = wall.Add(61 * time.Second)
	d, _ := m.Due(ctx, t0, 1)
	if len(d) != 1 || d[0].Token == c[0].Token {
		t.Fatalf("not taken over after the lease ran out: %+v", d)
	}
	if err := m.Complete(ctx, c[0]); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("stale Complete: %v", err)
	}
}

// TestTrackerAnsweredRequestNotTrackedAgain: once a cancellation is
// answered (Complete), the same cancel request (same MessageID, in any
// case) tracked again — its recorded pending answer replayed — starts
// nothing; a new cancel request for the item does, and so does the same
// one once AnsweredTTL has passed.
func TestTrackerAnsweredRequestNotTrackedAgain(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			ctx := context.Background()
			tr := im.open(t, Options{AnsweredTTL: time.Second})
			r := rec("3A7F0C-B86019-11A2E", 1, t0)
			if ok, err := tr.Track(ctx, r); err != nil || !ok {
				t.Fatalf("Track = %v, %v", ok, err)
			}
			won, ok, err := tr.Resolve(ctx, r.PrescriptionID, r.LineItem, Outcome{Code: "0001", Source: "return", At: t0}, t0)
			if err != nil || !ok {
				t.Fatalf("Resolve = %v, %v", ok, err)
			}
			if err := tr.Complete(ctx, won); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			replay := r
			replay.MessageID = strings.ToLower(r.MessageID)
			for _, again := range []Record{r, replay} {
				if ok, err := tr.Track(ctx, again); err != nil || ok {
					t.Fatalf("the answered cancel request %s tracked again: %v, %v", again.MessageID, ok, err)
				}
			}
			if _, err := tr.Get(ctx, r.PrescriptionID, r.LineItem); !errors.Is(err, ErrNotFound) {
				t.Fatalf("record after a refused Track: %v", err)
			}
			time.Sleep(1200 * time.Millisecond)
			if ok, err := tr.Track(ctx, r); err != nil || !ok {
				t.Fatalf("Track after AnsweredTTL = %v, %v", ok, err)
			}
			won, ok, _ = tr.Resolve(ctx, r.PrescriptionID, r.LineItem, Outcome{Code: "0004", Source: "tracker", At: t0}, t0)
			if !ok {
				t.Fatal("second Resolve failed")
			}
			if err := tr.Complete(ctx, won); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			other := r
			other.MessageID = "9F0E1D2C-3B4A-4596-8877-665544332211"
			if ok, err := tr.Track(ctx, other); err != nil || !ok {
				t.Fatalf("a new cancel request for the answered item: Track = %v, %v", ok, err)
			}
		})
	}
}
