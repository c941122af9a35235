package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/internal/testpki"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns the CA pool and server certificate.
func testPKI(t *testing.T, dir string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	ca := testpki.NewCA(t, "porxgate test CA")
	srvCert, srvKey := ca.Issue(t, testpki.Cert{Name: "127.0.0.1", Server: true, Serial: 2})
	cliCert, cliKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 3})
	for name, b := range map[string][]byte{"ca.pem": ca.PEM, "client.pem": cliCert, "client-key.pem": cliKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	return pool, srv
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pool, srvCert := testPKI(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	s := sim.New(sim.Options{Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, tlsLn) }()
	t.Cleanup(func() { cancel(); <-done })
	root := "https://" + ln.Addr().String()

	cfg := testConfig(root, nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem"),
		CAFile: filepath.Join(dir, "ca.pem")}
	c := newClient(t, cfg)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping over mutual TLS: %v", err)
	}

	cfg.TLS.CertFile, cfg.TLS.KeyFile = "", ""
	cfg.Retry.MaxAttempts = 1
	noCert := newClient(t, cfg)
	if err := noCert.Ping(context.Background()); err == nil || !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("Ping without a client certificate: %v, want a failure", err)
	}

	cfg.TLS.CAFile = filepath.Join(dir, "client.pem") // not the CA that signed the server
	if _, err := New(cfg, quiet); err != nil {
		t.Fatalf("New: %v", err)
	}
	cfg.TLS.CAFile = filepath.Join(dir, "missing.pem")
	if _, err := New(cfg, quiet); err == nil {
		t.Fatal("New accepted a missing CA file")
	}
}

// TestBaseTransportHonoursProxyEnvironment checks that calls to EPS go
// through HTTPS_PROXY/NO_PROXY, as the README documents, with and without
// mutual TLS.
func TestBaseTransportHonoursProxyEnvironment(t *testing.T) {
	for _, tc := range []TLSConfig{{}, {ServerName: "eps.example"}} {
		rt, _, err := newBaseTransport(tc, time.Now(), quiet)
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := rt.(*http.Transport)
		if !ok {
			t.Fatalf("TLS %+v: base transport %T, want an *http.Transport", tc, rt)
		}
		if tr.Proxy == nil {
			t.Fatalf("TLS %+v: transport ignores the proxy environment", tc)
		}
	}
}
