package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/sony/gobreaker/v2"
)

// Operation names: one circuit breaker each, and the op label in logs.
const (
	OpProcessMessage = "process-message"
	OpRelease        = "release"
	OpTask           = "task"
	OpClaim          = "claim"
	OpTracker        = "tracker"
	OpToken          = "token"
	OpPrepare        = "prepare"
	OpMetadata       = "metadata"
)

// Operations lists every operation name, e.g. to pre-create metric series.
func Operations() []string {
	return []string{OpProcessMessage, OpRelease, OpTask, OpClaim, OpTracker, OpToken, OpPrepare, OpMetadata}
}

// errServerStatus tells gobreaker that an answer is a failure (failedAnswer).
var errServerStatus = errors.New("upstream answered 5xx or 202, or the token endpoint granted no token")

// failedAnswer reports whether op's answer r counts as a failure for its
// breaker: a retryable answer (5xx, or a 202 with no outcome:
// retryableStatus); and for the token endpoint, one that grants no token
// — a refusal (4xx but the throttles, 429 and 408), which is about
// porxgate's credentials, or a 200 that is no token answer (a proxy's
// page) — the same for every exchange, never about a message: each
// further exchange would fail alike, so they open the token breaker
// instead of every call sending one more assertion. r's body is buffered
// (bufferTransport) and left readable.
func failedAnswer(op string, r *http.Response) bool {
	code := r.StatusCode
	switch {
	case retryableStatus(code):
		return true
	case op != OpToken:
		return false
	case code == http.StatusOK:
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return true
		}
		_, _, err = parseTokenAnswer(body)
		return err != nil
	default:
		return code >= http.StatusBadRequest && code < http.StatusInternalServerError && !throttledStatus(code)
	}
}

// breakerSet holds one breaker per operation; the map is fixed after
// construction.
type breakerSet map[string]*gobreaker.CircuitBreaker[*http.Response]

func newBreakerSet(cfg BreakerConfig, log *slog.Logger, hook func(op, from, to string)) breakerSet {
	set := breakerSet{}
	for _, op := range Operations() {
		probes := cfg.MaxRequestsHalfOpen
		if op == OpToken {
			// Exchanges run one at a time (tokenSource) and each grants a
			// token good for minutes: one granted exchange is the probe.
			// A quota of several would take as many token lifetimes.
			probes = 1
		}
		set[op] = gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
			Name:        op,
			MaxRequests: probes,
			Interval:    cfg.Interval,
			Timeout:     cfg.Timeout,
			ReadyToTrip: func(c gobreaker.Counts) bool {
				return c.ConsecutiveFailures >= cfg.ConsecutiveFailures
			},
			// Called by gobreaker with its lock held: log and notify only.
			OnStateChange: func(name string, from, to gobreaker.State) {
				log.Warn("upstream circuit breaker state change", "op", name, "from", from.String(), "to", to.String())
				if hook != nil {
					hook(name, from.String(), to.String())
				}
			},
			IsExcluded: func(err error) bool {
				// The caller gave up, or the request could never succeed:
				// says nothing about the upstream's health.
				var c *callerCancelled
				return errors.As(err, &c) || isPermanent(err)
			},
		})
	}
	return set
}

func (s breakerSet) states() map[string]string {
	out := make(map[string]string, len(s))
	for op, cb := range s {
		out[op] = cb.State().String()
	}
	return out
}

// callerCancelled marks an attempt cut short by its caller; the breaker
// does not count it.
type callerCancelled struct{ err error }

func (e *callerCancelled) Error() string { return e.err.Error() }
func (e *callerCancelled) Unwrap() error { return e.err }

// breakerTransport runs each attempt through its operation's breaker. A
// network error or a failed answer (5xx, 202; the token endpoint's
// answers that grant no token: failedAnswer) counts as a failure; any
// other answer as a success.
type breakerTransport struct {
	next     http.RoundTripper
	breakers breakerSet
}

// RoundTrip implements http.RoundTripper.
func (t breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := operationOf(req.Context())
	cb, ok := t.breakers[op]
	if !ok {
		return t.next.RoundTrip(req)
	}
	var resp *http.Response
	_, err := cb.Execute(func() (*http.Response, error) {
		r, err := t.next.RoundTrip(req)
		if err != nil {
			if callerGaveUp(req.Context()) {
				return nil, &callerCancelled{err: err}
			}
			return nil, err
		}
		resp = r
		if failedAnswer(op, r) {
			return r, errServerStatus
		}
		return r, nil
	})
	switch {
	case err == nil:
		return resp, nil
	case errors.Is(err, errServerStatus):
		return resp, nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return nil, fmt.Errorf("upstream %s: %w (%w)", op, ErrBreakerOpen, err)
	default:
		return nil, err
	}
}
