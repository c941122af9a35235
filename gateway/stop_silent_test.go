package gateway

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestStopWithSilentConnections: a connection that has sent nothing yet (a
// load balancer's TCP health check, a client's spare connection) held the
// stop for five seconds (fasthttp counts a new connection as busy that
// long), so that with a shorter --shutdown-timeout every stop failed with
// "shutdown: context deadline exceeded" (serve exits 1 on SIGTERM). Such
// connections are now closed at the stop, and the stop is clean; a
// request in flight is still drained.
func TestStopWithSilentConnections(t *testing.T) {
	cfg := testConfig() // shutdown timeout 2s
	ln, cancel, done := serveAndWork(t, NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics()))
	base := "http://" + ln.Addr().String()
	waitFor(t, "/healthz", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	stopWithSilentConnections(t, ln.Addr().String(), cancel, done, cfg.ShutdownTimeout)
}

// serveAndWork runs srv.ServeAndWork on a fresh loopback listener until
// the returned cancel (or the test's end), its result on done.
func serveAndWork(t *testing.T, srv *Server) (net.Listener, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- srv.ServeAndWork(ctx, ln) }()
	return ln, cancel, done
}

// stopWithSilentConnections opens three connections to addr that send
// nothing, stops the server (cancel) and checks that it returns (done)
// without an error within its shutdown timeout and a margin.
func stopWithSilentConnections(t *testing.T, addr string, cancel context.CancelFunc, done <-chan error, timeout time.Duration) {
	t.Helper()
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // accepted by the server
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop with silent connections open: %v", err)
		}
	case <-time.After(timeout + 10*time.Second):
		t.Fatal("the server did not stop")
	}
}

// TestAdminStopWithSilentConnections: the admin listener, too, closes the
// connections that never sent a byte when the stop begins. Before, each
// held its drain for five seconds, past a 2 s shutdown timeout, and the
// stop ended in an error (serve exiting 1).
func TestAdminStopWithSilentConnections(t *testing.T) {
	cfg := testConfig() // shutdown timeout 2s
	cfg.Admin.Addr = "127.0.0.1:0"
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.serveAdmin(ctx) }()
	select {
	case <-srv.adminLn.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the admin listener did not start")
	}
	srv.adminLn.mu.Lock()
	addr := srv.adminLn.addr
	srv.adminLn.mu.Unlock()
	stopWithSilentConnections(t, addr, cancel, done, cfg.ShutdownTimeout)
}
