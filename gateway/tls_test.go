package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/testpki"
)

// testCA is a certificate authority made for one test (testpki.CA), with
// its certificate as PEM in pem.
type testCA struct {
	*testpki.CA
	pem []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := testpki.NewCA(t, name)
	return &testCA{CA: ca, pem: ca.PEM}
}

// issue returns a PEM certificate and key signed by ca, for a server on
// 127.0.0.1 or for a client.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	return ca.Issue(t, testpki.Cert{Name: name, Server: server})
}

// serveOverTLS serves srv on a loopback socket over the TLS configuration
// cfg names (ServeAndWork with its workers, else Serve) until the test
// ends, and returns its https base URL. The TLS configuration and its
// listener log to srv's logger, as Run's do.
func serveOverTLS(t *testing.T, srv *Server, cfg Config, withWorkers bool) string {
	t.Helper()
	ft, err := ServerTLS(cfg, srv.log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		if withWorkers {
			done <- srv.ServeAndWork(ctx, ft.Listener(ln, cfg.MaxHandshakesPerClient, srv.log))
			return
		}
		done <- srv.Serve(ctx, ft.Listener(ln, cfg.MaxHandshakesPerClient, srv.log))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "https://" + ln.Addr().String()
}

// mutualTLSConfig is testConfig serving over TLS with a server
// certificate ca issues and client certificates ca signs required (its
// files in dir), any ASID allowed on the tracker API.
func mutualTLSConfig(t *testing.T, dir string, ca *testCA) Config {
	t.Helper()
	srvCert, srvKey := ca.issue(t, "porxgate", true)
	cfg := testConfig()
	cfg.TLSCertFile = writeFile(t, dir, "server.pem", srvCert)
	cfg.TLSKeyFile = writeFile(t, dir, "server.key", srvKey)
	cfg.TLSClientCAFile = writeFile(t, dir, "clients-ca.pem", ca.pem)
	cfg.TrackerASIDs = TrackerAnyASID
	return cfg
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
	cliCert, cliKey := ca.issue(t, "dispenser MHS", false)
	rogueCert, rogueKey := rogue.issue(t, "intruder", false)

	cfg := mutualTLSConfig(t, dir, ca)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()))
	base := serveOverTLS(t, srv, cfg, true)

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
			_, err := ServerTLSConfig(tt.cfg(), nil)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, err := DeliveryClient(tt.cfg(), nil); tt.wantErr == "" && err != nil {
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
	c, err := DeliveryClient(cfg, nil)
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
