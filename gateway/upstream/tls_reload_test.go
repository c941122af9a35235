package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
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

// serialsServer serves EPS metadata over TLS with a certificate from ca,
// asking for a client certificate as clientAuth says (ca's pool verifies
// it), one handshake per call; seen returns the serial numbers of the
// client certificates presented so far.
func serialsServer(t *testing.T, ca *testpki.CA, clientAuth tls.ClientAuthType) (url string, seen func() []int64) {
	t.Helper()
	srvCert, srvKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 2, Server: true, NotAfter: time.Now().Add(24 * time.Hour)})
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	var mu sync.Mutex
	var serials []int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		serials = append(serials, r.TLS.PeerCertificates[0].SerialNumber.Int64())
		mu.Unlock()
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, ClientCAs: pool, ClientAuth: clientAuth, MinVersion: tls.VersionTLS12}
	srv.Config.SetKeepAlivesEnabled(false) // a handshake per call
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int64(nil), serials...)
	}
}

// TestClientCertificateRenewedOnDisk: a client certificate renewed on disk
// (as cert-manager or an operator does before the old one expires) is
// presented on the next TLS handshake without a restart. Before, the one
// read at start was presented until the process restarted, so when it
// expired every call to EPS failed.
func TestClientCertificateRenewedOnDisk(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	srvURL, seen := serialsServer(t, ca, tls.RequireAndVerifyClientCert)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	c1, k1 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 10, Server: false, NotAfter: time.Now().Add(time.Hour)})
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, old)
	cfg := testConfig(srvURL, nil)
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
	if got := seen(); len(got) != 2 || got[0] != 10 || got[1] != 11 {
		t.Fatalf("client certificates presented %v, want [10 11]", got)
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

// TestClientCertificateRenewalRefused: a "renewal" that cannot be used —
// an expired certificate copied over the files, or a key that does not
// match the certificate — leaves the pair that works in use, and the
// client says so once in a warning naming the files. Before, an expired
// certificate written over the files was presented from the next
// handshake (EPS refusing every call), and a mismatched pair was ignored
// without a word, the operator believing the renewal done.
func TestClientCertificateRenewalRefused(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	// Any client certificate is accepted, an expired one too: what is
	// presented is the question.
	srvURL, seen := serialsServer(t, ca, tls.RequireAnyClientCert)

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c1, k1 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 10, NotAfter: time.Now().Add(time.Hour)})
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, time.Now().Add(-time.Hour))
	var logs strings.Builder
	var logMu sync.Mutex
	cfg := testConfig(srvURL, nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile, CAFile: caFile}
	c, err := New(cfg, slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	expired, expiredKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 11, NotAfter: time.Now().Add(-time.Minute)})
	_, otherKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 12, NotAfter: time.Now().Add(24 * time.Hour)})
	for i, files := range [][2][]byte{{expired, expiredKey}, {c1, otherKey}} {
		writePair(t, filepath.Join(dir, "client"), files[0], files[1], time.Now().Add(time.Duration(i)*time.Minute))
		for range 2 {
			if err := c.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, serial := range seen() {
		if serial != 10 {
			t.Fatalf("client certificates presented %v, want the working one (10) throughout", seen())
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), "client certificate not renewed"); n != 2 || !strings.Contains(logs.String(), certFile) ||
		!strings.Contains(logs.String(), "expired") {
		t.Fatalf("warnings:\n%s\nwant one per refused renewal (2), naming %s and saying which expired", logs.String(), certFile)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestUpstreamCABundleFollowsItsFile: the CAs trusted for EPS's server
// certificate (--upstream-ca) follow their file as the front door's, the
// admin listener's and the delivery client's CAs do: an EPS whose
// certificate a CA added to the bundle issued is trusted from the next
// call, without a restart; a CA removed from the bundle is no longer
// trusted, a connection kept alive since it verified included; and a
// bundle that cannot be used is logged once and the one in use kept.
// Before, the bundle was read at start: when EPS's certificate moved to a
// new CA every call failed until the gateway was restarted.
func TestUpstreamCABundleFollowsItsFile(t *testing.T) {
	old, next := testpki.NewCA(t, "EPS old CA"), testpki.NewCA(t, "EPS next CA")
	srvCert, srvKey := next.Issue(t, testpki.Cert{Name: "eps", Server: true, Serial: 2})
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	eps := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	eps.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	eps.StartTLS() // keep-alives on: an idle connection may be used again
	t.Cleanup(eps.Close)

	caFile := filepath.Join(t.TempDir(), "upstream-ca.pem")
	testpki.WriteDated(t, caFile, old.PEM, time.Now().Add(-time.Hour))
	var logs strings.Builder
	var logMu sync.Mutex
	cfg := testConfig(eps.URL, nil)
	cfg.Transport = nil
	cfg.Retry.MaxAttempts = 1
	cfg.TLS = TLSConfig{CAFile: caFile}
	c, err := New(cfg, slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ping := func() error { return c.Ping(context.Background()) }

	if err := ping(); err == nil {
		t.Fatal("an EPS whose CA is not in --upstream-ca was trusted")
	}
	testpki.WriteDated(t, caFile, append(append([]byte{}, old.PEM...), next.PEM...), time.Now().Add(-time.Minute))
	if err := ping(); err != nil {
		t.Fatalf("an EPS whose CA was added to --upstream-ca: %v", err)
	}
	testpki.WriteDated(t, caFile, []byte("-----BEGIN CERTIFICATE-----\ncut short"), time.Now().Add(-30*time.Second))
	for range 2 {
		if err := ping(); err != nil {
			t.Fatalf("an unusable bundle written over the file: the one in use was not kept: %v", err)
		}
	}
	logMu.Lock()
	n := strings.Count(logs.String(), "upstream CAs not renewed")
	logMu.Unlock()
	if n != 1 {
		t.Errorf("an unusable --upstream-ca bundle logged %d times, want once:\n%s", n, logs.String())
	}
	testpki.WriteDated(t, caFile, old.PEM, time.Now())
	if err := ping(); err == nil {
		t.Fatal("an EPS whose CA was removed from --upstream-ca is still trusted")
	}
}
