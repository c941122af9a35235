package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
	ca := newCA(t, "HSCN test CA")
	cfg := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = writeHourOldPair(t, ca, "porxgate")
	tlsCfg, err := ServerTLSConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := handshakeOnly(t, tlsCfg)
	served := func() *x509.Certificate { t.Helper(); return servedCertificate(t, addr, ca.pem) }
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
	client, err := DeliveryClient(cfg, nil)
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

// TestAdminCertificateFollowsItsFiles: the admin listener's certificate
// is read as the front door's is — a renewal written over the files is
// served from the next handshake, one that cannot be used is logged and
// the working one kept, and one already expired fails the start. Before,
// the admin listener read its pair once with no check: a renewal needed a
// restart (the admin page became unreachable when the old one expired),
// and an expired pair started silently.
func TestAdminCertificateFollowsItsFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "admin test CA")
	certFile, keyFile := writeHourOldPair(t, ca, "admin")
	cfg := testConfig()
	cfg.Admin = AdminConfig{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile,
		TokensFile: writeFile(t, dir, "tokens", []byte("ops admin ops-token-0123456789abcdef\n"))}
	log, sink := jsonLogger(slog.LevelInfo)
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, log, NewMetrics())
	_, cancel, done := serveAndWork(t, srv)
	t.Cleanup(func() { cancel(); <-done })
	addr := srv.AdminAddr(5 * time.Second)
	if addr == "" {
		t.Fatal("admin listener did not start")
	}
	served := func() *x509.Certificate { t.Helper(); return servedCertificate(t, addr, ca.pem) }
	first := served()
	c2, k2 := ca.issue(t, "admin", true)
	testpki.WriteDated(t, certFile, c2, time.Now().Add(-time.Minute))
	testpki.WriteDated(t, keyFile, k2, time.Now().Add(-time.Minute))
	second := served()
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("the renewed admin certificate is not served: still the one read at start")
	}
	expired, expiredKey := ca.Issue(t, testpki.Cert{Name: "admin", Server: true, NotAfter: time.Now().Add(-time.Minute)})
	testpki.WriteDated(t, certFile, expired, time.Now())
	testpki.WriteDated(t, keyFile, expiredKey, time.Now())
	if third := served(); third.SerialNumber.Cmp(second.SerialNumber) != 0 {
		t.Errorf("an expired renewal was served (serial %v); want the working one (%v) kept", third.SerialNumber, second.SerialNumber)
	}
	warned := false
	for _, rec := range sink.lines(t) {
		if strings.HasPrefix(fmt.Sprint(rec["msg"]), "admin listener certificate not renewed") {
			warned = true
		}
	}
	if !warned {
		t.Error("an unusable admin certificate renewal was not logged")
	}

	// An expired pair fails the start.
	cfg.Admin.TLSCertFile, cfg.Admin.TLSKeyFile = writeFile(t, dir, "expired.pem", expired), writeFile(t, dir, "expired.key", expiredKey)
	_, cancel2, done2 := serveAndWork(t, NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics()))
	defer cancel2()
	select {
	case err := <-done2:
		if err == nil || !strings.Contains(err.Error(), "admin tls") {
			t.Fatalf("an expired admin certificate: ServeAndWork = %v, want an admin tls error", err)
		}
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatal("the gateway started with an expired admin certificate")
	}
}

// TestRefusedFrontDoorRenewalLogged: a renewal of the front door's
// certificate that cannot be used (here expired) is not served, and the
// operator is told. Before, it was passed over silently: the operator
// learnt of it only when the old certificate expired and every MHS
// refused the gateway.
func TestRefusedFrontDoorRenewalLogged(t *testing.T) {
	ca := newCA(t, "HSCN test CA")
	cfg := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = writeHourOldPair(t, ca, "porxgate")
	log, sink := jsonLogger(slog.LevelInfo)
	tlsCfg, err := ServerTLSConfig(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	expired, expiredKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Server: true, NotAfter: time.Now().Add(-time.Minute)})
	testpki.WriteDated(t, cfg.TLSCertFile, expired, time.Now())
	testpki.WriteDated(t, cfg.TLSKeyFile, expiredKey, time.Now())
	got, err := tlsCfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err := x509.ParseCertificate(got.Certificate[0]); err != nil || time.Now().After(leaf.NotAfter) {
		t.Fatalf("the expired renewal is served (%v)", err)
	}
	for _, rec := range sink.lines(t) {
		if strings.HasPrefix(fmt.Sprint(rec["msg"]), "front door certificate not renewed") {
			return
		}
	}
	t.Error("an unusable renewal of the front door's certificate was not logged")
}

// writeHourOldPair writes a server certificate for name, issued by ca, and
// its key into a new directory, dated an hour ago (so that a renewal
// written now is seen as newer), and returns their paths.
func writeHourOldPair(t *testing.T, ca *testCA, name string) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	c, k := ca.issue(t, name, true)
	certFile, keyFile = writeFile(t, dir, "server.pem", c), writeFile(t, dir, "server.key", k)
	old := time.Now().Add(-time.Hour)
	testpki.WriteDated(t, certFile, c, old)
	testpki.WriteDated(t, keyFile, k, old)
	return certFile, keyFile
}

// handshakeOnly listens on a loopback socket with cfg until the test
// ends, completes the handshake of each connection and closes it, and
// returns its address.
func handshakeOnly(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
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
	return ln.Addr().String()
}

// TestDeliveryCABundleFollowsItsFile: the CAs the delivery client trusts
// for MHSs' server certificates (--delivery-ca) follow their file: an MHS
// whose certificate a CA added to the bundle issued is delivered to from
// the next request, without a restart. Before, the bundle was read at
// start: every answer to that MHS failed its retries (and went to the
// dead letters) until the gateway was restarted.
func TestDeliveryCABundleFollowsItsFile(t *testing.T) {
	dir := t.TempDir()
	ca, next := newCA(t, "HSCN test CA"), newCA(t, "MHS next CA")
	srvCert, srvKey := next.issue(t, "mhs", true)
	kp, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	mhs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	mhs.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	mhs.StartTLS()
	t.Cleanup(mhs.Close)

	cfg := testConfig()
	cfg.DeliveryCAFile = writeFile(t, dir, "delivery-ca.pem", ca.pem)
	testpki.WriteDated(t, cfg.DeliveryCAFile, ca.pem, time.Now().Add(-time.Hour))
	log, sink := jsonLogger(slog.LevelInfo)
	client, err := DeliveryClient(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	get := func() error {
		resp, err := client.Get(mhs.URL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := get(); err == nil {
		t.Fatal("an MHS whose CA is not in the delivery CAs was trusted")
	}
	testpki.WriteDated(t, cfg.DeliveryCAFile, append(append([]byte{}, ca.pem...), next.pem...), time.Now().Add(-time.Minute))
	if err := get(); err != nil {
		t.Fatalf("an MHS whose CA was added to the delivery CAs: %v", err)
	}
	testpki.WriteDated(t, cfg.DeliveryCAFile, []byte("not a certificate"), time.Now())
	if err := get(); err != nil {
		t.Fatalf("an unusable bundle written over the file: the one in use was not kept: %v", err)
	}
	if n := countLogs(t, sink, "delivery CAs not renewed"); n != 1 {
		t.Errorf("an unusable delivery CA bundle logged %d times, want once", n)
	}
}

// servedCertificate dials addr over TLS, trusting the CA in caPEM, and
// returns the certificate the server presents.
func servedCertificate(t *testing.T, addr string, caPEM []byte) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}
