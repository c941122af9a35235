package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Attempt outcomes reported to Config.ObserveAttempt besides HTTP status
// codes.
const (
	// AttemptError is an attempt that got no HTTP answer (connection
	// refused or reset, TLS failure, body cut short).
	AttemptError = "error"
	// AttemptTimeout is an attempt that ran out of its time limit.
	AttemptTimeout = "timeout"
)

// observeTransport times every attempt that reaches the network and
// reports it with its operation and outcome: the HTTP status code, or
// AttemptError / AttemptTimeout. Calls refused by an open breaker never get
// here: they are not EPS calls.
type observeTransport struct {
	next    http.RoundTripper
	observe func(op, status string, d time.Duration)
}

// RoundTrip implements http.RoundTripper.
func (t observeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := AttemptError
	switch {
	case err == nil:
		status = strconv.Itoa(resp.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		status = AttemptTimeout
	}
	t.observe(operationOf(req.Context()), status, time.Since(start))
	return resp, err
}
