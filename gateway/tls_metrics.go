package gateway

import (
	"crypto/x509"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/certfile"
)

// tlsExpiryName and tlsExpiryHelp name and describe the expiry of the
// certificates the gateway relies on; each role's series come from a
// certExpiry of its own.
const (
	tlsExpiryName = "porxgate_tls_certificate_expiry_timestamp_seconds"
	tlsExpiryHelp = "When each certificate the gateway relies on expires (notAfter, Unix seconds), as its files hold it now: role front_door (the server certificate served and the CAs of the chain served after it), client_ca (a CA of --tls-client-ca), upstream_client (the EPS client certificate of mutual TLS, the default identity's or a party's), upstream_ca (a CA of --upstream-ca) admin (the admin listener's) or delivery_ca (a CA of --delivery-ca), subject and serial (hex) its own."
)

var (
	crlNextUpdateDesc = prometheus.NewDesc("porxgate_tls_client_crl_next_update_timestamp_seconds",
		"When each client CRL in use (--tls-client-crl) is due to be replaced (nextUpdate, Unix seconds; 0: it names none), by its issuer and file. Past it, the list still refuses what it revokes and lets the rest in: write a newer one over the file.",
		[]string{"issuer", "file"}, nil)
	revokedDesc = prometheus.NewDesc("porxgate_tls_client_revoked_total",
		"Client certificates refused in the front door's handshake, or cut off on a connection already open, because a client CRL revokes them (or a CA between them and the root).",
		nil, nil)
	handshakesRefusedDesc = prometheus.NewDesc("porxgate_tls_handshakes_refused_total",
		"Connections to the front door closed before their TLS handshake because their address already had --max-handshakes-per-client connections whose handshake or first request head was under way.",
		nil, nil)
)

// certExpiry is a prometheus.Collector of the expiry of the certificates
// of one role (the role label), as certs returns them at each scrape. A
// series is a subject and serial: a certificate given twice (a CA repeated
// in a bundle) or two of one subject and serial (a CA re-keyed under its
// name) are one series, the earliest notAfter; sent twice, the registry
// would fail the whole scrape.
type certExpiry struct {
	desc  *prometheus.Desc
	certs func() []*x509.Certificate
}

// newCertExpiry returns the collector of role's certificates.
func newCertExpiry(role string, certs func() []*x509.Certificate) certExpiry {
	return certExpiry{desc: prometheus.NewDesc(tlsExpiryName, tlsExpiryHelp, []string{"subject", "serial"}, prometheus.Labels{"role": role}),
		certs: certs}
}

// Describe implements prometheus.Collector.
func (c certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c certExpiry) Collect(ch chan<- prometheus.Metric) {
	type series struct{ subject, serial string }
	var order []series
	notAfter := map[series]int64{}
	for _, cert := range c.certs() {
		if cert == nil {
			continue
		}
		s := series{cert.Subject.String(), cert.SerialNumber.Text(16)}
		at, seen := notAfter[s]
		if !seen {
			order = append(order, s)
		}
		if !seen || cert.NotAfter.Unix() < at {
			notAfter[s] = cert.NotAfter.Unix()
		}
	}
	for _, s := range order {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(notAfter[s]), s.subject, s.serial)
	}
}

// pairExpiry returns the collector of role's certificate: pair's, as its
// files hold it now, with the CAs of the chain presented after it (an
// intermediate that expires first fails every handshake as surely).
func pairExpiry(role string, pair *certfile.Pair) certExpiry {
	return newCertExpiry(role, func() []*x509.Certificate {
		c := pair.Current()
		if c == nil {
			return nil
		}
		out := []*x509.Certificate{c.Leaf}
		for _, der := range c.Certificate[1:] {
			if cert, err := x509.ParseCertificate(der); err == nil {
				out = append(out, cert)
			}
		}
		return out
	})
}

// poolExpiry returns the collector of role's CAs: cas's, as its file
// holds them now.
func poolExpiry(role string, cas *certfile.Pool) certExpiry {
	return newCertExpiry(role, func() []*x509.Certificate { return cas.Current().Certs })
}

// upstreamExpiry returns the collectors of the EPS clients' certificates:
// the client certificates of mutual TLS (upstream_client: the default
// identity's and each party's of --upstream-identities) and the CAs
// trusted for EPS's certificate (upstream_ca, --upstream-ca).
func upstreamExpiry(clients []*upstream.Client) []certExpiry {
	return []certExpiry{
		newCertExpiry("upstream_client", func() []*x509.Certificate {
			var out []*x509.Certificate
			for _, c := range clients {
				out = append(out, c.ClientCertificate())
			}
			return out
		}),
		newCertExpiry("upstream_ca", func() []*x509.Certificate {
			var out []*x509.Certificate
			for _, c := range clients {
				out = append(out, c.TrustedCAs()...)
			}
			return out
		}),
	}
}

// registerExpiry registers cs with reg and returns the function that
// unregisters them.
func registerExpiry(reg prometheus.Registerer, cs ...certExpiry) (unregister func(), err error) {
	var done []certExpiry
	unregister = func() {
		for _, c := range done {
			reg.Unregister(c)
		}
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			unregister()
			return nil, fmt.Errorf("metrics of the certificates' expiry: %w", err)
		}
		done = append(done, c)
	}
	return unregister, nil
}

// adminExpiry returns the collectors of the admin listener's certificates:
// its own (admin) and, with --admin-client-ca, the CAs whose client
// certificates may sign in (admin_client_ca).
func (f *FrontDoorTLS) adminExpiry() []certExpiry {
	out := []certExpiry{pairExpiry("admin", f.pair)}
	if f.cas != nil {
		out = append(out, poolExpiry("admin_client_ca", f.cas))
	}
	return out
}

// expiry returns the collectors of the front door's certificates: its own
// (front_door) and, with mutual TLS, its client CAs (client_ca).
func (f *FrontDoorTLS) expiry() []certExpiry {
	out := []certExpiry{pairExpiry("front_door", f.pair)}
	if f.cas != nil {
		out = append(out, poolExpiry("client_ca", f.cas))
	}
	return out
}

// Describe implements prometheus.Collector.
func (f *FrontDoorTLS) Describe(ch chan<- *prometheus.Desc) {
	for _, e := range f.expiry() {
		e.Describe(ch)
	}
	ch <- handshakesRefusedDesc
	if f.crls != nil {
		ch <- crlNextUpdateDesc
		ch <- revokedDesc
	}
}

// Collect implements prometheus.Collector: the files are read as a
// handshake would read them (a renewal written over them is reported as
// soon as it is in use). Two lists of one issuer name in one file (a CA
// re-keyed under its name) are one series, the earlier nextUpdate.
func (f *FrontDoorTLS) Collect(ch chan<- prometheus.Metric) {
	for _, e := range f.expiry() {
		e.Collect(ch)
	}
	ch <- prometheus.MustNewConstMetric(handshakesRefusedDesc, prometheus.CounterValue, float64(f.handshakesRefused.Load()))
	if f.crls == nil {
		return
	}
	type series struct{ issuer, file string }
	var order []series
	next := map[series]int64{} // 0: no nextUpdate
	for _, l := range f.crls.Lists() {
		s := series{l.Issuer, l.File}
		at, seen := next[s]
		if !seen {
			order = append(order, s)
		}
		if l.NextUpdate.IsZero() {
			continue
		}
		if u := l.NextUpdate.Unix(); !seen || at == 0 || u < at {
			next[s] = u
		}
	}
	for _, s := range order {
		ch <- prometheus.MustNewConstMetric(crlNextUpdateDesc, prometheus.GaugeValue, float64(next[s]), s.issuer, s.file)
	}
	ch <- prometheus.MustNewConstMetric(revokedDesc, prometheus.CounterValue, float64(f.revoked.Load()))
}
