package gateway

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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by ca, for a server on
// 127.0.0.1 or for a client.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMutualTLS serves with TLS and client-certificate verification built
// from files, as Run does, and checks who gets in.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := newCA(t, "HSCN test CA"), newCA(t, "rogue CA")
	srvCert, srvKey := ca.issue(t, "porxgate", true)
	cliCert, cliKey := ca.issue(t, "dispenser MHS", false)
	rogueCert, rogueKey := rogue.issue(t, "intruder", false)

	cfg := testConfig()
	cfg.TLSCertFile = writeFile(t, dir, "server.pem", srvCert)
	cfg.TLSKeyFile = writeFile(t, dir, "server.key", srvKey)
	cfg.TLSClientCAFile = writeFile(t, dir, "clients-ca.pem", ca.pem)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ServerTLSConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeAndWork(ctx, tls.NewListener(ln, tlsCfg)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "https://" + ln.Addr().String()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	client := func(certPEM, keyPEM []byte) *http.Client {
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if certPEM != nil {
			c, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{c}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
	}
	tests := []struct {
		name   string
		client *http.Client
		wantOK bool
	}{
		{"trusted client certificate", client(cliCert, cliKey), true},
		{"no client certificate", client(nil, nil), false},
		{"certificate from another CA", client(rogueCert, rogueKey), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.client.CloseIdleConnections()
			resp, err := tt.client.Get(base + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			if tt.wantOK && (err != nil || resp.StatusCode != 200) {
				t.Fatalf("refused: %v", err)
			}
			if !tt.wantOK && err == nil {
				t.Fatalf("let in with status %d", resp.StatusCode)
			}
			if tt.wantOK {
				ct, action, body := newReq(newID(t, 40)).build()
				if code, resp := post(t, tt.client, base+PathEbXML, ct, action, body); code != http.StatusAccepted {
					t.Errorf("ebXML over mutual TLS: %d\n%s", code, resp)
				}
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "CA")
	cert, key := ca.issue(t, "porxgate", true)
	good := func() Config {
		c := testConfig()
		c.TLSCertFile, c.TLSKeyFile = writeFile(t, dir, "c.pem", cert), writeFile(t, dir, "k.pem", key)
		return c
	}
	tests := []struct {
		name    string
		cfg     func() Config
		wantErr string
	}{
		{"plain", testConfig, ""},
		{"server only", good, ""},
		{"missing key file", func() Config { c := good(); c.TLSKeyFile = filepath.Join(dir, "nope"); return c }, "tls-key"},
		{"client CA not PEM", func() Config {
			c := good()
			c.TLSClientCAFile = writeFile(t, dir, "ca.txt", []byte("not a certificate"))
			return c
		}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ServerTLSConfig(tt.cfg())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, err := DeliveryClient(tt.cfg()); tt.wantErr == "" && err != nil {
				t.Fatalf("DeliveryClient: %v", err)
			}
		})
	}
}

// TestDeliveryClientKeepsAConnectionPerWorker: the delivery client keeps
// an idle connection per delivery worker, so that workers delivering to
// one MHS reuse their connections instead of opening one per message.
func TestDeliveryClientKeepsAConnectionPerWorker(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DeliveryWorkers = 24
	c, err := DeliveryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T, want *http.Transport", c.Transport)
	}
	if tr.MaxIdleConnsPerHost != 24 {
		t.Fatalf("the transport keeps %d idle connections per host, want 24", tr.MaxIdleConnsPerHost)
	}
}
