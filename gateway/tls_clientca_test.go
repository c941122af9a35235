package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/testpki"
)

// mtlsGet returns a function that opens a new connection to base (no
// keep-alive; a session the server gave before is resumed) presenting a
// client certificate ca issues for name, and says why GET /healthz was
// not answered 200 (nil: it was), and whether the TLS session was resumed.
func mtlsGet(t *testing.T, base string, roots *x509.CertPool, ca *testCA, name string) func() (resumed bool, err error) {
	t.Helper()
	return mtlsGetCert(t, base, roots, ca, testpki.Cert{Name: name})
}

// mtlsGetCert is mtlsGet with the client certificate c describes.
func mtlsGetCert(t *testing.T, base string, roots *x509.CertPool, ca *testCA, cert testpki.Cert) func() (resumed bool, err error) {
	t.Helper()
	c, err := tls.X509KeyPair(ca.Issue(t, cert))
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c},
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}, Timeout: 5 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return func() (bool, error) {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("status %d", resp.StatusCode)
		}
		return resp.TLS.DidResume, nil
	}
}

// TestClientCABundleFollowsItsFile: the CAs whose client certificates the
// front door accepts (--tls-client-ca) follow their file, as the server
// certificate does: a CA added to the bundle is trusted from the next
// handshake, one removed is no longer trusted (a session resumed from
// before included), and a bundle written over the file that cannot be
// used is logged and the one in use kept. Before, the bundle was read once
// at start: adding a supplier's new CA, or removing a compromised one,
// needed a restart of every replica.
func TestClientCABundleFollowsItsFile(t *testing.T) {
	dir := t.TempDir()
	hscn, next := newCA(t, "HSCN test CA"), newCA(t, "HSCN next CA")
	cfg := mutualTLSConfig(t, dir, hscn)
	testpki.WriteDated(t, cfg.TLSClientCAFile, hscn.pem, time.Now().Add(-time.Hour))
	log, sink := jsonLogger(slog.LevelInfo)
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, log, NewMetrics(), WithProcessor(newFakeProcessor()))
	base := serveOverTLS(t, srv, cfg, false)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(hscn.pem)
	getHSCN := mtlsGet(t, base, roots, hscn, "dispenser MHS")
	getNext := mtlsGet(t, base, roots, next, "prescriber MHS")
	fromHSCN := func() error { _, err := getHSCN(); return err }
	fromNext := func() error { _, err := getNext(); return err }
	if err := fromHSCN(); err != nil {
		t.Fatalf("a client of the CA in the bundle: %v", err)
	}
	if err := fromNext(); err == nil {
		t.Fatal("a client of a CA not in the bundle was let in")
	}

	// A CA added to the bundle.
	testpki.WriteDated(t, cfg.TLSClientCAFile, append(append([]byte{}, hscn.pem...), next.pem...), time.Now().Add(-30*time.Minute))
	if err := fromNext(); err != nil {
		t.Fatalf("a client of a CA added to the bundle is still refused: %v", err)
	}
	if resumed, err := getHSCN(); err != nil || !resumed {
		t.Fatalf("a client of the CA kept in the bundle: %v (resumed its session: %v, want true)", err, resumed)
	}

	// A CA removed from the bundle: refused, even resuming a session.
	testpki.WriteDated(t, cfg.TLSClientCAFile, next.pem, time.Now().Add(-20*time.Minute))
	if err := fromHSCN(); err == nil {
		t.Fatal("a client of a CA removed from the bundle is still let in")
	}
	if err := fromNext(); err != nil {
		t.Fatalf("a client of the CA left in the bundle: %v", err)
	}

	// A bundle that cannot be used: logged, the one in use kept.
	testpki.WriteDated(t, cfg.TLSClientCAFile, []byte("not a certificate"), time.Now())
	if err := fromNext(); err != nil {
		t.Fatalf("an unusable bundle written over the file: the one in use was not kept: %v", err)
	}
	if err := fromHSCN(); err == nil {
		t.Fatal("an unusable bundle written over the file let in a client of a CA removed before")
	}
	if warned := countLogs(t, sink, "front door client CAs not renewed"); warned != 1 {
		t.Errorf("an unusable client CA bundle was logged %d times, want once", warned)
	}
}
