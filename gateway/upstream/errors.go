package upstream

import (
	"errors"
	"fmt"
	"time"
)

// ErrBreakerOpen is wrapped by every error returned because an operation's
// circuit breaker is open (or half-open with its probe quota in use): the
// call was not sent. Sync callers answer "service unavailable" at once; async
// work stays queued and is tried again later.
var ErrBreakerOpen = errors.New("upstream circuit breaker open")

// ErrUnauthorized is wrapped by the error of a call EPS answered 401
// Unauthorized even after the access token was renewed (or with no
// authentication configured): porxgate's credentials are refused, which
// says nothing about the request, so the call fails instead of returning
// the 401 as a final answer. Async work waits in the store; an operator
// must fix the credentials.
var ErrUnauthorized = errors.New("upstream refused porxgate's credentials")

// ErrRetriesExhausted is matched (errors.Is) by a *RetryError.
var ErrRetriesExhausted = errors.New("upstream retries exhausted")

// RetryError reports a call that failed on every attempt or ran out of its
// total deadline. Last holds the final 5xx answer, if the last attempt got
// one; Err the final network or deadline error otherwise.
type RetryError struct {
	Op        string
	RequestID string
	Attempts  int
	Last      *Response
	Err       error
	// NotBefore is when the last answer's Retry-After (429, 408, 503...)
	// asked to be called again (at most 15 minutes ahead), zero when it
	// gave none: a Retry-After
	// beyond the call's total deadline ends the call at once, and whoever
	// tries the request again should wait until then (NotBefore).
	NotBefore time.Time
}

// Error implements error.
func (e *RetryError) Error() string {
	switch {
	case e.Last != nil:
		return fmt.Sprintf("upstream %s (request %s): gave up after %d attempts: last status %d",
			e.Op, e.RequestID, e.Attempts, e.Last.Status)
	case e.Err != nil:
		return fmt.Sprintf("upstream %s (request %s): gave up after %d attempts: %v",
			e.Op, e.RequestID, e.Attempts, e.Err)
	default:
		return fmt.Sprintf("upstream %s (request %s): gave up after %d attempts", e.Op, e.RequestID, e.Attempts)
	}
}

// Unwrap returns the final network or deadline error, if any.
func (e *RetryError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRetriesExhausted) true.
func (e *RetryError) Is(target error) bool { return target == ErrRetriesExhausted }

// ErrThrottled is matched (errors.Is) by a *ThrottledError.
var ErrThrottled = errors.New("upstream asked not to be called yet (Retry-After)")

// ThrottledError reports a call not sent because EPS, answering an
// earlier call of the same Client, asked with a Retry-After not to be
// called before Until, and Until is beyond the call's total deadline.
// Like an open breaker's refusal, it says nothing of the request.
type ThrottledError struct {
	Op        string
	RequestID string
	Until     time.Time
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("upstream %s (request %s): not sent: EPS asked not to be called before %s (Retry-After)",
		e.Op, e.RequestID, e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// NotBefore returns when EPS asked, with a Retry-After, to be called
// again, for the failed call err: the Retry-After of the answer that
// ended it (a *RetryError's NotBefore), or the one that kept it from
// being sent (a *ThrottledError's Until); zero otherwise.
func NotBefore(err error) time.Time {
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.Until
	}
	var re *RetryError
	if errors.As(err, &re) {
		return re.NotBefore
	}
	return time.Time{}
}

// TokenError reports a failed OAuth2 token exchange. Status and Body are the
// token endpoint's answer when it gave one (4xx: bad key, kid, aud...).
type TokenError struct {
	Status int
	Body   []byte
	Err    error
}

// Error implements error.
func (e *TokenError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("upstream token: %v", e.Err)
	}
	return fmt.Sprintf("upstream token: status %d: %.200s", e.Status, e.Body)
}

// Unwrap returns the underlying error (possibly wrapping ErrBreakerOpen or
// ErrRetriesExhausted).
func (e *TokenError) Unwrap() error { return e.Err }
