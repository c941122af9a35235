package upstream

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	grantType           = "client_credentials"
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// tokenSource exchanges signed client assertions for access tokens and
// caches them. Concurrent callers share one exchange: the first one starts
// it, the rest wait for the same result. A token past its renewal point but
// not yet expired is still handed out while one renewal runs.
//
// An exchange the token endpoint throttled (429, 408) beyond its deadline
// holds further exchanges back until the Retry-After it gave: token fails
// at once meanwhile, unless the cached token is still valid.
//
// A token EPS refuses (401) is dropped and renewed once. When the token
// that replaced a refused one is refused too, the credentials themselves
// are refused (a key, kid or product change at the API platform): the
// refusal stands for holdoff, during which calls fail at once with
// ErrUnauthorized instead of each exchanging tokens EPS will refuse;
// after it, the next refusal renews once more (refused).
type tokenSource struct {
	rt          http.RoundTripper // token chain: id → retry → assertion → breaker → buffer → base
	key         *rsa.PrivateKey
	kid, apiKey string
	tokenURL    string
	lifetime    time.Duration
	renewBefore time.Duration
	holdoff     time.Duration // how long a standing refusal lasts
	now         func() time.Time
	newID       func() string
	log         *slog.Logger
	stop        context.Context // cancelled by Client.Close; bounds background exchanges

	mu        sync.Mutex
	tok       string
	renewAt   time.Time
	expiresAt time.Time
	inflight  *tokenCall
	// suspect: tok replaced a refused token and EPS has not taken it yet.
	suspect bool
	// afterRefusal: the next exchanged token replaces a refused one.
	afterRefusal bool
	// refusedUntil: tok, a suspect refused too, stands refused until then.
	refusedUntil time.Time
	// notBefore: the token endpoint throttled the last exchange and asked
	// for no other before then (its Retry-After).
	notBefore time.Time
}

type tokenCall struct {
	done chan struct{}
	tok  string
	err  error
}

// token returns a valid access token, exchanging a new one when needed.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	now := s.now()
	s.mu.Lock()
	if s.tok != "" && now.Before(s.refusedUntil) {
		until := s.refusedUntil
		s.mu.Unlock()
		return "", fmt.Errorf("%w: EPS refused a freshly exchanged access token (401); no renewal before %s",
			ErrUnauthorized, until.UTC().Format(time.RFC3339))
	}
	if s.tok != "" && now.Before(s.renewAt) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil
	}
	c := s.inflight
	if c == nil && now.Before(s.notBefore) {
		if s.tok != "" && now.Before(s.expiresAt) {
			tok := s.tok // still valid: renewed once the endpoint allows
			s.mu.Unlock()
			return tok, nil
		}
		until := s.notBefore
		s.mu.Unlock()
		return "", &TokenError{Status: http.StatusTooManyRequests,
			Err: fmt.Errorf("the token endpoint throttled the last exchange: no other before %s", until.UTC().Format(time.RFC3339))}
	}
	if c == nil {
		c = &tokenCall{done: make(chan struct{})}
		s.inflight = c
		go s.exchange(c, CorrelationID(ctx))
	}
	if s.tok != "" && now.Before(s.expiresAt) {
		tok := s.tok // still valid: use it while the renewal runs
		s.mu.Unlock()
		return tok, nil
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.tok, c.err
	case <-ctx.Done():
		return "", fmt.Errorf("wait for access token: %w", ctx.Err())
	}
}

// refused records that EPS answered 401 to tok and reports whether a
// renewal may cure it. A token no longer cached is renewed (token gives the
// newer one). The cached one is dropped, and the next exchange marked as
// replacing it, unless it replaced a refused token itself: then the
// refusal stands for holdoff, the token kept so that token fails at once,
// and only once holdoff has passed is it dropped for one more renewal.
func (s *tokenSource) refused(tok string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != tok {
		return true
	}
	if s.suspect {
		if s.refusedUntil.IsZero() {
			s.refusedUntil = now.Add(s.holdoff)
			s.log.Warn("upstream credentials refused: EPS refused a freshly exchanged access token (401); calls fail until the refusal is tried again",
				"retry_after_ms", s.holdoff.Milliseconds())
		}
		if now.Before(s.refusedUntil) {
			return false
		}
	}
	s.tok, s.suspect, s.afterRefusal, s.refusedUntil = "", false, true, time.Time{}
	return true
}

// accepted records that EPS took tok (any answer but 401): a token that
// replaced a refused one is no longer suspect, and a refusal of it that
// stood is over.
func (s *tokenSource) accepted(tok string) {
	s.mu.Lock()
	if s.tok == tok {
		s.suspect, s.refusedUntil = false, time.Time{}
	}
	s.mu.Unlock()
}

// exchange runs one token request and publishes its result to c.
func (s *tokenSource) exchange(c *tokenCall, correlationID string) {
	ctx := withOperation(s.stop, OpToken)
	if correlationID != "" {
		ctx = WithCorrelationID(ctx, correlationID)
	}
	start := s.now()
	tok, ttl, err := s.fetch(ctx)
	s.mu.Lock()
	if wait := throttledFor(err, start); wait > 0 {
		s.notBefore = start.Add(wait)
	}
	if err == nil {
		s.tok, s.suspect, s.afterRefusal, s.refusedUntil = tok, s.afterRefusal, false, time.Time{}
		s.expiresAt = start.Add(ttl)
		s.renewAt = s.expiresAt.Add(-min(s.renewBefore, ttl/2))
	}
	s.inflight = nil
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("upstream token exchange failed", "err", err)
	} else {
		s.log.Debug("upstream token renewed", "expires_in_ms", ttl.Milliseconds())
	}
	c.tok, c.err = tok, err
	close(c.done)
}

// throttledFor is how long the token endpoint asked porxgate to wait when
// an exchange failed on its throttle (429 or 408 with a Retry-After, the
// last answer of an exchange that gave up), at most maxRetryAfter as for
// EPS calls; 0 otherwise.
func throttledFor(err error, now time.Time) time.Duration {
	var re *RetryError
	if !errors.As(err, &re) || re.Last == nil || !throttledStatus(re.Last.Status) {
		return 0
	}
	return min(retryAfter(re.Last.Header.Get("Retry-After"), now), maxRetryAfter)
}

// fetch posts a token request to the token endpoint; assertionTransport,
// below the retries, gives each attempt its body.
func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, nil)
	if err != nil {
		return "", 0, &TokenError{Err: fmt.Errorf("build token request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.rt.RoundTrip(req)
	if err != nil {
		return "", 0, &TokenError{Err: err}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return "", 0, &TokenError{Err: fmt.Errorf("read token answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, &TokenError{Status: resp.StatusCode, Body: buf.Bytes()}
	}
	tok, ttl, err := parseTokenAnswer(buf.Bytes())
	if err != nil {
		return "", 0, &TokenError{Status: resp.StatusCode, Body: buf.Bytes(), Err: err}
	}
	return tok, ttl, nil
}

// parseTokenAnswer reads a token endpoint's 200 answer: the access token
// and its lifetime.
func parseTokenAnswer(body []byte) (string, time.Duration, error) {
	var ans struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		TokenType   string          `json:"token_type"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return "", 0, fmt.Errorf("decode token answer: %w", err)
	}
	if ans.AccessToken == "" {
		return "", 0, errors.New("token answer has no access_token")
	}
	ttl, err := parseExpiresIn(ans.ExpiresIn)
	if err != nil {
		return "", 0, err
	}
	return ans.AccessToken, ttl, nil
}

// parseExpiresIn accepts expires_in as a JSON number or, as the NHS API
// platform sends it, a string of seconds.
func parseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" {
		return 0, fmt.Errorf("token answer has no expires_in")
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n > 0) {
		return 0, fmt.Errorf("token answer expires_in %q invalid", s)
	}
	// Access tokens live minutes; clamping keeps absurd values from
	// overflowing and only makes renewal earlier.
	const maxTTL = 24 * time.Hour
	if n > maxTTL.Seconds() {
		return maxTTL, nil
	}
	return time.Duration(n * float64(time.Second)), nil
}

// tokenForm is the body of one token request: a client assertion signed
// now, with a jti of its own.
func (s *tokenSource) tokenForm() ([]byte, error) {
	assertion, err := signAssertion(s.key, s.kid, s.apiKey, s.tokenURL, s.newID(), s.now(), s.lifetime)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":            {grantType},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
	return []byte(form.Encode()), nil
}

// assertionTransport gives every attempt of a token request a newly
// signed client assertion. The token endpoint spends an assertion's jti
// when it takes it ("Non-unique 'jti' claim in JWT" for a second use), so
// an attempt whose answer was lost (a connection closed, a 5xx from a
// gateway in front) cannot be resent as it was; a fresh exp also keeps a
// late retry's assertion its whole lifetime.
type assertionTransport struct {
	next   http.RoundTripper
	tokens *tokenSource
}

// RoundTrip implements http.RoundTripper.
func (t assertionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := t.tokens.tokenForm()
	if err != nil {
		return nil, permanent(err)
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return t.next.RoundTrip(r)
}

// authTransport adds the bearer token. When the API answers 401 to a cached
// token it drops that token and resends once with a fresh one. A 401 is
// about porxgate's credentials, never about the request: one that stands
// (the fresh token refused too, no fresh token to be had, or no
// authentication configured) fails the call with an error wrapping
// ErrUnauthorized (or the TokenError) instead of coming back as a final
// answer. A nil tokenSource means authentication is off.
type authTransport struct {
	next   http.RoundTripper
	tokens *tokenSource
}

// RoundTrip implements http.RoundTripper.
func (t authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.tokens == nil {
		resp, err := t.next.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, unauthorized(req, resp, "with no authentication configured")
		}
		return resp, err
	}
	tok, err := t.tokens.token(req.Context())
	if err != nil {
		return nil, permanent(err) // the token chain has retried already
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.tokens.accepted(tok)
		return resp, nil
	}
	if !t.tokens.refused(tok) {
		return nil, unauthorized(req, resp, "with a token that replaced a refused one: the credentials are refused")
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return nil, unauthorized(req, resp, "and the request cannot be resent")
	}
	tok2, err := t.tokens.token(req.Context())
	if err != nil {
		resp.Body.Close()
		return nil, permanent(fmt.Errorf("access token refused (401) and no fresh one: %w", err))
	}
	r2 := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			resp.Body.Close()
			return nil, permanent(fmt.Errorf("replay request body: %w", err))
		}
		r2.Body = body
	}
	r2.Header.Set("Authorization", "Bearer "+tok2)
	resp.Body.Close()
	resp, err = t.next.RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		t.tokens.refused(tok2)
		return nil, unauthorized(req, resp, "with a freshly exchanged access token")
	}
	t.tokens.accepted(tok2)
	return resp, nil
}

// unauthorized closes a 401 answer and returns the permanent error that
// replaces it (the body, an OperationOutcome, is kept in the message).
func unauthorized(req *http.Request, resp *http.Response, how string) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return permanent(fmt.Errorf("%s %s answered 401 %s: %w: %s", req.Method, req.URL.Path, how, ErrUnauthorized, body))
}
