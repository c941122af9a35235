package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
	waitStopped(t, done, timeout, "with silent connections open")
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

// TestStopWithStalledSenders: a sender that sent its headers and part of
// its body, then stalled (a hung MHS, a dropped link), held the stop of
// the listener it spoke to until the read timeout (30s), past the
// shutdown timeout, and the stop ended in "shutdown: context deadline
// exceeded" (serve exiting 1 on SIGTERM). At a stop, a request still
// arriving now has half the shutdown timeout to arrive, and is cut when
// it has not (nothing of it was acknowledged: its sender sends it again);
// the stop is clean. Both front doors and the admin listener.
func TestStopWithStalledSenders(t *testing.T) {
	for _, path := range []string{PathEbXML, PathSOAP} {
		t.Run("front door "+path, func(t *testing.T) {
			cfg := testConfig() // shutdown timeout 2s
			ln, cancel, done := serveAndWork(t, NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics()))
			stopWithStalledSender(t, ln.Addr().String(), path, cancel, done, cfg.ShutdownTimeout)
		})
	}
	t.Run("admin listener", func(t *testing.T) {
		cfg := testConfig()
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
		stopWithStalledSender(t, addr, "/admin/api/deadletters/X/resend", cancel, done, cfg.ShutdownTimeout)
	})
}

// stopWithStalledSender opens a connection to addr that sends a POST to
// path with part of its body and then nothing more, stops the server
// (cancel) and checks that it returns (done) without an error.
func stopWithStalledSender(t *testing.T, addr, path string, cancel context.CancelFunc, done <-chan error, timeout time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<SOAP-ENV:Envelope", path, addr); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // read by the server, which waits for the rest
	cancel()
	waitStopped(t, done, timeout, "with a stalled sender")
}

// TestStopLetsArrivingBodyFinish: the bound on a request still arriving at
// a stop is not a cut at once: a sender whose body arrives in full soon
// after the stop began gets its answer, and the stop is clean.
func TestStopLetsArrivingBodyFinish(t *testing.T) {
	cfg := testConfig() // shutdown timeout 2s: a second for the rest of the body
	ln, cancel, done := serveAndWork(t, NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics()))
	addr := ln.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body/></SOAP-ENV:Envelope>"
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\nSOAPAction: urn:nhs:names:services:mm/PORX_IN020101SM31\r\nContent-Length: %d\r\n\r\n%s",
		PathSOAP, addr, len(body), body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // read by the server, which waits for the rest
	cancel()
	time.Sleep(200 * time.Millisecond) // the stop has begun
	if _, err := io.WriteString(c, body[10:]); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a body that arrived during the stop: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == 0 {
		t.Fatalf("answer %v", resp.Status)
	}
	waitStopped(t, done, cfg.ShutdownTimeout, "with a body that arrived during it")
}

// waitStopped waits for a stop begun with a shutdown timeout of timeout to
// end cleanly (what names the circumstances in a failure).
func waitStopped(t *testing.T, done <-chan error, timeout time.Duration, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop %s: %v", what, err)
		}
	case <-time.After(timeout + 10*time.Second):
		t.Fatal("the server did not stop")
	}
}
