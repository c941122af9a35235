package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/porxgate/porxgate/internal/retry"
)

// Causes of the client's own deadlines, so that the breaker can tell an
// upstream too slow for them from a caller that gave up.
var (
	errTotalTimeout   = errors.New("upstream call exceeded its total deadline")
	errAttemptTimeout = errors.New("upstream attempt exceeded its timeout")
)

// callerGaveUp reports whether ctx ended because of the caller rather than
// one of the client's own deadlines.
func callerGaveUp(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	cause := context.Cause(ctx)
	return cause != errTotalTimeout && cause != errAttemptTimeout
}

// retryTransport makes up to MaxAttempts attempts of one request within
// TotalTimeout. Each attempt is a clone with a fresh copy of the same body
// bytes and the same headers (so the same X-Request-ID). Only network errors,
// 5xx and 202 answers (retryableStatus) and refusals unseen (429, 408: throttledStatus, waiting at
// least their Retry-After) are retried; an open breaker, a permanent error
// or the caller's cancellation stop at once.
type retryTransport struct {
	next http.RoundTripper
	cfg  RetryConfig
	log  *slog.Logger
	// hold, when set, is shared by every call of the chain: a Retry-After
	// one call is given holds the others back too (nil: each call heeds
	// only its own).
	hold *hold
}

// maxRetryAfter bounds how long one Retry-After holds calls back (and a
// message waits for it): an hour's or a day's from a misconfigured proxy
// would stop every prescription for that long, where one call after this
// costs one refusal.
const maxRetryAfter = 15 * time.Minute

// hold is the time before which the upstream asked, with the Retry-After
// of an answer to any call, not to be called again. A rate limit (429) or
// an unavailable service (503) is the API's, not one request's: calls
// that start before that time wait for it, or, when it lies beyond their
// deadline, are not sent (ThrottledError).
type hold struct {
	mu    sync.Mutex
	until time.Time
}

// extend holds calls back until at least until.
func (h *hold) extend(until time.Time) {
	h.mu.Lock()
	if until.After(h.until) {
		h.until = until
	}
	h.mu.Unlock()
}

// get returns the time before which calls are held back.
func (h *hold) get() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until
}

// waitHeld waits, before a call's first attempt, until the time the
// upstream asked for (hold); when that is beyond the call's deadline (ctx)
// it returns a *ThrottledError at once instead.
func (t retryTransport) waitHeld(ctx, parent context.Context, op, rid string) error {
	stop := retryStopOf(parent)
	if stopped(stop) {
		return fmt.Errorf("upstream %s (request %s): %w", op, rid, ErrRetriesStopped)
	}
	if t.hold == nil {
		return nil
	}
	until := t.hold.get()
	wait := time.Until(until)
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		return &ThrottledError{Op: op, RequestID: rid, Until: until}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		if stopped(stop) {
			return fmt.Errorf("upstream %s (request %s): %w", op, rid, ErrRetriesStopped)
		}
		return nil
	case <-stop:
		return fmt.Errorf("upstream %s (request %s): %w", op, rid, ErrRetriesStopped)
	case <-ctx.Done():
		if parent.Err() != nil {
			return fmt.Errorf("upstream %s (request %s): %w", op, rid, parent.Err())
		}
		return &ThrottledError{Op: op, RequestID: rid, Until: until}
	}
}

// RoundTrip implements http.RoundTripper.
func (t retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithTimeoutCause(parent, t.cfg.TotalTimeout, errTotalTimeout)
	defer cancel()
	stats := callStatsOf(parent)
	if stats == nil {
		stats = &callStats{}
	}
	op := operationOf(parent)
	rid := req.Header.Get(HeaderRequestID)
	maxAttempts := t.cfg.MaxAttempts
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		maxAttempts = 1 // the body cannot be replayed
	}
	// notBefore is when the last attempt's answer asked, with its
	// Retry-After, to be called again (zero: it did not).
	var notBefore time.Time
	giveUp := func(attempts int, last *http.Response, err error) error {
		return &RetryError{Op: op, RequestID: rid, Attempts: attempts, Last: toResponse(last, rid, attempts), Err: err,
			NotBefore: notBefore}
	}

	if err := t.waitHeld(ctx, parent, op, rid); err != nil {
		return nil, err
	}
	waits := t.waits()
	stop := retryStopOf(parent)
	for attempt := 1; ; attempt++ {
		stats.attempts = attempt
		resp, err := t.attempt(ctx, req)
		if err == nil && !retryableStatus(resp.StatusCode) && !throttledStatus(resp.StatusCode) {
			return resp, nil
		}
		notBefore = time.Time{}
		if err == nil {
			now := time.Now()
			if ra := retryAfter(resp.Header.Get("Retry-After"), now); ra > 0 {
				notBefore = now.Add(min(ra, maxRetryAfter))
				if t.hold != nil {
					t.hold.extend(notBefore)
				}
			}
		}
		if err != nil {
			switch {
			case parent.Err() != nil:
				return nil, fmt.Errorf("upstream %s (request %s): %w", op, rid, parent.Err())
			case errors.Is(err, ErrBreakerOpen), isPermanent(err):
				return nil, fmt.Errorf("upstream %s (request %s) attempt %d: %w", op, rid, attempt, err)
			}
			if mayHaveReachedServer(err) {
				stats.maybeDelivered = true
			}
			resp = nil
		} else if !throttledStatus(resp.StatusCode) {
			stats.maybeDelivered = true
		}
		if ctx.Err() != nil {
			// The total deadline ran out during the attempt: say so whatever
			// the attempt itself reported.
			return nil, giveUp(attempt, resp, errors.Join(err, context.DeadlineExceeded))
		}
		if attempt >= maxAttempts {
			return nil, giveUp(attempt, resp, err)
		}
		if stopped(stop) {
			return nil, giveUp(attempt, resp, errors.Join(err, ErrRetriesStopped))
		}
		wait := t.nextWait(waits)
		if !notBefore.IsZero() {
			wait = max(wait, time.Until(notBefore))
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return nil, giveUp(attempt, resp, errors.Join(err, context.DeadlineExceeded))
		}
		args := []any{"op", op, "request_id", rid, "correlation_id", req.Header.Get(HeaderCorrelationID),
			"attempt", attempt, "status", statusOf(resp), "err", errString(err), "backoff_ms", wait.Milliseconds()}
		if p := PartyOf(parent); p != "" { // an empty one would blank the exchange's party the line carries
			args = append(args, "party", p)
		}
		t.log.WarnContext(parent, "upstream attempt failed, retrying", args...)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
			if stopped(stop) {
				return nil, giveUp(attempt, resp, errors.Join(err, ErrRetriesStopped))
			}
		case <-stop:
			timer.Stop()
			return nil, giveUp(attempt, resp, errors.Join(err, ErrRetriesStopped))
		case <-ctx.Done():
			timer.Stop()
			if parent.Err() != nil {
				return nil, fmt.Errorf("upstream %s (request %s): %w", op, rid, parent.Err())
			}
			return nil, giveUp(attempt, resp, errors.Join(err, ctx.Err()))
		}
	}
}

// attempt sends one clone of req bounded by AttemptTimeout. The layers below
// buffer the body, so cancelling the attempt context on return is safe.
func (t retryTransport) attempt(ctx context.Context, req *http.Request) (*http.Response, error) {
	actx, cancel := context.WithTimeoutCause(ctx, t.cfg.AttemptTimeout, errAttemptTimeout)
	defer cancel()
	r := req.Clone(actx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, permanent(fmt.Errorf("replay request body: %w", err))
		}
		r.Body = body
	}
	return t.next.RoundTrip(r)
}

// waits returns the backoff of one call: its caps double from BaseBackoff
// up to MaxBackoff.
func (t retryTransport) waits() *backoff.ExponentialBackOff {
	return retry.Exponential{First: t.cfg.BaseBackoff, Max: t.cfg.MaxBackoff}.New()
}

// nextWait is full jitter: the sleep before the next retry is drawn from
// [0, next cap of w].
func (t retryTransport) nextWait(w *backoff.ExponentialBackOff) time.Duration {
	return t.cfg.Jitter(w.NextBackOff())
}

// retryableStatus reports whether an answer is a server failure worth
// retrying (and counted by the breaker): every 5xx but 501 Not Implemented
// and 505 HTTP Version Not Supported, which no retry changes; and 202
// Accepted. porxgate never asks EPS for an asynchronous answer (Prefer:
// respond-async), so a 202 — EPS's "Spine took it, poll Content-Location"
// passed on by the synchronous wrapper in front of it when it stopped
// polling — says the request arrived and nothing of its outcome, as that
// wrapper's 504 does: it is no answer to act on.
func retryableStatus(code int) bool {
	return code == http.StatusAccepted || code >= http.StatusInternalServerError &&
		code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported
}

// throttledStatus reports an answer that refuses the request for now
// without looking at it — 429 Too Many Requests (rate limited) and 408
// Request Timeout (the request did not arrive in time) — so that it was not
// processed and is retried like a 5xx, after at least its Retry-After. It
// says nothing of the upstream's health: the breaker does not count it as
// a failure.
func throttledStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// retryAfter reads a Retry-After header (delay in seconds or an HTTP date)
// as a wait from now; 0 when absent, unreadable or past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// toResponse converts a buffered *http.Response; nil stays nil.
func toResponse(r *http.Response, rid string, attempts int) *Response {
	if r == nil {
		return nil
	}
	body, _ := io.ReadAll(r.Body) // already in memory (bufferTransport)
	return &Response{Status: r.StatusCode, Body: body, Header: r.Header, RequestID: rid, Attempts: attempts}
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
