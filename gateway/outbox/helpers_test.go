package outbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// newLoopbackServer serves h on a loopback socket until the test ends and
// returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// runReserved runs w until cancel is called and reserves its idle
// delivery worker (Handoff.Reserve), which then waits to be given work;
// done is closed when Run has returned.
func runReserved(t *testing.T, w *Worker) (h *Handoff, cancel context.CancelFunc, done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); w.Run(ctx) }()
	h = w.Handoff()
	deadline := time.Now().Add(5 * time.Second)
	for !h.Reserve() {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the delivery worker never became idle")
		}
		time.Sleep(time.Millisecond)
	}
	return h, cancel, ran
}
