package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	tlsExpiryDesc = prometheus.NewDesc("porxgate_tls_certificate_expiry_timestamp_seconds",
		"When each certificate the front door relies on expires (notAfter, Unix seconds), as its files hold it now: role front_door (the server certificate served) or client_ca (a CA of --tls-client-ca), subject and serial (hex) its own.",
		[]string{"role", "subject", "serial"}, nil)
	crlNextUpdateDesc = prometheus.NewDesc("porxgate_tls_client_crl_next_update_timestamp_seconds",
		"When each client CRL in use (--tls-client-crl) is due to be replaced (nextUpdate, Unix seconds; 0: it names none), by its issuer and file. Past it, the list still refuses what it revokes and lets the rest in: write a newer one over the file.",
		[]string{"issuer", "file"}, nil)
	revokedDesc = prometheus.NewDesc("porxgate_tls_client_revoked_total",
		"Client certificates refused in the front door's handshake because a client CRL revokes them (or a CA between them and the root).",
		nil, nil)
)

// Describe implements prometheus.Collector.
func (f *FrontDoorTLS) Describe(ch chan<- *prometheus.Desc) {
	ch <- tlsExpiryDesc
	if f.crls != nil {
		ch <- crlNextUpdateDesc
		ch <- revokedDesc
	}
}

// Collect implements prometheus.Collector: the files are read as a
// handshake would read them (a renewal written over them is reported as
// soon as it is in use).
func (f *FrontDoorTLS) Collect(ch chan<- prometheus.Metric) {
	if c := f.pair.Current(); c != nil && c.Leaf != nil {
		ch <- prometheus.MustNewConstMetric(tlsExpiryDesc, prometheus.GaugeValue, float64(c.Leaf.NotAfter.Unix()), "front_door", c.Leaf.Subject.String(), c.Leaf.SerialNumber.Text(16))
	}
	if f.cas != nil {
		for _, ca := range f.cas.Current().Certs {
			ch <- prometheus.MustNewConstMetric(tlsExpiryDesc, prometheus.GaugeValue, float64(ca.NotAfter.Unix()), "client_ca", ca.Subject.String(), ca.SerialNumber.Text(16))
		}
	}
	if f.crls != nil {
		for _, l := range f.crls.Lists() {
			next := 0.0
			if !l.NextUpdate.IsZero() {
				next = float64(l.NextUpdate.Unix())
			}
			ch <- prometheus.MustNewConstMetric(crlNextUpdateDesc, prometheus.GaugeValue, next, l.Issuer, l.File)
		}
		ch <- prometheus.MustNewConstMetric(revokedDesc, prometheus.CounterValue, float64(f.revoked.Load()))
	}
}
