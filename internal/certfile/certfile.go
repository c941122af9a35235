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
// does not load (caught half rewritten, or gone, a key that does not match)
// or whose certificate is not valid now (expired, or not yet valid) leaves
// the one that worked in use; the files are looked at again at each
// handshake until they load.
type Pair struct {
	certFile, keyFile string

	mu              sync.Mutex
	cert            *tls.Certificate
	certMod, keyMod time.Time
	onRefused       func(error)
	refused         string // the last refusal reported, so that each is told once
}

// OnRefused sets f to be told, once per refusal, of changed files that
// were not taken up (the pair that worked stays in use), e.g. to log it.
func (p *Pair) OnRefused(f func(error)) {
	p.mu.Lock()
	p.onRefused = f
	p.mu.Unlock()
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
	if now := time.Now(); err == nil && cert.Leaf != nil {
		switch {
		case now.After(cert.Leaf.NotAfter):
			err = fmt.Errorf("certificate %s expired at %s", p.certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(cert.Leaf.NotBefore):
			err = fmt.Errorf("certificate %s not valid before %s", p.certFile, cert.Leaf.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	if err != nil {
		// Half rewritten, gone, mismatched or expired: keep the pair that
		// worked, and look again at the next handshake.
		if msg := err.Error(); msg != p.refused && p.onRefused != nil {
			p.refused = msg
			p.onRefused(fmt.Errorf("certificate %s / key %s changed but not taken up: %w", p.certFile, p.keyFile, err))
		}
		return p.cert
	}
	p.cert, p.certMod, p.keyMod, p.refused = &cert, cm, km, ""
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
