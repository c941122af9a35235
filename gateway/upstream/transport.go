package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// idTransport gives a request the headers every EPS call carries, keeping
// any X-Request-ID already set so that retries below it reuse one id. The
// correlation id and the session URID come from the legacy message, whose
// XML text may hold control characters that no header may carry (net/http
// then refuses to send the request at all): a correlation id loses them,
// and a session URID with them is left out.
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
		id := strings.Map(func(c rune) rune {
			if isHeaderCTL(c) {
				return -1
			}
			return c
		}, CorrelationID(req.Context()))
		if strings.TrimSpace(id) == "" {
			id = t.newID()
		}
		r.Header.Set(HeaderCorrelationID, id)
	}
	if urid := SessionURID(req.Context()); urid != "" && !strings.ContainsFunc(urid, isHeaderCTL) &&
		r.Header.Get(HeaderSessionURID) == "" {
		r.Header.Set(HeaderSessionURID, urid)
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	return t.next.RoundTrip(r)
}

// isHeaderCTL reports a character no HTTP header value may hold: a
// control character other than horizontal tab (RFC 9110 field-value).
func isHeaderCTL(c rune) bool {
	return c < ' ' && c != '\t' || c == 0x7f
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
