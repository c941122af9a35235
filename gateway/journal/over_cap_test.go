package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/internal/testlog"
)

// failEviction fails every run of the retention's script (journal.evict)
// while on (a processHook).
func failEviction(on *atomic.Bool) processHook {
	return func(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
		if args := cmd.Args(); on.Load() && len(args) > 1 && fmt.Sprint(args[1]) == evictScript.Hash() {
			err := errors.New("evict: injected failure")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// TestWrittenPastAFailedEvictionCountsAsWritten: events the backend wrote
// count as written when only the size cap's eviction that follows them
// failed (a timeout, a failover between the two round trips), and the
// failure is logged as the retention's. They were counted dropped
// (write_failed), the log said "events are dropped" and an answer kept
// for its party (RecordNow) was refused, so its delivery worker
// dead-lettered an answer the journal kept. The next write evicts.
func TestWrittenPastAFailedEvictionCountsAsWritten(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 5000})
	var failing atomic.Bool
	failing.Store(true)
	b.c.AddHook(failEviction(&failing))
	var logs testlog.Buffer
	reg := prometheus.NewRegistry()
	j := New(b, Options{Registry: reg, BatchWait: -1, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	run(t, j)
	t0 := time.Now().UTC()
	body := strings.Repeat("x", 1000)
	for i := range 10 {
		j.Record(Event{Exchange: fmt.Sprintf("Q%02d", i), At: t0.Add(time.Duration(i) * time.Millisecond), Interaction: "PORX_IN020101UK31",
			Step: &Step{Kind: StepLegacyRequest, Body: body}})
		waitAll(t, j)
	}
	if err := j.RecordNow(t.Context(), Event{Exchange: "KEPT", At: t0.Add(time.Second), Step: &Step{Kind: StepDelivery, Body: body}}); err != nil {
		t.Errorf("RecordNow: %v; the answer was written", err)
	}
	for _, id := range []string{"Q00", "Q09", "KEPT"} {
		if x, err := b.Get(t.Context(), id); x == nil || err != nil {
			t.Fatalf("exchange %s: %v, %v", id, x, err)
		}
	}
	if got := j.Dropped(); got != 0 {
		t.Errorf("Dropped() = %d, want 0: every event was written", got)
	}
	if got := counterValue(t, reg, "porxgate_journal_recorded_total", ""); got != 11 {
		t.Errorf("porxgate_journal_recorded_total = %v, want 11", got)
	}
	if out := logs.String(); strings.Contains(out, "events are dropped") || !strings.Contains(out, "injected failure") {
		t.Errorf("log, want the eviction's failure and no drop:\n%s", out)
	}
	failing.Store(false)
	j.Record(Event{Exchange: "LAST", At: t0.Add(2 * time.Second), Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}})
	waitAll(t, j)
	if st, err := b.Stats(t.Context()); err != nil || st.Bytes > 5000 {
		t.Errorf("after a write with the eviction back: %+v, %v; want at most 5000 bytes", st, err)
	}
}

// failApplyRun fails the nth run of the writer's script (journal.apply)
// from now on (a processHook).
func failApplyRun(n int64) processHook {
	var runs atomic.Int64
	return func(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
		if args := cmd.Args(); len(args) > 1 && fmt.Sprint(args[1]) == applyScript.Hash() && runs.Add(1) == n {
			err := errors.New("apply: injected failure")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// TestPartlyWrittenBatchCountsWhatWasWritten: a batch the Redis journal
// writes in several runs (TestRedisApplyRunsAreBounded) and that fails
// after some were written counts those written as written and only the
// rest as dropped, and the exchanges written are whole: their heads
// count the steps their lists hold.
func TestPartlyWrittenBatchCountsWhatWasWritten(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour})
	b.c.AddHook(failApplyRun(3))
	reg := prometheus.NewRegistry()
	j := New(b, Options{Registry: reg})
	const n = 20
	evs := busyMessages(n, time.Now().UTC())
	items := make([]item, len(evs))
	for i := range evs {
		items[i] = item{ev: &evs[i]}
	}
	j.pending.Add(int64(len(items)))
	j.writeBatch(t.Context(), items)
	written := 0
	for k := range n {
		id := fmt.Sprintf("BUSY%06d", k)
		x, err := b.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if x == nil {
			continue
		}
		written += len(x.Steps)
		got, err := b.Search(t.Context(), Query{ID: id})
		if err != nil || len(got) != 1 || got[0].Steps != len(x.Steps) {
			t.Errorf("exchange %s: %d steps, its summary %+v (%v)", id, len(x.Steps), got, err)
		}
	}
	if written == 0 || written == len(evs) {
		t.Fatalf("%d of %d events written; want the runs before the failed one written, the rest not", written, len(evs))
	}
	if got := counterValue(t, reg, "porxgate_journal_recorded_total", ""); got != float64(written) {
		t.Errorf("porxgate_journal_recorded_total = %v, want %d (the events written)", got, written)
	}
	if got := counterValue(t, reg, "porxgate_journal_dropped_total", DropWriteFailed); got != float64(len(evs)-written) {
		t.Errorf("porxgate_journal_dropped_total{reason=%q} = %v, want %d", DropWriteFailed, got, len(evs)-written)
	}
	if got := j.Dropped(); got != uint64(len(evs)-written) {
		t.Errorf("Dropped() = %d, want %d", got, len(evs)-written)
	}
	if p := j.Pending(); p != 0 {
		t.Errorf("Pending() = %d after the write, want 0", p)
	}
}
