package gateway

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/testpki"
)

// TestEstablishedConnectionFollowsTrust: a client whose certificate a CRL
// written over --tls-client-crl revokes, or whose CA is removed from
// --tls-client-ca, loses the connection it already holds (within
// trustRecheck of the change, at its next read), not only its next
// handshake. Before, a connection kept alive went on carrying its
// messages for as long as the sender kept it busy: a revoked certificate
// (a stolen key) was accepted for hours after its revocation.
func TestEstablishedConnectionFollowsTrust(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, cfg Config, ca, other *testCA)
	}{
		{"revoked by a renewed CRL", func(t *testing.T, cfg Config, ca, _ *testCA) {
			testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{7005}, ThisUpdate: time.Now().Add(-time.Minute)}), time.Now())
		}},
		{"its CA removed from the bundle", func(t *testing.T, cfg Config, _, other *testCA) {
			testpki.WriteDated(t, cfg.TLSClientCAFile, other.pem, time.Now())
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ca, other := newCA(t, "HSCN test CA"), newCA(t, "another CA")
			cfg := mutualTLSConfig(t, dir, ca)
			testpki.WriteDated(t, cfg.TLSClientCAFile, append(append([]byte{}, ca.pem...), other.pem...), time.Now().Add(-time.Hour))
			cfg.TLSClientCRLFiles = writeFile(t, dir, "clients.crl", nil)
			testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{7001}}), time.Now().Add(-time.Hour))
			log, sink := jsonLogger(slog.LevelInfo)
			srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, log, NewMetrics(), WithProcessor(newFakeProcessor()))
			base := serveOverTLS(t, srv, cfg, false)

			cert, err := tls.X509KeyPair(ca.Issue(t, testpki.Cert{Name: "MHS 7005", Serial: 7005}))
			if err != nil {
				t.Fatal(err)
			}
			get := keptConn(t, strings.TrimPrefix(base, "https://"), ca, cert, "/healthz")
			if err := get(); err != nil {
				t.Fatalf("before the change: %v", err)
			}
			tt.change(t, cfg, ca, other)
			time.Sleep(trustRecheck + 100*time.Millisecond)
			if err := get(); err == nil {
				t.Fatal("the connection held before the change still carries requests")
			}
			if n := countLogs(t, sink, "client connection closed: its certificate is no longer accepted"); n != 1 {
				t.Errorf("the cut connection logged %d times, want 1", n)
			}
		})
	}
}

// TestAdminEstablishedConnectionFollowsTrust: the admin listener's
// connection signed in by a client certificate is closed once its CA has
// left --admin-client-ca, as the front door's is. Before, the role it
// granted stayed on the open connection until the browser dropped it.
func TestAdminEstablishedConnectionFollowsTrust(t *testing.T) {
	cfg, ca, next, addr := adminWithClientCA(t)
	cert, err := tls.X509KeyPair(ca.issue(t, "ops-desk", false))
	if err != nil {
		t.Fatal(err)
	}
	get := keptConn(t, addr, ca, cert, "/admin/api/state")
	if err := get(); err != nil {
		t.Fatalf("before the change: %v", err)
	}
	testpki.WriteDated(t, cfg.Admin.ClientCAFile, next.pem, time.Now())
	time.Sleep(trustRecheck + 100*time.Millisecond)
	if err := get(); err == nil {
		t.Fatal("the admin connection signed in by a certificate of a removed CA still carries requests")
	}
}

// keptConn opens one TLS connection to addr, trusting ca and presenting
// cert, and returns a function that sends GET path over it (HTTP/1.1,
// kept alive) and says why it was not answered 200 (nil: it was).
func keptConn(t *testing.T, addr string, ca *testCA, cert tls.Certificate, path string) func() error {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	return func() error {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: porxgate\r\n\r\n", path); err != nil {
			return err
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}
