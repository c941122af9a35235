package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPendingConnectionsPerClientBounded: without TLS, on the front door
// and on the admin listener, one client address may hold at most
// --max-handshakes-per-client connections open past pendingFuse whose
// first request head (request line and headers) has not all arrived,
// silent or trickling it (slow loris); one beyond them is given
// pendingFuse for its head, then closed. A burst of connections beyond
// the bound whose requests come at once is served, and connections past
// their first request head (a load balancer's kept connections) never
// count. Before, a peer could hold any number of connections open, each
// for the 30 s read timeout, with its descriptor and goroutine: at a few
// thousand a second it ran the process (the other listener, the senders'
// connections, Redis) out of file descriptors.
func TestPendingConnectionsPerClientBounded(t *testing.T) {
	const limit = 8
	cfg := testConfig()
	cfg.Admin.Addr, cfg.Admin.NoAuth = "127.0.0.1:0", true
	cfg.MaxHandshakesPerClient = limit
	at := runGateway(t, cfg)
	for _, tc := range []struct{ name, addr, listener string }{
		{"front door", at.Addr, "front_door"},
		{"admin listener", at.AdminAddr, "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Connections past their first request head, kept open: they
			// do not count.
			for range 2 * limit {
				c, err := net.Dial("tcp", tc.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: porxgate\r\n\r\n")
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err != nil {
					t.Fatalf("a connection past its request head counted against the address: %v", err)
				}
			}
			// Silent connections and ones trickling their head: limit
			// are held past pendingFuse, the rest closed then.
			var pending []net.Conn
			for i := range limit + 20 {
				c, err := net.Dial("tcp", tc.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if i%2 == 1 {
					fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: porxgate\r\n")
				}
				pending = append(pending, c)
			}
			// A burst of requests beside them, each on a new connection,
			// at once: served within the fuse.
			var burst sync.WaitGroup
			var failed atomic.Int32
			for range 3 * limit {
				burst.Go(func() {
					c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
					resp, err := c.Get("http://" + tc.addr + "/healthz")
					if err != nil {
						failed.Add(1)
						return
					}
					resp.Body.Close()
				})
			}
			burst.Wait()
			if n := failed.Load(); n > 0 {
				t.Errorf("%d of %d requests on new connections beside the address's pending ones failed", n, 3*limit)
			}
			if held := heldOpen(pending, pendingFuse+1500*time.Millisecond); held != limit {
				t.Fatalf("%d of %d pending connections from one address held open past %s, want %d", held, len(pending), pendingFuse, limit)
			}

			resp, err := http.Get("http://" + at.Addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var over int
			_, line, _ := strings.Cut(string(body), fmt.Sprintf("\nporxgate_connections_over_bound_total{listener=%q} ", tc.listener))
			if _, err := fmt.Sscanf(line, "%d", &over); err != nil || over < len(pending)-limit {
				t.Errorf("porxgate_connections_over_bound_total{listener=%q} %d (%v), want at least %d", tc.listener, over, err, len(pending)-limit)
			}
		})
	}
}

// TestPeerGoneThroughListeners: peerGone sees a client that closed its
// connection through every wrapping of the front door's and the admin
// listener's connections: plain (PlainListener), TLS, each inside the
// refusalListener serve wraps them in.
func TestPeerGoneThroughListeners(t *testing.T) {
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, t.TempDir(), ca)
	ft, err := ServerTLS(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	client := dispenserTLS(t, ca)
	for _, tc := range []struct {
		name string
		wrap func(net.Listener) net.Listener
		dial func(addr string) (net.Conn, error)
	}{
		{"plain", func(ln net.Listener) net.Listener { return PlainListener(ln, 4, nil, nil, "test") },
			func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }},
		{"TLS", func(ln net.Listener) net.Listener { return ft.Listener(ln, 4, nil) },
			func(addr string) (net.Conn, error) {
				return tls.Dial("tcp", addr, client)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := newRefusalListener(tc.wrap(raw))
			defer ln.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					close(accepted)
					return
				}
				if h, ok := c.(interface{ Handshake() error }); ok {
					_ = h.Handshake()
				}
				accepted <- c
			}()
			client, err := tc.dial(raw.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			server, ok := <-accepted
			if !ok {
				t.Fatal("not accepted")
			}
			defer server.Close()
			if peerGone(server) {
				t.Fatal("peer gone while its connection is open")
			}
			client.Close()
			waitFor(t, "peerGone to see the client gone", func() bool { return peerGone(server) })
		})
	}
}
