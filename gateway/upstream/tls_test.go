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
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir and returns the CA pool and server certificate.
func testPKI(t *testing.T, dir string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "porxgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	cliDER, cliKey := issue(3, "porxgate", x509.ExtKeyUsageClientAuth, false)
	cliKeyDER, _ := x509.MarshalPKCS8PrivateKey(cliKey)
	write("ca.pem", "CERTIFICATE", caDER)
	write("client.pem", "CERTIFICATE", cliDER)
	write("client-key.pem", "PRIVATE KEY", cliKeyDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
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
		tr, err := newBaseTransport(tc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if tr.Proxy == nil {
			t.Fatalf("TLS %+v: transport ignores the proxy environment", tc)
		}
	}
}
