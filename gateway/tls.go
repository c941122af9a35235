package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/tracing"
	"github.com/porxgate/porxgate/internal/certfile"
)

// ServerTLSConfig returns the TLS configuration the gateway listens with,
// or nil when cfg asks for plain HTTP: ServerTLS's Config.
func ServerTLSConfig(cfg Config, log *slog.Logger) (*tls.Config, error) {
	ft, err := ServerTLS(cfg, log)
	if ft == nil {
		return nil, err
	}
	return ft.Config, nil
}

// FrontDoorTLS is the front door's TLS: the configuration its listener
// uses and the files it follows, which it reports to Prometheus as a
// collector (the certificate's and the client CAs' expiry, the client
// CRLs' nextUpdate, the clients refused as revoked, the connections
// refused before their handshake). The admin listener's TLS is one too
// (adminTLS), not registered as a collector.
type FrontDoorTLS struct {
	// Config is what the listener serves with.
	Config *tls.Config
	pair   *certfile.Pair
	cas    *certfile.Pool // nil without mutual TLS
	crls   *certfile.CRLs // nil without CRLs
	// revoked counts client certificates refused as revoked.
	revoked atomic.Int64
	// handshakesRefused counts connections closed before their handshake
	// by Listener's bound.
	handshakesRefused atomic.Int64
}

// ServerTLS returns the front door's TLS, or nil when cfg asks for plain
// HTTP. Its certificate follows its files: a renewal written over them is
// served from the next handshake (internal/certfile); one already expired
// fails the start. With TLSClientCAFile set, clients must present a
// certificate signed by one of its CAs (mutual TLS); a client without one
// is refused in the handshake. The bundle follows its file the same way: a
// CA added is trusted, and one removed no longer trusted (a resumed
// session included), from the next handshake; a bundle that cannot be
// used is logged and the one in use kept. With TLSClientCRLFiles, a client
// certificate their lists revoke is refused in the handshake and logged
// (followClientCAs).
func ServerTLS(cfg Config, log *slog.Logger) (*FrontDoorTLS, error) {
	if cfg.TLSCertFile == "" {
		return nil, nil
	}
	pair, err := certfile.Load(cfg.TLSCertFile, cfg.TLSKeyFile, time.Now())
	if err != nil {
		return nil, fmt.Errorf("tls-cert %s / tls-key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	logRefusedRenewal(pair, log, "front door certificate not renewed", cfg.TLSCertFile)
	ft := &FrontDoorTLS{pair: pair, Config: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: pair.GetCertificate}}
	if cfg.TLSClientCAFile != "" {
		if ft.cas, err = certfile.LoadPool(cfg.TLSClientCAFile); err != nil {
			return nil, fmt.Errorf("tls-client-ca: %w", err)
		}
		logRefusedRenewal(ft.cas, log, "front door client CAs not renewed", cfg.TLSClientCAFile)
		if files := splitList(cfg.TLSClientCRLFiles); len(files) > 0 {
			if ft.crls, err = certfile.LoadCRLs(files, ft.cas); err != nil {
				return nil, fmt.Errorf("tls-client-crl: %w", err)
			}
			logRefusedRenewal(ft.crls, log, "front door client CRL not renewed", cfg.TLSClientCRLFiles)
			if log != nil {
				ft.crls.OnStale(func(l certfile.CRLInfo) {
					log.Warn("front door client CRL past its nextUpdate: what it revokes stays refused, certificates it does not list are accepted; write a newer CRL over the file",
						"crl", l.File, "issuer", l.Issuer, "this_update", l.ThisUpdate.UTC().Format(time.RFC3339), "next_update", l.NextUpdate.UTC().Format(time.RFC3339))
				})
			}
		}
		ft.Config.ClientAuth = tls.RequireAndVerifyClientCert
		followClientCAs(ft.Config, ft.cas, ft.crls, log, func() { ft.revoked.Add(1) })
	}
	return ft, nil
}

// followClientCAs has tc verify client certificates with the CAs of cas
// current at each handshake: ClientCAs as read at start, and a copy of tc
// with those current for each handshake (GetConfigForClient). crypto/tls
// checks a resumed session's client certificate against that copy's
// ClientCAs too, so a CA removed from the bundle lets no session it
// verified before resume. With crls, a client certificate (or a CA
// between it and the root) they revoke is refused in the handshake, a
// resumed session's included (crypto/tls calls VerifyConnection for
// both), and the refusal logged with the client's address and told to
// revoked (nil: not told).
func followClientCAs(tc *tls.Config, cas *certfile.Pool, crls *certfile.CRLs, log *slog.Logger, revoked func()) {
	tc.ClientCAs = cas.Current().Pool
	base := tc.Clone()
	tc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.ClientCAs = cas.Current().Pool
		if crls != nil {
			c.VerifyConnection = func(cs tls.ConnectionState) error {
				err := crls.Check(cs.VerifiedChains, time.Now())
				if re, ok := errors.AsType[*certfile.RevokedError](err); ok {
					if revoked != nil {
						revoked()
					}
					if log != nil {
						log.Warn("client certificate refused: revoked", "remote", remoteAddr(hello),
							"subject", re.Cert.Subject.CommonName, "serial", re.Cert.SerialNumber.Text(16),
							"issuer", re.Cert.Issuer.String(), "revoked_at", re.RevokedAt.UTC().Format(time.RFC3339),
							"reason", re.Reason, "crl", re.List.File, "resumed", cs.DidResume)
					}
				}
				if err != nil {
					return fmt.Errorf("client certificate: %w", err)
				}
				return nil
			}
		}
		return c, nil
	}
}

// remoteAddr is the address a handshake comes from, "" when unknown.
func remoteAddr(hello *tls.ClientHelloInfo) string {
	if hello == nil || hello.Conn == nil {
		return ""
	}
	return hello.Conn.RemoteAddr().String()
}

// DeliveryClient returns the HTTP client async messages are delivered
// with: it trusts DeliveryCAFile (else the system roots), following its
// file (a bundle written over it is trusted from the next request; one
// that cannot be used is logged and the one in use kept), presents the
// gateway's own certificate (following its files, as the server's does)
// when TLS is configured and the MHS asks for one, and bounds each request
// by DeliveryTimeout.
func DeliveryClient(cfg Config, log *slog.Logger) (*http.Client, error) {
	client, _, err := deliveryClient(cfg, log)
	return client, err
}

// deliveryClient is DeliveryClient, with the delivery CAs it follows (nil
// without DeliveryCAFile), for the metric of their expiry.
func deliveryClient(cfg Config, log *slog.Logger) (*http.Client, *certfile.Pool, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var cas *certfile.Pool
	if cfg.DeliveryCAFile != "" {
		var err error
		if cas, err = certfile.LoadPool(cfg.DeliveryCAFile); err != nil {
			return nil, nil, fmt.Errorf("delivery-ca: %w", err)
		}
		logRefusedRenewal(cas, log, "delivery CAs not renewed", cfg.DeliveryCAFile)
	}
	if cfg.TLSCertFile != "" {
		pair, err := certfile.Load(cfg.TLSCertFile, cfg.TLSKeyFile, time.Now())
		if err != nil {
			return nil, nil, fmt.Errorf("tls-cert %s / tls-key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		logRefusedRenewal(pair, log, "delivery client certificate not renewed", cfg.TLSCertFile)
		tc.GetClientCertificate = pair.GetClientCertificate
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.ResponseHeaderTimeout = cfg.DeliveryTimeout
	tr.IdleConnTimeout = 90 * time.Second
	// A connection kept for each delivery worker: with net/http's default
	// of two per host, all but two workers delivering to one MHS opened
	// (and, with TLS, handshook) a new connection for every message.
	tr.MaxIdleConnsPerHost = max(cfg.DeliveryWorkers, 2)
	// A delivery's headers and ebXML message leave in one write: with
	// net/http's 4 KiB buffer a message of more took two or more. The
	// buffer is held for as long as the connection is open, one per
	// delivery worker: 16 KiB take an acknowledgement (about 4 KB) or a
	// release response of a few prescriptions whole; 64 KiB held 4 MiB of
	// the heap for 64 workers.
	tr.WriteBufferSize = deliveryWriteBuffer
	var rt http.RoundTripper = tr
	if cas != nil {
		rt = certfile.NewRootsTransport(tr, cas)
	}
	if cfg.TracerProvider != nil { // a span per delivery attempt, traceparent sent to the MHS
		return &http.Client{Transport: tracing.Transport{Next: rt, Tracer: tracing.Tracer(cfg.TracerProvider),
			Name: func(*http.Request) string { return "deliver" }, Attributes: deliveryAttributes}, Timeout: cfg.DeliveryTimeout}, cas, nil
	}
	return &http.Client{Transport: rt, Timeout: cfg.DeliveryTimeout}, cas, nil
}

// deliveryWriteBuffer is the write buffer of each connection to an MHS.
const deliveryWriteBuffer = 16 << 10

// AdminClient returns the HTTP client a command (porxgate deadletters)
// calls an admin listener with: it trusts caFile (else the system roots),
// as an admin listener served over TLS with --admin-tls-cert needs;
// presents certFile/keyFile when given, for a listener that grants roles
// to client certificates (--admin-client-ca, --admin-cert-roles); follows
// no redirect (a POST must not turn into a GET elsewhere); and bounds each
// request by timeout.
func AdminClient(caFile, certFile, keyFile string, timeout time.Duration) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("admin CA: %w", err)
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("admin client certificate: give its certificate and its key, or neither")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("admin client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// loadCertPool reads a PEM bundle of certificates.
func loadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pool, nil
}

// deliveryAttributes are the attributes of a delivery attempt's span: the
// ids its context carries (outbox.Worker puts the delivery's there:
// delivery_id, delivery_interaction, attempt, the request's message_id...),
// each as porx.<key>.
func deliveryAttributes(r *http.Request) []attribute.KeyValue {
	attrs := logctx.Attrs(r.Context())
	out := make([]attribute.KeyValue, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, attribute.String("porx."+a.Key, a.Value.String()))
	}
	return out
}

// logRefusedRenewal has log warn (msg, once per refusal) of a renewal
// written over f's files that cannot be used (a certificate expired or
// not yet valid, a key that does not match, a CA bundle without a
// certificate): the one in use is kept, and without the line an operator
// would learn of it only when the old one expires. A nil log (tests) sets
// nothing.
func logRefusedRenewal(f interface{ OnRefused(func(error)) }, log *slog.Logger, msg, file string) {
	if log == nil {
		return
	}
	f.OnRefused(func(err error) {
		log.Warn(msg+": the files hold one that cannot be used; the one in use is kept", "cert", file, "err", err)
	})
}
