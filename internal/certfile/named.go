package certfile

import (
	"crypto/tls"
	"slices"
)

// PeerNamed reports whether the client certificate of a connection (cs nil:
// not over TLS) has a subject common name or a DNS name among names. It
// returns the certificate's common name ("" without one), for the reason
// of a refusal.
func PeerNamed(cs *tls.ConnectionState, names []string) (cn string, ok bool) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return "", false
	}
	cert := cs.PeerCertificates[0]
	if slices.Contains(names, cert.Subject.CommonName) {
		return cert.Subject.CommonName, true
	}
	for _, dns := range cert.DNSNames {
		if slices.Contains(names, dns) {
			return cert.Subject.CommonName, true
		}
	}
	return cert.Subject.CommonName, false
}
