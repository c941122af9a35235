package certfile

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// CAs is a bundle of CA certificates as read from its file: the pool a
// TLS configuration verifies peers with, and the certificates in it.
type CAs struct {
	// Pool holds Certs, for tls.Config.ClientCAs or RootCAs.
	Pool *x509.CertPool
	// Certs are the bundle's certificates, in file order.
	Certs []*x509.Certificate
}

// Pool is a PEM bundle of CA certificates kept current from its file, as
// Pair keeps a certificate: a bundle written over the file is used from
// the next handshake; one that does not load (no certificate, a block
// that does not parse, a last block cut short: caught half written) leaves
// the one that worked in use.
type Pool struct {
	path string
	f    *followed[*CAs]
}

// LoadPool reads the bundle at path.
func LoadPool(path string) (*Pool, error) {
	load := func() (*CAs, error) { return readCAs(path) }
	f, err := follow("CA bundle "+path, []string{path}, load, func(*CAs) (*CAs, error) { return load() })
	if err != nil {
		return nil, err
	}
	return &Pool{path: path, f: f}, nil
}

// OnRefused sets f to be told, once per refusal, of a bundle written over
// the file that was not taken up (the one that worked stays in use).
func (p *Pool) OnRefused(f func(error)) { p.f.setOnRefused(f) }

// Current returns the bundle, read again first when its file changed.
func (p *Pool) Current() *CAs { return p.f.current() }

// readCAs reads a PEM bundle of certificates.
func readCAs(path string) (*CAs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ders, err := pemBlocks(path, b, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cas := &CAs{Pool: x509.NewCertPool()}
	for _, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(cas.Certs)+1, err)
		}
		cas.Pool.AddCert(cert)
		cas.Certs = append(cas.Certs, cert)
	}
	if len(cas.Certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return cas, nil
}

// pemBlocks returns the contents of the PEM blocks of type typ in b (read
// from path): an error when a block does not end, as in a file caught
// half written.
func pemBlocks(path string, b []byte, typ string) ([][]byte, error) {
	var out [][]byte
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if bytes.Contains(rest, []byte("-----BEGIN")) {
				return nil, fmt.Errorf("%s: a PEM block does not end (the file cut short?)", path)
			}
			return out, nil
		}
		if block.Type == typ {
			out = append(out, block.Bytes)
		}
	}
}
