package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testpki"
)

// writePair writes a client certificate and key, dated at, over path.crt
// and path.key.
func writePair(t *testing.T, path string, certPEM, keyPEM []byte, at time.Time) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = path+".crt", path+".key"
	for f, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, at, at); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// TestClientCertificateRenewedOnDisk: a client certificate renewed on disk
// (as cert-manager or an operator does before the old one expires) is
// presented on the next TLS handshake without a restart. Before, the one
// read at start was presented until the process restarted, so when it
// expired every call to EPS failed.
func TestClientCertificateRenewedOnDisk(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	srvCert, srvKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 2, Server: true, NotAfter: time.Now().Add(24 * time.Hour)})
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	var mu sync.Mutex
	var seen []int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.TLS.PeerCertificates[0].SerialNumber.Int64())
		mu.Unlock()
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	srv.Config.SetKeepAlivesEnabled(false) // a handshake per call
	srv.StartTLS()
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	c1, k1 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 10, Server: false, NotAfter: time.Now().Add(time.Hour)})
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, old)
	cfg := testConfig(srv.URL, nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile, CAFile: caFile}
	c := newClient(t, cfg)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2, k2 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 11, Server: false, NotAfter: time.Now().Add(24 * time.Hour)})
	writePair(t, filepath.Join(dir, "client"), c2, k2, time.Now())
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != 10 || seen[1] != 11 {
		t.Fatalf("client certificates presented %v, want [10 11]", seen)
	}
}

// TestExpiredClientCertificateRefusedAtStart: a client certificate that
// has expired can never get through: New says so instead of every
// message waiting behind handshake failures.
func TestExpiredClientCertificateRefusedAtStart(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	dir := t.TempDir()
	c1, k1 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 10, Server: false, NotAfter: time.Now().Add(-time.Minute)})
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, time.Now())
	cfg := testConfig("https://127.0.0.1:1", nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile}
	_, err := New(cfg, quiet)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("New with an expired client certificate: %v, want an error saying it expired", err)
	}
}
