// Package certfile keeps a TLS certificate read from a PEM certificate
// file and key file current: the pair is read again at the next handshake
// after either file changes (a renewal written by an operator or
// cert-manager before the old one expires), so that no restart is needed.
// The EPS client's mutual TLS certificate, the front door's server
// certificate and the delivery client's certificate all use it; Pool and
// CRLs keep CA bundles and revocation lists current the same way, and
// RootsTransport has an HTTP client trust the CAs its Pool holds now.
package certfile

import (
	"crypto/tls"
	"fmt"
	"time"
)

// Pair is a certificate and key kept current from their files. A pair that
// does not load (caught half rewritten, or gone, a key that does not match)
// or whose certificate is not valid now (expired, or not yet valid) leaves
// the one that worked in use; the files are looked at again at each
// handshake until they load.
type Pair struct {
	f *followed[*tls.Certificate]
}

// OnRefused sets f to be told, once per refusal, of changed files that
// were not taken up (the pair that worked stays in use), e.g. to log it.
func (p *Pair) OnRefused(f func(error)) { p.f.setOnRefused(f) }

// Load reads the pair and refuses a certificate that has expired at now:
// it could never be used.
func Load(certFile, keyFile string, now time.Time) (*Pair, error) {
	first := func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load certificate %s / key %s: %w", certFile, keyFile, err)
		}
		if cert.Leaf != nil && now.After(cert.Leaf.NotAfter) {
			return nil, fmt.Errorf("certificate %s expired at %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		return &cert, nil
	}
	renewal := func(*tls.Certificate) (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if now := time.Now(); err == nil && cert.Leaf != nil {
			switch {
			case now.After(cert.Leaf.NotAfter):
				err = fmt.Errorf("certificate %s expired at %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
			case now.Before(cert.Leaf.NotBefore):
				err = fmt.Errorf("certificate %s not valid before %s", certFile, cert.Leaf.NotBefore.UTC().Format(time.RFC3339))
			}
		}
		return &cert, err
	}
	f, err := follow(fmt.Sprintf("certificate %s / key %s", certFile, keyFile), []string{certFile, keyFile}, first, renewal)
	if err != nil {
		return nil, err
	}
	return &Pair{f: f}, nil
}

// Current returns the pair, read again first when either file changed.
func (p *Pair) Current() *tls.Certificate { return p.f.current() }

// GetCertificate implements tls.Config.GetCertificate (a server's).
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return p.Current(), nil
}

// GetClientCertificate implements tls.Config.GetClientCertificate. As
// with tls.Config.Certificates, no certificate is sent to a server that
// would not accept this one (its issuer or key type not among those it
// asks for).
func (p *Pair) GetClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	cert := p.Current()
	if cri != nil && cri.SupportsCertificate(cert) != nil {
		return &tls.Certificate{}, nil
	}
	return cert, nil
}
