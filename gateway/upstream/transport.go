package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// idTransport gives a request the headers every EPS call carries, keeping
// any X-Request-ID already set so that retries below it reuse one id.
type idTransport struct {
	next      http.RoundTripper
	newID     func() string
	userAgent string
}

// RoundTrip implements http.RoundTripper.
func (t idTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Header.Get(HeaderRequestID) == "" {
		r.Header.Set(HeaderRequestID, t.newID())
	}
	if r.Header.Get(HeaderCorrelationID) == "" {
		id := CorrelationID(req.Context())
		if id == "" {
			id = t.newID()
		}
		r.Header.Set(HeaderCorrelationID, id)
	}
	if urid := SessionURID(req.Context()); urid != "" && r.Header.Get(HeaderSessionURID) == "" {
		r.Header.Set(HeaderSessionURID, urid)
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	return t.next.RoundTrip(r)
}

// bufferTransport reads the whole answer (up to limit bytes) while the
// attempt's context is alive, so that the layers above may cancel it and
// still hand the body on, and so that a connection lost mid-body is a
// transport error (retryable) rather than a short read later.
type bufferTransport struct {
	next  http.RoundTripper
	limit int64
}

// RoundTrip implements http.RoundTripper.
func (t bufferTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.limit+1))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	if int64(len(body)) > t.limit {
		return nil, permanent(fmt.Errorf("answer of %s %s exceeds %d bytes", req.Method, req.URL.Path, t.limit))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// permanentError marks an error that no retry can cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err: err} }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// mayHaveReachedServer reports whether a transport error may have happened
// after the request reached the server: everything but failing to connect.
func mayHaveReachedServer(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var dns *net.DNSError
	return !errors.As(err, &dns)
}
