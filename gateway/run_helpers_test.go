package gateway

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// runningGateway is a Run that startRun started.
type runningGateway struct {
	// Listening is where it listens, as bound.
	Listening
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's error, once done is closed
	limit  time.Duration
	// stopped is set by stop: the test's end then stops it no more.
	stopped bool
}

// startRun runs Run with cfg in the background and waits until its
// listeners are bound (cfg.OnListening), so that a test gives its
// addresses as port 0 ("127.0.0.1:0", as testConfig does) and learns the
// ports from what it returns: a port chosen free and then given to Run
// could be taken by another process in between. A Run that ends before
// it listens fails the test with its error. The run is stopped when the
// test ends, unless stop was called before.
func startRun(t *testing.T, cfg Config, log *slog.Logger) *runningGateway {
	t.Helper()
	bound := make(chan Listening, 1)
	cfg.OnListening = func(l Listening) { bound <- l }
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningGateway{cancel: cancel, done: make(chan struct{}), limit: 3*cfg.ShutdownTimeout + 10*time.Second}
	go func() { r.err = Run(ctx, cfg, log); close(r.done) }()
	t.Cleanup(func() {
		if r.stopped {
			return
		}
		if err := r.stop(t); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case r.Listening = <-bound:
		return r
	case <-r.done:
		t.Fatalf("Run ended before it listened: %v", r.err)
	case <-time.After(time.Minute):
		t.Fatal("Run did not listen within a minute")
	}
	return nil
}

// ended reports whether Run has returned, with its error.
func (r *runningGateway) ended() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

// stop stops Run (cancels its context) and returns its error; Run still
// running three shutdown timeouts (requests, work in hand, the in-memory
// store's queues) and ten seconds later fails the test.
func (r *runningGateway) stop(t *testing.T) error {
	t.Helper()
	r.stopped = true
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(r.limit):
		t.Fatalf("Run did not stop within %v", r.limit)
		return nil
	}
}

// runGateway runs the gateway cfg configures (Run) until the test ends,
// and returns where it listens (startRun).
func runGateway(t *testing.T, cfg Config) Listening {
	t.Helper()
	return startRun(t, cfg, quietLog()).Listening
}
