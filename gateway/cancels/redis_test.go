package cancels

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// replicas returns n Redis Trackers, each on its own client, sharing one
// redis-server and prefix: n gateway replicas.
func replicas(t *testing.T, srv *redistest.Server, n int, opts Options) []*Redis {
	t.Helper()
	out := make([]*Redis, n)
	for i := range out {
		out[i] = NewRedis(newClient(t, srv), "replicas:", opts)
	}
	return out
}

// waitFor calls f every 20 ms until it reports true, failing after limit.
// It waits for a lease to run out; nothing is measured.
func waitFor(t *testing.T, limit time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReplicasResolveExactlyOnce(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			trs := []Tracker{im.open(t, Options{}), im.open(t, Options{})}
			resolveConcurrently(t, trs)
		})
	}
}

// resolveConcurrently resolves every record from 8 goroutines spread over
// the trackers and checks each record was won exactly once.
func resolveConcurrently(t *testing.T, trs []Tracker) {
	ctx := context.Background()
	const items = 25
	for i := 0; i < items; i++ {
		if _, err := trs[0].Track(ctx, rec("P1", i, t0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	wins := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		tr := trs[g%len(trs)]
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < items; k++ {
				i := (k + g*3) % items // each goroutine in its own order
				c, ok, err := tr.Resolve(ctx, "P1", rec("P1", i, t0).LineItem, Outcome{Code: "0001", Source: fmt.Sprintf("g%d", g)}, t0)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					mu.Lock()
					wins[c.Key()]++
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(wins) != items {
		t.Errorf("%d records resolved, want %d", len(wins), items)
	}
	for k, n := range wins {
		if n != 1 {
			t.Errorf("%s resolved %d times", k, n)
		}
	}
}

func TestRedisReplicasPollDisjointly(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	trs := replicas(t, srv, 2, Options{})
	const items = 40
	for i := 0; i < items; i++ {
		if _, err := trs[0].Track(ctx, rec("P1", i, t0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(tr *Redis) {
			defer wg.Done()
			for {
				claims, err := tr.Due(ctx, t0, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claims) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claims {
					seen[c.Key()]++
				}
				mu.Unlock()
			}
		}(trs[g%2])
	}
	wg.Wait()
	if len(seen) != items {
		t.Errorf("%d records claimed, want %d", len(seen), items)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times while leased", k, n)
		}
	}
}

func TestRedisDeadReplicaIsTakenOver(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	trs := replicas(t, srv, 2, Options{LeaseTTL: 1500 * time.Millisecond})
	dead, alive := trs[0], trs[1]
	polled, resolved := rec("P1", 1, t0), rec("P1", 2, t0)
	for _, r := range []Record{polled, resolved} {
		if _, err := dead.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	// The dead replica was polling one record and had resolved the other
	// when it died: neither lease is released.
	claims, err := dead.Due(ctx, t0, 1)
	if err != nil || len(claims) != 1 || claims[0].Key() != polled.Key() {
		t.Fatalf("Due = %+v, %v", claims, err)
	}
	stale := claims[0]
	deadWin, ok, err := dead.Resolve(ctx, resolved.PrescriptionID, resolved.LineItem, Outcome{Code: "0004", Source: "dispense-notification", DispenserODS: "FZZ99"}, t0)
	if err != nil || !ok {
		t.Fatalf("Resolve = %v, %v", ok, err)
	}
	if d, _ := alive.Due(ctx, t0.Add(time.Minute), 10); len(d) != 0 {
		t.Fatalf("work handed over while leased: %+v", d)
	}
	if _, ok, _ := alive.Resolve(ctx, resolved.PrescriptionID, resolved.LineItem, Outcome{Code: "0001"}, t0); ok {
		t.Fatal("resolved a second time by another replica")
	}

	// Once the leases run out, the live replica gets both: the resolved one
	// with its outcome, to send, and the polled one to poll again. (The
	// scheduling clock has moved on by a minute meanwhile.)
	var got []Claim
	waitFor(t, 10*time.Second, "the dead replica's leases to run out", func() bool {
		c, err := alive.Due(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c...)
		return len(got) == 2
	})
	byKey := map[string]Claim{}
	for _, c := range got {
		byKey[c.Key()] = c
	}
	if c := byKey[resolved.Key()]; c.State != StateResolved || c.Outcome == nil || c.Outcome.Code != "0004" || c.Outcome.DispenserODS != "FZZ99" {
		t.Errorf("resolved record taken over as %+v", c)
	}
	if c := byKey[polled.Key()]; c.State != StatePending || c.Token == stale.Token {
		t.Errorf("polled record taken over as %+v", c)
	}
	for _, c := range got {
		if err := alive.Complete(ctx, c); err != nil {
			t.Errorf("Complete %s: %v", c.Key(), err)
		}
	}
	// The dead replica's late moves fail.
	if err := dead.Complete(ctx, deadWin); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("late Complete: %v", err)
	}
	if _, err := dead.Reschedule(ctx, stale, t0, ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("late Reschedule: %v", err)
	}
	if list, _ := alive.List(ctx, 0); len(list) != 0 {
		t.Errorf("left over: %+v", list)
	}
}

func TestRedisRestartLosesNothing(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	opts := Options{LeaseTTL: 200 * time.Millisecond}
	first := NewRedis(newClient(t, srv), "restart:", opts)
	for i := 0; i < 3; i++ {
		if _, err := first.Track(ctx, rec("P1", i, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	claims, _ := first.Due(ctx, t0, 1)
	if len(claims) != 1 {
		t.Fatal("nothing due")
	}
	if _, err := first.Reschedule(ctx, claims[0], t0, "tracker timeout"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := first.Resolve(ctx, "P1", rec("P1", 2, t0).LineItem, Outcome{Code: "0001", Source: "return"}, t0); !ok {
		t.Fatal("not resolved")
	}

	// A new process: a new client and Tracker on the same Redis.
	second := NewRedis(newClient(t, srv), "restart:", opts)
	list, err := second.List(ctx, 0)
	if err != nil || len(list) != 3 {
		t.Fatalf("List after restart = %+v, %v", list, err)
	}
	if list[0].Attempts != 1 || list[0].LastError != "tracker timeout" || !list[0].NextPoll.Equal(t0.Add(5*time.Minute)) ||
		list[1].State != StatePending || list[2].State != StateResolved || list[2].Outcome == nil || list[2].Outcome.Source != "return" ||
		string(list[1].Request) != "<PORX_IN030101UK32/>" || list[1].ResponseID == "" || list[1].TraceParent != rec("P1", 2, t0).TraceParent {
		t.Errorf("records changed across the restart: %+v", list)
	}
	st, err := second.Stats(ctx, t0.Add(time.Hour))
	if err != nil || st.Tracked != 3 || st.Pending != 2 || st.OldestAge != time.Hour {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	var got []Claim
	waitFor(t, 10*time.Second, "the resolved record's lease to run out", func() bool {
		c, err := second.Due(ctx, t0.Add(5*time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c...)
		return len(got) == 3
	})
}
