package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// ErrServerCertificate is wrapped by CheckServerCertificate's error when
// the EPS server's certificate fails verification (an unknown CA, another
// name, expired): no retry cures it.
var ErrServerCertificate = errors.New("EPS server certificate not trusted")

// requestBufferSize is the write buffer of each connection to EPS.
const requestBufferSize = 64 << 10

// newBaseTransport builds the innermost transport, with the client
// certificate (reloaded when renewed on disk, see clientCert) and CA of
// mutual TLS when configured. now dates the start-up check that the
// client certificate has not expired.
func newBaseTransport(tc TLSConfig, now time.Time) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	// A request's headers and a message Bundle (tens of KiB) leave in one
	// write: with net/http's 4 KiB buffer they took two or more.
	t.WriteBufferSize = requestBufferSize
	if tc == (TLSConfig{}) {
		return t, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: tc.ServerName}
	if tc.CertFile != "" {
		cc, err := loadClientCert(tc.CertFile, tc.KeyFile, now)
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = cc.get
	}
	if tc.CAFile != "" {
		pem, err := os.ReadFile(tc.CAFile)
		if err != nil {
			return nil, fmt.Errorf("load CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("load CA file %s: no certificate found", tc.CAFile)
		}
		cfg.RootCAs = pool
	}
	t.TLSClientConfig = cfg
	return t, nil
}

// CheckServerCertificate makes one request to the EPS base over HTTPS
// (GET metadata straight on the base transport: no token, no retries, no
// breaker) and returns an error wrapping ErrServerCertificate when the
// server's certificate fails verification. Any other failure (EPS not
// reachable, a refused client certificate) is returned as it is; any
// answer at all is success. An http BaseURL is not checked.
func (c *Client) CheckServerCertificate(ctx context.Context) error {
	if c.base.Scheme != "https" {
		return nil
	}
	u := *c.base
	u.Path += "/metadata"
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("check EPS server certificate: %w", err)
	}
	req.Header.Set("Accept", ContentTypeFHIR)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.baseTr.RoundTrip(req)
	if err != nil {
		if isCertificateError(err) {
			return fmt.Errorf("%w: %s: %w", ErrServerCertificate, c.base.Host, err)
		}
		return fmt.Errorf("check EPS server certificate of %s: %w", c.base.Host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

// isCertificateError reports a failed verification of the server's
// certificate.
func isCertificateError(err error) bool {
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// clientCert is the mutual TLS client certificate, read again from its
// files at the next handshake after either file changes (a renewal
// written by an operator or cert-manager before the old one expires), so
// that no restart is needed. A pair that does not load (caught half
// rewritten) leaves the one that worked in use until it does.
type clientCert struct {
	certFile, keyFile string

	mu              sync.Mutex
	cert            *tls.Certificate
	certMod, keyMod time.Time
}

// loadClientCert reads the pair and refuses a certificate expired at now.
func loadClientCert(certFile, keyFile string, now time.Time) (*clientCert, error) {
	c := &clientCert{certFile: certFile, keyFile: keyFile}
	c.certMod, c.keyMod = modTime(certFile), modTime(keyFile)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate: %w", err)
	}
	if cert.Leaf != nil && now.After(cert.Leaf.NotAfter) {
		return nil, fmt.Errorf("client certificate %s expired at %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	c.cert = &cert
	return c, nil
}

// get implements tls.Config.GetClientCertificate.
func (c *clientCert) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	cm, km := modTime(c.certFile), modTime(c.keyFile)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cm.Equal(c.certMod) && km.Equal(c.keyMod) {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return c.cert, nil // half rewritten, or gone: keep the pair that worked
	}
	c.cert, c.certMod, c.keyMod = &cert, cm, km
	return c.cert, nil
}

// modTime is a file's modification time; zero when it cannot be read.
func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
