package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/porxgate/porxgate/internal/testpki"
)

// TestFrontDoorTLSMetrics: the front door reports when its certificate
// and each client CA expire, when each client CRL is due, and how many
// clients it refused as revoked, and follows a CRL renewed on disk. Before,
// /metrics said nothing of them: an operator learnt of an expired
// certificate or a stale CRL from the refusals.
func TestFrontDoorTLSMetrics(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	next := time.Now().Add(6 * time.Hour).Truncate(time.Second)
	cfg.TLSClientCRLFiles = writeFile(t, dir, "clients.crl", nil)
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{Revoked: []int64{9}, NextUpdate: next}), time.Now().Add(-time.Hour))
	ft, reg := frontDoorMetrics(t, cfg)
	// Two handshakes of a revoked client, over a real socket.
	addr := handshakeOnly(t, ft.Config)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	revoked, err := tls.X509KeyPair(ca.Issue(t, testpki.Cert{Name: "revoked MHS", Serial: 9}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{revoked}})
		if err == nil {
			_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's Finished
			conn.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "bad certificate") {
			t.Fatalf("a revoked client: %v, want a bad certificate alert", err)
		}
	}
	got := gatherTLS(t, reg)
	hour := float64(time.Now().Add(time.Hour).Unix())
	for key, want := range map[string]func(float64) bool{
		"porxgate_tls_certificate_expiry_timestamp_seconds/front_door":                   func(v float64) bool { return v > hour-120 && v < hour+120 },
		"porxgate_tls_certificate_expiry_timestamp_seconds/client_ca":                    func(v float64) bool { return v > hour },
		"porxgate_tls_client_crl_next_update_timestamp_seconds/" + cfg.TLSClientCRLFiles: func(v float64) bool { return v == float64(next.Unix()) },
		"porxgate_tls_client_revoked_total":                                              func(v float64) bool { return v == 2 },
	} {
		if v, ok := got[key]; !ok || !want(v) {
			t.Errorf("%s = %v (reported: %v)", key, v, ok)
		}
	}
	later := next.Add(24 * time.Hour)
	testpki.WriteDated(t, cfg.TLSClientCRLFiles, ca.CRL(t, testpki.CRL{NextUpdate: later, ThisUpdate: time.Now().Add(-time.Minute)}), time.Now())
	if v := gatherTLS(t, reg)["porxgate_tls_client_crl_next_update_timestamp_seconds/"+cfg.TLSClientCRLFiles]; v != float64(later.Unix()) {
		t.Errorf("the renewed CRL is not reported: nextUpdate %v, want %v", v, later.Unix())
	}
}

// frontDoorMetrics returns the front door's TLS as cfg configures it and a
// pedantic registry it is registered with.
func frontDoorMetrics(t *testing.T, cfg Config) (*FrontDoorTLS, *prometheus.Registry) {
	t.Helper()
	ft, err := ServerTLS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(ft); err != nil {
		t.Fatal(err)
	}
	return ft, reg
}

// gatherTLS gathers reg into values keyed by family name and its role or
// file label ("name/role").
func gatherTLS(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "role" || l.GetName() == "file" {
					key += "/" + l.GetValue()
				}
			}
			got[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return got
}

// TestTLSMetricsRepeatedCertificates: a certificate that a bundle holds
// twice (a CA appended again when bundles are joined), two CAs of one name
// and serial (a CA re-keyed under its name) and two revocation lists of one
// issuer name in one file are each one series: the earliest notAfter, the
// earliest nextUpdate. Before, the collector sent the same series twice,
// and the registry's Gather failed: /metrics answered 500 with no metric at
// all, so every alert on porxgate went blind because of one line of a CA
// bundle.
func TestTLSMetricsRepeatedCertificates(t *testing.T) {
	first := newCA(t, "HSCN test CA")
	rekeyed := newCA(t, "HSCN test CA") // same subject, same serial, another key
	soon := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	later := time.Now().Add(5 * time.Hour).Truncate(time.Second)
	for _, tt := range []struct {
		name   string
		bundle []byte
		crls   func(dir string) string // the CRL file, "" for none
		want   map[string]float64
	}{
		{name: "a CA twice in the bundle",
			bundle: append(append([]byte{}, first.pem...), first.pem...)},
		{name: "two CAs of one name and serial, a CRL of each in one file",
			bundle: append(append([]byte{}, first.pem...), rekeyed.pem...),
			crls: func(dir string) string {
				return writeFile(t, dir, "clients.crl", append(first.CRL(t, testpki.CRL{NextUpdate: later}), rekeyed.CRL(t, testpki.CRL{NextUpdate: soon})...))
			},
			want: map[string]float64{"porxgate_tls_client_crl_next_update_timestamp_seconds/": float64(soon.Unix())}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := mutualTLSConfig(t, dir, first)
			cfg.TLSClientCAFile = writeFile(t, dir, "bundle.pem", tt.bundle)
			if tt.crls != nil {
				cfg.TLSClientCRLFiles = tt.crls(dir)
			}
			_, reg := frontDoorMetrics(t, cfg)
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			t.Cleanup(srv.Close)
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/metrics answered %d:\n%s", resp.StatusCode, body)
			}
			got := gatherTLS(t, reg)
			if v := got["porxgate_tls_certificate_expiry_timestamp_seconds/client_ca"]; v <= float64(time.Now().Unix()) {
				t.Errorf("client_ca expiry %v, want the CA's notAfter", v)
			}
			for key, want := range tt.want {
				key += cfg.TLSClientCRLFiles
				if got[key] != want {
					t.Errorf("%s = %v, want %v (the earliest)", key, got[key], want)
				}
			}
		})
	}
}

// TestServedChainExpiry: the front door's expiry series cover every
// certificate of the chain it serves (--tls-cert: its certificate and the
// intermediate CAs after it), each as a series of role front_door. Before,
// only the first was reported: an intermediate expiring before it made
// every MHS refuse the gateway with no PorxgateCertificateExpiring first.
func TestServedChainExpiry(t *testing.T) {
	dir := t.TempDir()
	root := newCA(t, "HSCN root CA")
	soon := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	later := time.Now().Add(6 * time.Hour).Truncate(time.Second)
	mid := root.Intermediate(t, "HSCN issuing CA", soon)
	leaf, key := mid.Issue(t, testpki.Cert{Name: "porxgate", Server: true, NotAfter: later})
	cfg := testConfig()
	cfg.TLSCertFile = writeFile(t, dir, "chain.pem", append(append([]byte{}, leaf...), mid.PEM...))
	cfg.TLSKeyFile = writeFile(t, dir, "server.key", key)
	_, reg := frontDoorMetrics(t, cfg)
	if got, want := expiries(t, reg, "front_door"), []float64{float64(soon.Unix()), float64(later.Unix())}; !slices.Equal(got, want) {
		t.Fatalf("front_door expiries %v, want %v (the intermediate's, the certificate's)", got, want)
	}
}
