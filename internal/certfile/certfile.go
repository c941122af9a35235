// Package certfile keeps a TLS certificate read from a PEM certificate
// file and key file current: the pair is read again at the next handshake
// after either file changes (a renewal written by an operator or
// cert-manager before the old one expires), so that no restart is needed.
// The EPS client's mutual TLS certificate, the front door's server
// certificate and the delivery client's certificate all use it.
package certfile

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// Pair is a certificate and key kept current from their files. A pair that
// does not load (caught half rewritten, or gone) leaves the one that
// worked in use until it does.
type Pair struct {
	certFile, keyFile string

	mu              sync.Mutex
	cert            *tls.Certificate
	certMod, keyMod time.Time
}

// Load reads the pair and refuses a certificate that has expired at now:
// it could never be used.
func Load(certFile, keyFile string, now time.Time) (*Pair, error) {
	p := &Pair{certFile: certFile, keyFile: keyFile}
	p.certMod, p.keyMod = modTime(certFile), modTime(keyFile)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s / key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf != nil && now.After(cert.Leaf.NotAfter) {
		return nil, fmt.Errorf("certificate %s expired at %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	p.cert = &cert
	return p, nil
}

// Current returns the pair, read again first when either file changed.
func (p *Pair) Current() *tls.Certificate {
	cm, km := modTime(p.certFile), modTime(p.keyFile)
	p.mu.Lock()
	defer p.mu.Unlock()
	if cm.Equal(p.certMod) && km.Equal(p.keyMod) {
		return p.cert
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return p.cert // half rewritten, or gone: keep the pair that worked
	}
	p.cert, p.certMod, p.keyMod = &cert, cm, km
	return p.cert
}

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

// modTime is a file's modification time; zero when it cannot be read.
func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
