package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	ft, err := ServerTLS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(ft); err != nil {
		t.Fatal(err)
	}
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
