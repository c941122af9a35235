package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testpki"
)

// TestServerCertificateRenewedOnDisk: the front door's certificate renewed
// on disk is served from the next handshake, without a restart. Before,
// the one read at start was served until the process restarted, so when
// it expired every sender's MHS refused the gateway.
func TestServerCertificateRenewedOnDisk(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	c1, k1 := ca.issue(t, "porxgate", true)
	cfg := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = writeFile(t, dir, "server.pem", c1), writeFile(t, dir, "server.key", k1)
	old := time.Now().Add(-time.Hour)
	testpki.WriteDated(t, cfg.TLSCertFile, c1, old)
	testpki.WriteDated(t, cfg.TLSKeyFile, k1, old)
	tlsCfg, err := ServerTLSConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	served := func() *x509.Certificate {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	first := served()
	c2, k2 := ca.issue(t, "porxgate", true)
	testpki.WriteDated(t, cfg.TLSCertFile, c2, time.Now())
	testpki.WriteDated(t, cfg.TLSKeyFile, k2, time.Now())
	if second := served(); second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("the renewed certificate is not served: still the one read at start")
	}
}

// TestDeliveryCertificateRenewedOnDisk: the certificate the delivery
// client presents to a sender's MHS follows its files too.
func TestDeliveryCertificateRenewedOnDisk(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	srvCert, srvKey := ca.issue(t, "mhs", true)
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	var mu sync.Mutex
	var seen []string
	mhs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.TLS.PeerCertificates[0].SerialNumber.String())
		mu.Unlock()
	}))
	mhs.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	mhs.Config.SetKeepAlivesEnabled(false)
	mhs.StartTLS()
	t.Cleanup(mhs.Close)

	c1, k1 := ca.issue(t, "porxgate", false)
	cfg := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = writeFile(t, dir, "gw.pem", c1), writeFile(t, dir, "gw.key", k1)
	cfg.DeliveryCAFile = writeFile(t, dir, "ca.pem", ca.pem)
	old := time.Now().Add(-time.Hour)
	testpki.WriteDated(t, cfg.TLSCertFile, c1, old)
	testpki.WriteDated(t, cfg.TLSKeyFile, k1, old)
	client, err := DeliveryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func() {
		t.Helper()
		resp, err := client.Get(mhs.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	c2, k2 := ca.issue(t, "porxgate", false)
	testpki.WriteDated(t, cfg.TLSCertFile, c2, time.Now())
	testpki.WriteDated(t, cfg.TLSKeyFile, k2, time.Now())
	get()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Fatalf("certificates presented %v, want the renewed one second", seen)
	}
}
