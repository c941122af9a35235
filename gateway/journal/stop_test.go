package journal

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// redisJournal is a Journal over a fresh redis-server, and that server.
func redisJournal(t *testing.T, opts Options) (*Journal, *redistest.Server) {
	t.Helper()
	b, srv := redisBackend(t, Retention{})
	return New(b, opts), srv
}

// startRun runs j's writer; stop cancels it and waits, failing the test
// when it takes much longer than DrainTimeout.
func startRun(t *testing.T, j *Journal) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); j.Run(ctx) }()
	t.Cleanup(cancel)
	return func() {
		t.Helper()
		cancel()
		select {
		case <-done:
		case <-time.After(DrainTimeout + 10*time.Second):
			t.Fatalf("Run still running %v after the stop", DrainTimeout+10*time.Second)
		}
	}
}

// TestRunWritesWhatWasRecordedBeforeTheStop: events recorded before the
// writer stops are written, the batch it was gathering as it stopped
// included; an event recorded after it stopped is counted dropped, not
// left pending for ever.
func TestRunWritesWhatWasRecordedBeforeTheStop(t *testing.T) {
	j, _ := redisJournal(t, Options{BatchWait: 300 * time.Millisecond})
	stop := startRun(t, j)
	j.Record(Event{Exchange: "x0", Outcome: &Outcome{Result: "accepted"}})
	deadline := time.Now().Add(5 * time.Second)
	for j.queue.Len() > 0 { // the writer has taken x0 and gathers its batch
		if time.Now().After(deadline) {
			t.Fatal("the writer never took the first event")
		}
		time.Sleep(time.Millisecond)
	}
	const n = 20
	for i := 1; i < n; i++ {
		j.Record(Event{Exchange: "x" + strconv.Itoa(i), Outcome: &Outcome{Result: "accepted"}})
	}
	stop()
	if d := j.Dropped(); d != 0 {
		t.Errorf("%d events dropped at the stop", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range n {
		id := "x" + strconv.Itoa(i)
		x, err := j.Backend().Get(ctx, id)
		if err != nil || x == nil {
			t.Errorf("exchange %s recorded before the stop: %v, %v", id, x, err)
		}
	}
	j.Record(Event{Exchange: "late", Outcome: &Outcome{Result: "accepted"}})
	if p, d := j.Pending(), j.Dropped(); p != 0 || d != 1 {
		t.Errorf("an event recorded after the stop: pending %d, dropped %d; want 0, 1", p, d)
	}
}

// TestRunStopsWhenRedisIsGone: with Redis gone the writer still stops
// within its bound, and every event it could not write is counted dropped.
func TestRunStopsWhenRedisIsGone(t *testing.T) {
	j, srv := redisJournal(t, Options{BatchWait: -1})
	stop := startRun(t, j)
	srv.Kill(t)
	const n = 50
	for i := range n {
		j.Record(Event{Exchange: "x" + strconv.Itoa(i), Outcome: &Outcome{Result: "accepted"}})
	}
	stop()
	if p, d := j.Pending(), j.Dropped(); p != 0 || d != n {
		t.Errorf("pending %d, dropped %d; want 0, %d", p, d, n)
	}
}
