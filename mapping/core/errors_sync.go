package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/sony/gobreaker/v2"
)

// UpstreamFailure is the class of a failed upstream (EPS FHIR) call, as far
// as a synchronous Spine answer cares.
type UpstreamFailure int

// The upstream failure classes.
const (
	// FailureServer: EPS answered 5xx (after retries), or failed in a way
	// not otherwise classed.
	FailureServer UpstreamFailure = iota + 1
	// FailureBreakerOpen: the operation's circuit breaker is open; nothing was sent.
	FailureBreakerOpen
	// FailureTimeout: the call ran out of time (deadline, network timeout).
	FailureTimeout
	// FailureNetwork: EPS could not be reached (refused, reset, DNS).
	FailureNetwork
	// FailureRateLimited: EPS answered 429.
	FailureRateLimited
	// FailureClient: EPS answered another 4xx that no OperationOutcome
	// mapping could turn into a v3 business error.
	FailureClient
)

// String names the class.
func (f UpstreamFailure) String() string {
	switch f {
	case FailureServer:
		return "server"
	case FailureBreakerOpen:
		return "breaker-open"
	case FailureTimeout:
		return "timeout"
	case FailureNetwork:
		return "network"
	case FailureRateLimited:
		return "rate-limited"
	case FailureClient:
		return "client"
	}
	return fmt.Sprintf("UpstreamFailure(%d)", int(f))
}

// Spine TMS error codes (codeContext urn:nhs:names:error:tms) that porxgate
// puts in a SOAP fault for a failed sync request. Senders retry 200, 206 and
// 208 only.
const (
	// SyncCodeSystemFailure is 200, "System failure to process message -
	// default": retried.
	SyncCodeSystemFailure = "200"
	// SyncCodeRoutingFailure is 206, Spine's routing delivery failure (the
	// next hop could not be reached): retried.
	SyncCodeRoutingFailure = "206"
	// SyncCodeNotRetried is 300, the code porxgate's ebxml package already
	// uses for a request that fails the same way every time: not retried.
	SyncCodeNotRetried = "300"
)

// SyncFault returns the Spine TMS error code a synchronous caller gets for
// an upstream failure class, and whether the caller's retry can help:
// 5xx, timeouts and 429 → 200 (retried); an open breaker or an unreachable
// EPS → 206 (retried); any other 4xx → 300 (final). Every class has a row;
// an unknown class is treated as FailureServer.
func SyncFault(f UpstreamFailure) (code string, retryable bool) {
	switch f {
	case FailureBreakerOpen, FailureNetwork:
		return SyncCodeRoutingFailure, true
	case FailureClient:
		return SyncCodeNotRetried, false
	}
	return SyncCodeSystemFailure, true
}

// SyncFaultCode classifies an upstream error (see ClassifyUpstream) and
// returns SyncFault's answer for it.
func SyncFaultCode(err error) (code string, retryable bool) {
	return SyncFault(ClassifyUpstream(err))
}

// HTTPStatuser is implemented by upstream errors that carry the HTTP status
// EPS answered with.
type HTTPStatuser interface {
	HTTPStatus() int
}

// ClassifyUpstream returns the failure class of an upstream error: an open
// (or half-open, busy) gobreaker breaker anywhere in the chain; an error
// with an HTTP status (HTTPStatuser: 429, other 4xx, 5xx); a deadline or
// network timeout; a refused, reset or unreachable connection. Anything
// else — a retried call that ended on a 5xx included — is FailureServer.
func ClassifyUpstream(err error) UpstreamFailure {
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return FailureBreakerOpen
	}
	var hs HTTPStatuser
	if errors.As(err, &hs) {
		return ClassifyStatus(hs.HTTPStatus())
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return FailureTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return FailureTimeout
	}
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return FailureNetwork
	}
	return FailureServer
}

// ClassifyStatus returns the failure class of an HTTP status EPS answered
// with: 429 rate-limited, other 4xx client, anything else server.
func ClassifyStatus(status int) UpstreamFailure {
	switch {
	case status == 429:
		return FailureRateLimited
	case status >= 400 && status < 500:
		return FailureClient
	}
	return FailureServer
}
