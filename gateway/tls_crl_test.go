package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/testpki"
)

// TestRevokedClientRefused: with --tls-client-crl, a client certificate
// the CA's revocation list revokes is refused in the handshake and the
// refusal logged, on both doors' listener, while the CA's other clients
// get in; a list written over the file revokes from the next handshake
// (a session resumed from before included); a list past its nextUpdate
// still revokes what it lists, lets the others in and is logged as
// stale; and a list that cannot be used (not signed by a CA of the
// bundle, older than the one in use) is logged and the one in use kept.
// Before, there was no revocation at all: a revoked supplier certificate
// was accepted until it expired.
func TestRevokedClientRefused(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := newCA(t, "HSCN test CA"), newCA(t, "HSCN test CA") // rogue: the same name, another key
	cfg := mutualTLSConfig(t, dir, ca)
	cfg.TLSClientCRLFiles = writeFile(t, dir, "clients.crl", nil)
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{7001}}), time.Now().Add(-time.Hour))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log, sink := jsonLogger(slog.LevelInfo)
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, log, NewMetrics(), WithProcessor(newFakeProcessor()))
	base := serveOverTLS(t, srv, cfg, false)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	client := func(serial int64) func() (bool, error) {
		return mtlsGetCert(t, base, roots, ca, testpki.Cert{Name: fmt.Sprintf("MHS %d", serial), Serial: serial})
	}
	revoked, good, later := client(7001), client(7002), client(7003)

	if _, err := revoked(); err == nil {
		t.Fatal("a revoked client certificate was let in")
	}
	if _, err := good(); err != nil {
		t.Fatalf("a client certificate the CRL does not list: %v", err)
	}
	if _, err := later(); err != nil {
		t.Fatalf("a client certificate the CRL does not list: %v", err)
	}
	if n := countLogs(t, sink, "client certificate refused: revoked"); n != 1 {
		t.Errorf("refusals of a revoked certificate logged %d times, want 1", n)
	}

	// A newer list revokes 7003 too: refused from the next handshake,
	// though it would resume a session.
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{7001, 7003}, ThisUpdate: time.Now().Add(-30 * time.Minute)}), time.Now().Add(-30*time.Minute))
	if _, err := later(); err == nil {
		t.Fatal("a certificate revoked by a renewed CRL was let in (resuming its session)")
	}
	if resumed, err := good(); err != nil || !resumed {
		t.Fatalf("a client the renewed CRL does not list: %v (resumed: %v, want true)", err, resumed)
	}

	// Lists that cannot be used: the one in use is kept, each refusal logged.
	for _, bad := range [][]byte{
		rogue.CRL(t, testpki.CRL{ThisUpdate: time.Now().Add(-10 * time.Minute)}),                   // signed by a CA not in the bundle
		ca.CRL(t, testpki.CRL{Revoked: []int64{7001}, ThisUpdate: time.Now().Add(-2 * time.Hour)}), // older: would let 7003 back
	} {
		testpki.WriteDated(t, cfg.TLSClientCRLFiles, bad, time.Now().Add(-10*time.Minute))
		if _, err := later(); err == nil {
			t.Fatal("an unusable CRL written over the file let a revoked certificate in")
		}
	}
	if n := countLogs(t, sink, "front door client CRL not renewed"); n != 2 {
		t.Errorf("unusable CRLs logged %d times, want 2", n)
	}

	// Past its nextUpdate: still revokes what it lists; the others get in;
	// logged once as stale.
	stale := ca.CRL(t, testpki.CRL{Revoked: []int64{7001, 7003}, ThisUpdate: time.Now().Add(-5 * time.Minute), NextUpdate: time.Now().Add(-time.Minute)})
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, stale, time.Now())
	if _, err := later(); err == nil {
		t.Fatal("a certificate a stale CRL revokes was let in")
	}
	if _, err := good(); err != nil {
		t.Fatalf("a stale CRL refused a client it does not list: %v", err)
	}
	if _, err := good(); err != nil {
		t.Fatalf("a stale CRL refused a client it does not list: %v", err)
	}
	if n := countLogs(t, sink, "front door client CRL past its nextUpdate"); n != 1 {
		t.Errorf("a stale CRL logged %d times, want once", n)
	}
}

// TestClientCRLStart: a CRL that no CA of the client CA bundle signed, or
// a file that holds none, fails the start, naming the file; a CRL without
// a client CA bundle fails the configuration.
func TestClientCRLStart(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, "HSCN test CA"), newCA(t, "other CA")
	tests := []struct {
		name, wantErr string
		crl           []byte
	}{
		{"signed by a CA of the bundle", "", ca.CRL(t, testpki.CRL{})},
		{"signed by another CA", "no CA of the client CA bundle has this name", other.CRL(t, testpki.CRL{})},
		{"not a CRL", "no CRL found", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mutualTLSConfig(t, dir, ca)
			cfg.TLSClientCRLFiles = writeFile(t, dir, "c.crl", tt.crl)
			_, err := ServerTLSConfig(cfg, nil)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "c.crl")) {
				t.Fatalf("err = %v, want %q naming the file", err, tt.wantErr)
			}
		})
	}
	cfg := testConfig()
	cfg.TLSClientCRLFiles = "x.crl"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "tls-client-crl") {
		t.Fatalf("a CRL without --tls-client-ca: %v, want a tls-client-crl error", err)
	}
}

// TestRevokedClientRefusedResumingTLS12: a client on TLS 1.2 whose
// certificate a CRL written since revokes cannot resume the session it
// had (TestRevokedClientRefused covers TLS 1.3).
func TestRevokedClientRefusedResumingTLS12(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	cfg.TLSClientCRLFiles = writeFile(t, dir, "clients.crl", nil)
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{}), time.Now().Add(-time.Hour))
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()))
	base := serveOverTLS(t, srv, cfg, false)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	c, err := tls.X509KeyPair(ca.Issue(t, testpki.Cert{Name: "dispenser MHS", Serial: 77}))
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c}, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func() (bool, error) {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.TLS.DidResume, nil
	}
	for i := range 2 {
		if resumed, err := get(); err != nil || resumed != (i == 1) {
			t.Fatalf("call %d: %v (resumed %v, want %v)", i+1, err, resumed, i == 1)
		}
	}
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{77}, ThisUpdate: time.Now().Add(-time.Minute)}), time.Now())
	if _, err := get(); err == nil {
		t.Fatal("a revoked client resumed its TLS 1.2 session")
	}
}

// countLogs counts the lines of sink whose message starts with prefix.
func countLogs(t *testing.T, sink *syncBuffer, prefix string) int {
	t.Helper()
	n := 0
	for _, rec := range sink.lines(t) {
		if strings.HasPrefix(fmt.Sprint(rec["msg"]), prefix) {
			n++
		}
	}
	return n
}
