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

// adminWithClientCA starts a gateway whose admin listener serves TLS and
// signs in the certificates of ca (--admin-client-ca, as ops-desk or
// ops-next: viewers), and returns its configuration, ca, another CA (next)
// and the listener's address.
func adminWithClientCA(t *testing.T) (cfg Config, ca, next *testCA, addr string) {
	t.Helper()
	dir := t.TempDir()
	ca, next = newCA(t, "admin test CA"), newCA(t, "admin next CA")
	certFile, keyFile := writeHourOldPair(t, ca, "admin")
	cfg = testConfig()
	cfg.Admin = AdminConfig{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile,
		ClientCAFile: writeFile(t, dir, "clients.pem", ca.pem), CertRoles: "ops-desk=viewer,ops-next=viewer",
		TokensFile: writeFile(t, dir, "tokens", []byte("ops admin ops-token-0123456789abcdef\n"))}
	testpki.WriteDated(t, cfg.Admin.ClientCAFile, ca.pem, time.Now().Add(-time.Hour))
	g := startGateway(t, cfg, newMemoryStore(), false)
	if addr = g.srv.AdminAddr(5 * time.Second); addr == "" {
		t.Fatal("admin listener did not start")
	}
	return cfg, ca, next, addr
}

// TestAdminClientCABundleFollowsItsFile: the admin listener's client CAs
// (--admin-client-ca) follow their file as the front door's do: a CA
// removed from the bundle no longer signs anyone in from the next
// handshake, one added does. Before, the bundle was read at start, and a
// certificate of a CA taken out of it (compromised, retired) kept its
// admin role until a restart.
func TestAdminClientCABundleFollowsItsFile(t *testing.T) {
	cfg, ca, next, addr := adminWithClientCA(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	state := func(from *testCA, name string) error {
		t.Helper()
		c, err := tls.X509KeyPair(from.issue(t, name, false))
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c}}}, Timeout: 5 * time.Second}
		resp, err := client.Get("https://" + addr + "/admin/api/state")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := state(ca, "ops-desk"); err != nil {
		t.Fatalf("a certificate of the admin client CA: %v", err)
	}
	testpki.WriteDated(t, cfg.Admin.ClientCAFile, next.pem, time.Now())
	if err := state(ca, "ops-desk"); err == nil {
		t.Fatal("a certificate of a CA removed from the admin client CAs still signs in")
	}
	if err := state(next, "ops-next"); err != nil {
		t.Fatalf("a certificate of a CA added to the admin client CAs: %v", err)
	}
}
