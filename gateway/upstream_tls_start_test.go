package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

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
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("OpenUpstream: %v", err)
				}
				stop()
				_ = up
				return
			}
			if err == nil {
				stop()
				t.Fatal("OpenUpstream accepted an EPS whose certificate is not trusted")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("OpenUpstream: %v; want it to say %q", err, tt.wantErr)
			}
		})
	}
}

// tlsEPS serves EPS metadata over TLS on 127.0.0.1 with a certificate ca
// issued, until the test ends.
func tlsEPS(t *testing.T, ca *testCA) *httptest.Server {
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
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
