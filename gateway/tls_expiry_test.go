package gateway

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/internal/testpki"
)

// TestUpstreamAndAdminCertificateExpiry: /metrics reports when the EPS
// client certificate (--upstream-client-cert, and each party's own from
// --upstream-identities), the CAs trusted for EPS (--upstream-ca) and the
// admin listener's certificate (--admin-tls-cert) expire, under the family
// and labels of the front door's (porxgate_tls_certificate_expiry_timestamp_seconds,
// roles upstream_client, upstream_ca, admin), as the files hold them now: a
// renewal written over them is reported. Before, only the front door's
// certificate and client CAs were: the EPS client certificate expired
// without a warning and every call to EPS then failed its handshake.
func TestUpstreamAndAdminCertificateExpiry(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	eps := tlsEPS(t, ca)

	// The default identity's pair expires in 3 hours; the party's in 4,
	// and a party sharing the default pair adds no series.
	start := time.Now().Truncate(time.Second)
	inHours := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	pair := func(name string, notAfter time.Time) (certFile, keyFile string) {
		c, k := ca.Issue(t, testpki.Cert{Name: name, Serial: notAfter.UnixNano(), NotAfter: notAfter})
		certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		testpki.WriteDated(t, certFile, c, time.Now().Add(-time.Hour))
		testpki.WriteDated(t, keyFile, k, time.Now().Add(-time.Hour))
		return certFile, keyFile
	}
	cfg := DefaultConfig()
	cfg.UpstreamURL = eps.URL + "/FHIR/R4"
	cfg.Upstream.ClientCertFile, cfg.Upstream.ClientKeyFile = pair("porxgate", inHours(3))
	cfg.Upstream.CAFile = writeFile(t, dir, "eps-ca.pem", ca.pem)
	partyCert, partyKey := pair("party", inHours(4))
	cfg.UpstreamIdentitiesFile = writeFile(t, dir, "identities.json", []byte(`{
		"PARTY-A": {"clientCert": "`+partyCert+`", "clientKey": "`+partyKey+`"},
		"PARTY-B": {"clientCert": "`+cfg.Upstream.ClientCertFile+`", "clientKey": "`+cfg.Upstream.ClientKeyFile+`"}}`))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	_, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	want := func(role string, at ...time.Time) {
		t.Helper()
		var w []float64
		for _, a := range at {
			w = append(w, float64(a.Unix()))
		}
		if got := expiries(t, m.Registry, role); !slices.Equal(got, w) {
			t.Errorf("role %s: expiries %v, want %v", role, got, w)
		}
	}
	want("upstream_client", inHours(3), inHours(4))
	if got := expiries(t, m.Registry, "upstream_ca"); len(got) != 1 || got[0] < float64(inHours(24).Unix()) {
		t.Errorf("role upstream_ca: expiries %v, want the CA's notAfter", got)
	}

	// Renewed on disk: the renewal is reported.
	c2, k2 := ca.Issue(t, testpki.Cert{Name: "porxgate", Serial: 77, NotAfter: inHours(30)})
	testpki.WriteDated(t, cfg.Upstream.ClientCertFile, c2, time.Now())
	testpki.WriteDated(t, cfg.Upstream.ClientKeyFile, k2, time.Now())
	want("upstream_client", inHours(4), inHours(30))

	// The admin listener's certificate and the CA of its client
	// certificates, from the moment it listens.
	certFile, keyFile := pair("admin", inHours(5))
	cfg.Admin = AdminConfig{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile,
		ClientCAFile: writeFile(t, dir, "admin-ca.pem", ca.pem),
		TokensFile:   writeFile(t, dir, "tokens", []byte("ops admin ops-token-0123456789abcdef\n"))}
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), m)
	_, cancel, done := serveAndWork(t, srv)
	t.Cleanup(func() { cancel(); <-done })
	if srv.AdminAddr(5*time.Second) == "" {
		t.Fatal("admin listener did not start")
	}
	want("admin", inHours(5))
	if got, want := expiries(t, m.Registry, "admin_client_ca"), expiries(t, m.Registry, "upstream_ca"); len(got) != 1 || !slices.Equal(got, want) {
		t.Errorf("role admin_client_ca: expiries %v, want the CA's notAfter %v", got, want)
	}
}

// expiries returns the values of porxgate_tls_certificate_expiry_timestamp_seconds
// of role in reg, sorted.
func expiries(t *testing.T, reg *prometheus.Registry, role string) []float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, mf := range families {
		if mf.GetName() != tlsExpiryName {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "role" && l.GetValue() == role {
					out = append(out, m.GetGauge().GetValue())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestDeliveryCAExpiry: /metrics of a running gateway reports when each CA
// of --delivery-ca expires (role delivery_ca), as the file holds them now.
// Before, the CAs trusted for the MHSs' certificates were the one bundle
// whose expiry /metrics did not report: PorxgateCertificateExpiring could
// not warn before every delivery to that CA's MHSs failed.
func TestDeliveryCAExpiry(t *testing.T) {
	dir := t.TempDir()
	ca, next := newCA(t, "MHS CA"), newCA(t, "MHS next CA")
	cfg := testConfig()
	cfg.DeliveryCAFile = writeFile(t, dir, "delivery-ca.pem", nil)
	testpki.WriteDated(t, cfg.DeliveryCAFile, ca.pem, time.Now().Add(-time.Hour))
	at := runGateway(t, cfg)
	scrape := func() int {
		resp, err := http.Get("http://" + at.Addr + "/metrics")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Count(string(body), tlsExpiryName+`{role="delivery_ca"`)
	}
	if n := scrape(); n != 1 {
		t.Fatalf("%d delivery_ca series on /metrics, want 1", n)
	}
	testpki.WriteDated(t, cfg.DeliveryCAFile, append(append([]byte{}, ca.pem...), next.pem...), time.Now())
	if n := scrape(); n != 2 {
		t.Fatalf("after a CA was added: %d delivery_ca series, want 2", n)
	}
}
