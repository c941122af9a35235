// Package upstream is porxgate's client for the EPS FHIR R4 API: one Client
// that knows the API's manners and nothing of HL7 v3.
//
// Every call goes through a chain of small http.RoundTripper decorators, each
// with one job (outermost first):
//
//	idTransport      X-Request-ID (one per logical call) and X-Correlation-ID
//	retryTransport   backoff with full jitter, total deadline, response buffering
//	authTransport    OAuth2 application-restricted bearer token (optional)
//	breakerTransport one gobreaker v2 circuit breaker per operation
//	tracing          an OpenTelemetry span per attempt, traceparent sent (optional)
//	observeTransport times each attempt by operation and status (optional)
//	bufferTransport  reads the whole (size-limited) body inside the attempt
//	base             *http.Transport, optionally with mutual TLS
//
// The token endpoint's requests take the same chain without tap and auth;
// each of their attempts carries a newly signed client assertion, since the
// token endpoint refuses a jti it has seen (assertionTransport).
//
// Retries happen only for network errors, 5xx answers (except 501 and
// 505, which no retry changes), 202 Accepted (porxgate never asks for an
// asynchronous answer: a 202 is EPS's wrapper giving up waiting for Spine,
// the outcome unknown, like its 504) and the two refusals that say the
// request was not looked at, 429 and 408 (after at least their
// Retry-After); every retry resends the same bytes with the same
// X-Request-ID. Any other 4xx
// answer is final and is returned as a Response (its body is the
// OperationOutcome) — except 401, which is about porxgate's credentials:
// the token is renewed and the call resent once, and a 401 that stands
// fails the call with an error wrapping ErrUnauthorized. When the token
// that replaced a refused one is refused too, the refusal stands for the
// breaker's open period (BreakerConfig.Timeout): calls fail at once with
// ErrUnauthorized, without a token exchange each, and then one renewal is
// tried again. The token endpoint's answers that grant no token (a
// refusal of porxgate's assertion, 4xx but 429 and 408, or a 200 that is
// no token answer) count as failures of the token breaker, as 5xx answers
// do for every breaker: every exchange would fail alike. A token
// endpoint that throttles an exchange (429, 408) with a Retry-After
// beyond the exchange's deadline is not asked again before that time.
// An open breaker
// fails fast with an error that wraps ErrBreakerOpen; a call that used up its
// attempts or its total deadline fails with a *RetryError (errors.Is
// ErrRetriesExhausted), whose NotBefore carries the Retry-After of the
// answer that ended it, for whoever tries the request again. A
// Retry-After holds back every FHIR call of the Client until its time,
// not only the call it answered: a call that starts before then waits
// for it, or, when it lies beyond the call's deadline, is not sent and
// fails at once with a *ThrottledError (errors.Is ErrThrottled). One
// Retry-After holds calls back for at most 15 minutes.
//
// Idempotency of prescription-order: EPS rejects a second prescription with
// the same short-form id (DUPLICATE_PRESCRIPTION_ID). When a $process-message
// call was retried after an attempt that may have reached EPS (a 5xx or 202
// answer, or a network error after the connection was made) and the retry is answered
// with DUPLICATE_PRESCRIPTION_ID — or, as EPS answers the same Bundle sent
// again, Spine's 202 Duplicate HL7 ID Error — the first attempt evidently succeeded: the
// Client reports success (HTTP 200, an informational OperationOutcome) with
// Response.DuplicateResolved set. The simulator in gateway/sim additionally
// replays its stored answer for a repeated X-Request-ID with identical bytes.
package upstream
