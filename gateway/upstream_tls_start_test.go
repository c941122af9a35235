package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/testnet"
)

// TestOpenUpstreamChecksServerCertificate: an EPS whose certificate the
// gateway does not trust (another CA, another name) fails the start with
// a clear error, rather than every accepted message waiting in the store
// behind a certificate error that no retry can cure. A trusted one opens;
// an EPS not reachable at start is no reason to refuse to start.
func TestOpenUpstreamChecksServerCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, "eps-ca"), newCA(t, "other-ca")
	srv := tlsEPS(t, ca)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := testnet.RefusingAddr(t)

	tests := []struct {
		name, url, ca, wantErr string
	}{
		{"trusted", "https://127.0.0.1:" + port + "/FHIR/R4", writeFile(t, dir, "ca.pem", ca.pem), ""},
		{"another CA", "https://127.0.0.1:" + port + "/FHIR/R4", writeFile(t, dir, "other.pem", other.pem), "certificate"},
		{"another name", "https://localhost:" + port + "/FHIR/R4", writeFile(t, dir, "ca2.pem", ca.pem), "certificate"},
		{"not reachable", "https://" + closed + "/FHIR/R4", writeFile(t, dir, "ca3.pem", ca.pem), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.UpstreamURL = tt.url
			cfg.Upstream.CAFile = tt.ca
			openUpstreamOrRefuse(t, cfg, tt.wantErr)
		})
	}
}

// openUpstreamOrRefuse opens the upstream cfg names and checks that it
// opens (wantErr empty) or fails the start with an error saying wantErr.
func openUpstreamOrRefuse(t *testing.T, cfg Config, wantErr string) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
	if wantErr == "" {
		if err != nil {
			t.Fatalf("OpenUpstream: %v", err)
		}
		stop()
		_ = up
		return
	}
	if err == nil {
		stop()
		t.Fatalf("OpenUpstream opened an EPS that fails every call (want an error saying %q)", wantErr)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("OpenUpstream: %v; want it to say %q", err, wantErr)
	}
}

// TestOpenUpstreamChecksClientCertificate: an EPS on mutual TLS that
// refuses porxgate's handshake — it demands a client certificate and none
// is configured, or it does not take the one configured — fails the start
// naming the client certificate, as an untrusted server certificate does;
// before, the start went on with "EPS not reachable at start" logged and
// every accepted message waited in the store for a handshake no retry
// gets through. A certificate EPS takes opens.
func TestOpenUpstreamChecksClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, "eps-ca"), newCA(t, "other-ca")
	okCert, okKey := ca.issue(t, "porxgate", false)
	badCert, badKey := other.issue(t, "porxgate", false)
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	tests := []struct {
		name            string
		tlsVersion      uint16
		certPEM, keyPEM []byte
		wantErr         string
	}{
		{"taken", tls.VersionTLS13, okCert, okKey, ""},
		{"none, TLS 1.3", tls.VersionTLS13, nil, nil, "no client certificate configured"},
		{"none, TLS 1.2", tls.VersionTLS12, nil, nil, "no client certificate configured"},
		{"another CA's", tls.VersionTLS13, badCert, badKey, "refused porxgate's TLS handshake (client certificate"},
		{"another CA's, TLS 1.2", tls.VersionTLS12, badCert, badKey, "refused porxgate's TLS handshake (client certificate"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tlsEPS(t, ca, func(c *tls.Config) {
				c.ClientAuth, c.ClientCAs, c.MaxVersion = tls.RequireAndVerifyClientCert, ca.pool(t), tt.tlsVersion
			})
			cfg := DefaultConfig()
			cfg.UpstreamURL = "https://" + srv.Listener.Addr().String() + "/FHIR/R4"
			cfg.Upstream.CAFile = caFile
			if tt.certPEM != nil {
				cfg.Upstream.ClientCertFile = writeFile(t, dir, fmt.Sprintf("client%d.pem", i), tt.certPEM)
				cfg.Upstream.ClientKeyFile = writeFile(t, dir, fmt.Sprintf("client%d.key", i), tt.keyPEM)
			}
			openUpstreamOrRefuse(t, cfg, tt.wantErr)
		})
	}
}

// tlsEPS serves EPS metadata over TLS on 127.0.0.1 with a certificate ca
// issued, until the test ends; each of opts amends its TLS configuration.
func tlsEPS(t *testing.T, ca *testCA, opts ...func(*tls.Config)) *httptest.Server {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, "eps", true) // for 127.0.0.1
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests want
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	for _, o := range opts {
		o(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// pool is a certificate pool holding ca.
func (ca *testCA) pool(t *testing.T) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(ca.pem) {
		t.Fatal("CA PEM not appended")
	}
	return p
}

// TestOpenUpstreamChecksPartyClientCertificates: a per-party identity's
// client certificate (--upstream-identities clientCert) that EPS refuses
// in the TLS handshake (another CA's) fails the start naming the party,
// as the default identity's does; before, the start went on and the
// party's first message waited in the store behind a handshake no retry
// gets through, while the default identity's certificate was checked.
// A party whose certificate EPS takes opens.
func TestOpenUpstreamChecksPartyClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, "eps-ca"), newCA(t, "other-ca")
	defCert, defKey := ca.issue(t, "porxgate", false)
	okCert, okKey := ca.issue(t, "party", false)
	badCert, badKey := other.issue(t, "party", false)
	srv := tlsEPS(t, ca, func(c *tls.Config) {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, ca.pool(t)
	})
	tests := []struct {
		name            string
		certPEM, keyPEM []byte
		wantErr         string
	}{
		{"taken", okCert, okKey, ""},
		{"another CA's", badCert, badKey, "EPS client of party YES-0000806: EPS refused porxgate's TLS handshake (client certificate"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.UpstreamURL = "https://" + srv.Listener.Addr().String() + "/FHIR/R4"
			cfg.Upstream.CAFile = writeFile(t, dir, fmt.Sprintf("ca%d.pem", i), ca.pem)
			cfg.Upstream.ClientCertFile = writeFile(t, dir, fmt.Sprintf("default%d.pem", i), defCert)
			cfg.Upstream.ClientKeyFile = writeFile(t, dir, fmt.Sprintf("default%d.key", i), defKey)
			cert := writeFile(t, dir, fmt.Sprintf("party%d.pem", i), tt.certPEM)
			key := writeFile(t, dir, fmt.Sprintf("party%d.key", i), tt.keyPEM)
			cfg.UpstreamIdentitiesFile = writeFile(t, dir, fmt.Sprintf("identities%d.json", i),
				[]byte(`{"YES-0000806": {"clientCert": "`+cert+`", "clientKey": "`+key+`"}}`))
			openUpstreamOrRefuse(t, cfg, tt.wantErr)
		})
	}
}
