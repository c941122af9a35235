package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
)

// requestBufferSize is the write buffer of each connection to EPS.
const requestBufferSize = 64 << 10

// newBaseTransport builds the innermost transport, with the client
// certificate and CA of mutual TLS when configured.
func newBaseTransport(tc TLSConfig) (*http.Transport, error) {
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
		cert, err := tls.LoadX509KeyPair(tc.CertFile, tc.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
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
