package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/porxgate/porxgate/internal/certfile"
)

// ErrServerCertificate is wrapped by CheckServerCertificate's error when
// the EPS server's certificate fails verification (an unknown CA, another
// name, expired): no retry cures it.
var ErrServerCertificate = errors.New("EPS server certificate not trusted")

// ErrHandshakeRefused is wrapped by CheckServerCertificate's error when
// EPS answers porxgate's TLS handshake with an alert that refuses it: no
// client certificate where it demands one, one it does not take (another
// CA, expired, revoked), or nothing in common to agree on. EPS was
// reached; no retry cures it.
var ErrHandshakeRefused = errors.New("EPS refused porxgate's TLS handshake")

// requestBufferSize is the write buffer of each connection to EPS: a
// request's headers and a message Bundle of up to about 30 KB leave in one
// write (the corpus's FHIR messages: median 13.6 KB, 90th percentile 26.4
// KB, as indented JSON; porxgate writes them compact), a larger one in
// two or more. It is held for as long as the connection is open, up to 64
// of them (MaxIdleConnsPerHost): 64 KiB each held 4 MiB of the heap under
// the 100 MiB soft memory limit, 32 KiB hold 2 MiB.
const requestBufferSize = 32 << 10

// newBaseTransport builds the innermost transport, with the client
// certificate (read again when renewed on disk: internal/certfile; a
// renewal that cannot be used is logged to log) and CA of mutual TLS when
// configured. The CA bundle follows its file the same way: a bundle
// written over it is trusted from the next request, and idle connections
// verified with the one before are closed (certfile.RootsTransport). now
// dates the start-up check that the client certificate has not expired.
// files are what it follows, for Client.ClientCertificate and TrustedCAs.
func newBaseTransport(tc TLSConfig, now time.Time, log *slog.Logger) (_ http.RoundTripper, files tlsFiles, _ error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	// A request's headers and a message Bundle (tens of KiB) leave in one
	// write: with net/http's 4 KiB buffer they took two or more.
	t.WriteBufferSize = requestBufferSize
	if tc == (TLSConfig{}) {
		return t, files, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: tc.ServerName}
	t.TLSClientConfig = cfg
	if tc.CertFile != "" {
		pair, err := certfile.Load(tc.CertFile, tc.KeyFile, now)
		if err != nil {
			return nil, files, fmt.Errorf("client certificate: %w", err)
		}
		files.pair = pair
		pair.OnRefused(func(err error) {
			log.Warn("upstream client certificate not renewed: the one in use stays", "err", err)
		})
		cfg.GetClientCertificate = pair.GetClientCertificate
	}
	if tc.CAFile == "" {
		return t, files, nil
	}
	cas, err := certfile.LoadPool(tc.CAFile)
	if err != nil {
		return nil, files, fmt.Errorf("load CA file: %w", err)
	}
	files.cas = cas
	cas.OnRefused(func(err error) {
		log.Warn("upstream CAs not renewed: the one in use stays", "err", err)
	})
	return certfile.NewRootsTransport(t, cas), files, nil
}

// tlsFiles are the TLS files the base transport follows: nil, those not
// configured.
type tlsFiles struct {
	pair *certfile.Pair
	cas  *certfile.Pool
}

// ClientCertificate returns the certificate presented to EPS for mutual
// TLS as its files hold it now (a renewal in use is returned), nil
// without one or with a Transport of the configuration's own.
func (c *Client) ClientCertificate() *x509.Certificate {
	if c.tlsFiles.pair == nil {
		return nil
	}
	if cert := c.tlsFiles.pair.Current(); cert != nil {
		return cert.Leaf
	}
	return nil
}

// TrustedCAs returns the CAs trusted for EPS's server certificate
// (TLSConfig.CAFile) as the file holds them now, nil with the system
// roots.
func (c *Client) TrustedCAs() []*x509.Certificate {
	if c.tlsFiles.cas == nil {
		return nil
	}
	return c.tlsFiles.cas.Current().Certs
}

// CheckServerCertificate makes one request to the EPS base over HTTPS
// (GET metadata straight on the base transport: no token, no retries, no
// breaker) and returns an error wrapping ErrServerCertificate when the
// server's certificate fails verification, and one wrapping
// ErrHandshakeRefused when the server refuses porxgate's side of the
// handshake (a client certificate missing or not taken). Any other
// failure (EPS not reachable) is returned as it is; any answer at all is
// success. An http BaseURL is not checked.
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
		if isHandshakeRefusal(err) {
			how := "no client certificate configured"
			if c.tlsFiles.pair != nil {
				how = "client certificate " + c.cfg.TLS.CertFile
			}
			return fmt.Errorf("%w (%s): %s: %w", ErrHandshakeRefused, how, c.base.Host, err)
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

// Alerts (RFC 8446 6.2, RFC 5246 7.2.2) with which a server refuses a
// client's side of the handshake for good: its certificate, or nothing
// to agree on.
var refusalAlerts = map[uint64]bool{
	40:  true, // handshake_failure (TLS 1.2: also a client certificate demanded and not sent)
	42:  true, // bad_certificate
	43:  true, // unsupported_certificate
	44:  true, // certificate_revoked
	45:  true, // certificate_expired
	46:  true, // certificate_unknown
	48:  true, // unknown_ca
	49:  true, // access_denied
	70:  true, // protocol_version
	71:  true, // insufficient_security
	116: true, // certificate_required (TLS 1.3: no client certificate sent)
}

// isHandshakeRefusal reports a TLS alert from the server that refuses
// porxgate's side of the handshake (refusalAlerts). crypto/tls reports a
// received alert as a *net.OpError "remote error" around a value of its
// unexported alert type (a uint8, the alert's code).
func isHandshakeRefusal(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return false
	}
	v := reflect.ValueOf(op.Err)
	return v.Kind() == reflect.Uint8 && v.Type().PkgPath() == "crypto/tls" && refusalAlerts[v.Uint()]
}
