package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPendingHandshakesPerClientBounded: one client address may have at
// most --max-handshakes-per-client TLS handshakes under way at the front
// door; a connection beyond them is closed at once, before any handshake
// work, and the address gets in again as its pending ones end. Completed
// handshakes do not count (a load balancer's address keeps all its
// connections). Before, a peer could open any number of connections that
// never sent a ClientHello and hold each, with its descriptor and
// goroutine, for the 30 s read timeout: at a few thousand a second it ran
// the process out of file descriptors, and the senders, Redis and the
// certificate files with it.
func TestPendingHandshakesPerClientBounded(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	limit := 8
	cfg.MaxHandshakesPerClient = limit
	addr := runGateway(t, cfg).Addr
	cliTLS := dispenserTLS(t, ca)
	kp := cliTLS.Certificates[0]
	handshake := func() error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cliTLS)
		if err != nil {
			return err
		}
		return c.Close()
	}

	// Completed handshakes, kept open (a request answered on each: the
	// server is past the handshake): they do not count.
	for range 2 * limit {
		if err := keptConn(t, addr, ca, kp, "/healthz")(); err != nil {
			t.Fatalf("a completed handshake counted against the address: %v", err)
		}
	}

	// Silent connections: limit are held, the rest closed at once.
	var silent []net.Conn
	for range limit + 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, c)
	}
	// Each read waits a second at most: a connection closed at once ends
	// it with EOF, one held with the deadline.
	if held := heldOpen(silent, time.Second); held != limit {
		t.Fatalf("%d of %d silent connections from one address held open, want %d", held, len(silent), limit)
	}
	if err := handshake(); err == nil {
		t.Fatal("a handshake got in beside the address's pending ones at the bound")
	}
	for _, c := range silent {
		c.Close()
	}
	waitFor(t, "the address to get in again", func() bool { return handshake() == nil })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cliTLS.Clone()}}
	resp, err := client.Get("https://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The silent ones beyond the bound and the handshake beside them; the
	// wait for the address may add a few.
	var refused int
	_, line, _ := strings.Cut(string(body), "\nporxgate_tls_handshakes_refused_total ")
	if _, err := fmt.Sscanf(line, "%d", &refused); err != nil || refused < len(silent)-limit+1 {
		t.Errorf("porxgate_tls_handshakes_refused_total %d (%v), want at least %d", refused, err, len(silent)-limit+1)
	}
}

// TestSilentAfterHandshakePerClientBounded: a TLS connection counts
// against its address's --max-handshakes-per-client until its first
// request head has arrived, not only until its handshake ends. Before, a
// peer could complete any number of handshakes (anyone, without
// --tls-client-ca; any holder of a client certificate, with it) and hold
// each connection silent for the 30 s read timeout: the bound that kept
// silent connections from running the process out of file descriptors
// did not hold them.
func TestSilentAfterHandshakePerClientBounded(t *testing.T) {
	const limit = 8
	for _, tc := range []struct {
		name   string
		mutual bool
	}{
		{"server TLS only", false},
		{"mutual TLS", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newCA(t, "HSCN test CA")
			cfg := mutualTLSConfig(t, t.TempDir(), ca)
			if !tc.mutual {
				cfg.TLSClientCAFile = ""
			}
			cfg.MaxHandshakesPerClient = limit
			addr := runGateway(t, cfg).Addr
			client := dispenserTLS(t, ca)
			var conns []net.Conn
			for range limit + 20 {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, client)
				if err == nil {
					conns = append(conns, c)
				}
			}
			held := heldOpen(conns, time.Second)
			for _, c := range conns {
				c.Close()
			}
			if held != limit {
				t.Fatalf("%d connections from one address held silent past their handshake, want %d", held, limit)
			}
		})
	}
}

// heldOpen reports how many of conns are still open after wait: a read
// that ends with its deadline, not EOF or a reset.
func heldOpen(conns []net.Conn, wait time.Duration) int {
	var held atomic.Int32
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(wait))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
				held.Add(1)
			}
		})
	}
	wg.Wait()
	return int(held.Load())
}

// dispenserTLS returns a client TLS configuration trusting ca, with a
// client certificate it issued ("dispenser MHS").
func dispenserTLS(t *testing.T, ca *testCA) *tls.Config {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	cliCert, cliKey := ca.issue(t, "dispenser MHS", false)
	kp, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
}
