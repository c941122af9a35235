package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/tracing"
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
// reports it with its operation, its outcome (the HTTP status code, or
// AttemptError / AttemptTimeout) and the legacy sender's party (PartyOf). Calls refused by an open breaker never get
// here: they are not EPS calls.
type observeTransport struct {
	next    http.RoundTripper
	observe func(op, status, party string, d time.Duration)
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
	t.observe(operationOf(req.Context()), status, PartyOf(req.Context()), time.Since(start))
	return resp, err
}

// tracedAttempts wraps next so that every attempt is a client span named
// after its operation, with the X-Request-ID and X-Correlation-ID it
// carries, and sends the span's traceparent.
func tracedAttempts(next http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	return tracing.Transport{
		Next:   next,
		Tracer: tracing.Tracer(tp),
		Name:   func(r *http.Request) string { return "EPS " + operationOf(r.Context()) },
		Attributes: func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{
				attribute.String("eps.operation", operationOf(r.Context())),
				attribute.String("eps.request_id", r.Header.Get(HeaderRequestID)),
				attribute.String("eps.correlation_id", r.Header.Get(HeaderCorrelationID)),
				attribute.String("eps.party", PartyOf(r.Context())),
			}
		},
	}
}
