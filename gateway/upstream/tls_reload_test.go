package upstream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// miniCA issues certificates for one test.
type miniCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newMiniCA(t *testing.T) *miniCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &miniCA{cert: c, key: k}
}

// issue returns PEM certificate and key: a server certificate for
// 127.0.0.1, or a client one valid until notAfter.
func (ca *miniCA) issue(t *testing.T, serial int64, server bool, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "porxgate"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func (ca *miniCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

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
	ca := newMiniCA(t)
	srvCert, srvKey := ca.issue(t, 2, true, time.Now().Add(24*time.Hour))
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
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
	if err := os.WriteFile(caFile, ca.pem(), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	c1, k1 := ca.issue(t, 10, false, time.Now().Add(time.Hour))
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, old)
	cfg := testConfig(srv.URL, nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile, CAFile: caFile}
	c := newClient(t, cfg)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2, k2 := ca.issue(t, 11, false, time.Now().Add(24*time.Hour))
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
	ca := newMiniCA(t)
	dir := t.TempDir()
	c1, k1 := ca.issue(t, 10, false, time.Now().Add(-time.Minute))
	certFile, keyFile := writePair(t, filepath.Join(dir, "client"), c1, k1, time.Now())
	cfg := testConfig("https://127.0.0.1:1", nil)
	cfg.Transport = nil
	cfg.TLS = TLSConfig{CertFile: certFile, KeyFile: keyFile}
	_, err := New(cfg, quiet)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("New with an expired client certificate: %v, want an error saying it expired", err)
	}
}
