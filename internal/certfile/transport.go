package certfile

import (
	"crypto/tls"
	"net/http"
	"sync"
)

// RootsTransport is an http.Transport whose trusted roots follow a Pool's
// file: when the bundle changes, requests go through a copy of the base
// transport trusting the new one (crypto/tls verifies the server as ever,
// through a proxy too), and the old copy's idle connections are closed, so
// that a connection verified with a CA since removed is not used again. A
// bundle that cannot be used leaves the one in use (Pool). The delivery
// client (--delivery-ca) and the EPS client (--upstream-ca) use it.
type RootsTransport struct {
	base *http.Transport
	cas  *Pool

	mu    sync.Mutex
	roots *CAs // the bundle tr trusts
	tr    *http.Transport
}

// NewRootsTransport returns a transport like base that trusts the CAs of
// cas current at each request. base's TLSClientConfig (a new one when nil)
// is given the bundle now in use; base is not to be used by itself after.
func NewRootsTransport(base *http.Transport, cas *Pool) *RootsTransport {
	if base.TLSClientConfig == nil {
		base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cur := cas.Current()
	base.TLSClientConfig.RootCAs = cur.Pool
	return &RootsTransport{base: base, cas: cas, roots: cur, tr: base}
}

// RoundTrip implements http.RoundTripper.
func (f *RootsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cur := f.cas.Current()
	f.mu.Lock()
	if cur != f.roots {
		old := f.tr
		f.tr = f.base.Clone()
		f.tr.TLSClientConfig.RootCAs = cur.Pool
		f.roots = cur
		defer old.CloseIdleConnections()
	}
	tr := f.tr
	f.mu.Unlock()
	return tr.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the transport in
// use (http.Client.CloseIdleConnections).
func (f *RootsTransport) CloseIdleConnections() {
	f.mu.Lock()
	tr := f.tr
	f.mu.Unlock()
	tr.CloseIdleConnections()
}
