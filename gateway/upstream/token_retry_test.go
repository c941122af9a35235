package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestTokenRetryFreshAssertion: the token endpoint took an exchange (its
// jti is spent) but its answer was lost on the way back — the connection
// closed, or a gateway in front of it answered 5xx. The retry must carry a
// newly signed assertion with a fresh jti: the NHS platform refuses a jti
// seen before ("Non-unique 'jti' claim in JWT"), so resending the same
// bytes failed the exchange and every call waiting on it.
func TestTokenRetryFreshAssertion(t *testing.T) {
	tests := []struct {
		name string
		lose func(w http.ResponseWriter)
	}{
		{"answer lost", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{"gateway 504", func(w http.ResponseWriter) { w.WriteHeader(http.StatusGatewayTimeout) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := genKey(t)
			s, simRoot := startSim(t, sim.Options{PublicKey: &key.PublicKey, APIKey: "app-key", Kid: "k1"})
			// The first token request reaches the simulator, which issues a
			// token, and its answer is lost.
			var tokenCalls atomic.Int32
			front := lostAnswers(t, simRoot, func(r *http.Request) bool {
				return strings.HasSuffix(r.URL.Path, "/oauth2/token") && tokenCalls.Add(1) == 1
			}, tt.lose)
			cfg := testConfig(front, nil)
			cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", key, front+"/oauth2/token"
			c := newClient(t, cfg)
			r, err := c.Metadata(context.Background())
			wantStatus(t, "metadata after a lost token answer", r, err, http.StatusOK)
			if n := tokenCalls.Load(); n != 2 {
				t.Fatalf("%d token requests, want 2 (the lost one and its retry)", n)
			}
			if st := s.Stats(); st.TokensIssued != 2 {
				t.Fatalf("simulator issued %d tokens, want 2", st.TokensIssued)
			}
		})
	}
}

// TestTokenRefusalsOpenTheTokenBreaker: a token endpoint that refuses
// porxgate's client assertion (4xx: a kid missing from the JWKS during a
// key rotation, a revoked API key), or answers 200 with something that is
// no token (a proxy's page, a token answer without access_token), fails
// every exchange alike, whatever call needs the token. Such answers now
// count as failures of the token breaker, so that after
// ConsecutiveFailures of them calls fail fast (TokenError wrapping
// ErrBreakerOpen) instead of each sending one more assertion: before,
// every call made a token request, 20 for 20 calls, and no breaker ever
// opened. A throttled exchange (429) does not count. The FHIR breakers
// stay closed; once the endpoint grants a token again, the half-open
// probe closes the token breaker.
func TestTokenRefusalsOpenTheTokenBreaker(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"refused", http.StatusUnauthorized, `{"error":"invalid_request","error_description":"Invalid 'kid' header in JWT - no matching public key"}`},
		{"bad request", http.StatusBadRequest, `{"error":"invalid_request","error_description":"Invalid exp claim in JWT - more than 5 minutes in future"}`},
		{"not JSON", http.StatusOK, `<html><body>Sign in to the network</body></html>`},
		{"no access_token", http.StatusOK, `{"token_type":"Bearer","expires_in":"599"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var failing, throttle atomic.Bool
			failing.Store(true)
			root, tokenRequests := tokenEPS(t, func(w http.ResponseWriter) bool {
				switch {
				case throttle.Load():
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = w.Write([]byte(`{"error":"rate_limited"}`))
				case failing.Load():
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(tt.body))
				default:
					return false
				}
				return true
			})
			cfg := tokenConfig(t, root)
			cfg.Retry.MaxAttempts = 1
			cfg.Breaker = BreakerConfig{ConsecutiveFailures: 3, Timeout: time.Second, MaxRequestsHalfOpen: 1}
			c := newClient(t, cfg)

			throttle.Store(true)
			for range 5 {
				if _, err := c.Metadata(context.Background()); err == nil || errors.Is(err, ErrBreakerOpen) {
					t.Fatalf("call with the token endpoint throttling: %v, want a token error, not the breaker", err)
				}
			}
			if st := c.BreakerStates()[OpToken]; st != "closed" {
				t.Fatalf("token breaker %s after throttled exchanges, want closed", st)
			}
			throttle.Store(false)
			tokenRequests.Store(0)
			for i := range 20 {
				_, err := c.Metadata(context.Background())
				var te *TokenError
				if !errors.As(err, &te) {
					t.Fatalf("call %d with the token endpoint failing: %v, want a TokenError", i, err)
				}
			}
			if n := tokenRequests.Load(); n != 3 {
				t.Fatalf("%d token requests for 20 calls with the token endpoint failing, want 3 (then the breaker opens)", n)
			}
			for op, st := range c.BreakerStates() {
				if want := map[bool]string{true: "open", false: "closed"}[op == OpToken]; st != want {
					t.Fatalf("breaker %s %s, want %s", op, st, want)
				}
			}
			failing.Store(false)
			time.Sleep(1100 * time.Millisecond)
			r, err := c.Metadata(context.Background())
			if err != nil || r.Status != http.StatusOK {
				t.Fatalf("call once the endpoint grants a token: %+v, %v", r, err)
			}
			if st := c.BreakerStates()[OpToken]; st != "closed" {
				t.Fatalf("token breaker %s after a granted exchange, want closed", st)
			}
		})
	}
}

// TestTokenBreakerClosesOnOneGrant: token exchanges run one at a time
// and each grants a token good for minutes, so the token breaker's
// half-open probe is one exchange: its success closes it. Before, the
// token breaker shared the FHIR operations' half-open quota (3 successes
// in a row), which one exchange per token lifetime took half an hour to
// reach: after the token endpoint recovered, the breaker was reported
// half-open (the gauge at 1, /readyz and the admin page "half-open") while
// every call went through, and one failed renewal in that time opened it
// again at once.
func TestTokenBreakerClosesOnOneGrant(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	root, _ := tokenEPS(t, func(w http.ResponseWriter) bool {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return failing.Load()
	})
	cfg := tokenConfig(t, root)
	cfg.Breaker = BreakerConfig{ConsecutiveFailures: 2, Timeout: 500 * time.Millisecond} // half-open quota: the default 3
	c := newClient(t, cfg)
	if _, err := c.Metadata(context.Background()); err == nil {
		t.Fatal("call with the token endpoint down succeeded")
	}
	if st := c.BreakerStates()[OpToken]; st != "open" {
		t.Fatalf("token breaker %s with the token endpoint down, want open", st)
	}
	failing.Store(false)
	time.Sleep(600 * time.Millisecond)
	for i := range 5 {
		if r, err := c.Metadata(context.Background()); err != nil || r.Status != http.StatusOK {
			t.Fatalf("call %d after the token endpoint recovered: %+v, %v", i, r, err)
		}
		if st := c.BreakerStates()[OpToken]; st != "closed" {
			t.Fatalf("token breaker %s after call %d with a granted token, want closed", st, i)
		}
	}
}

// tokenEPS serves an EPS whose FHIR endpoints answer every call with a
// CapabilityStatement and whose token endpoint answers as fail writes,
// or, when fail writes nothing and returns false, grants a token. It
// returns the root URL and the count of token requests.
func tokenEPS(t *testing.T, fail func(w http.ResponseWriter) bool) (string, *atomic.Int32) {
	t.Helper()
	var tokenRequests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			tokenRequests.Add(1)
			w.Header().Set("Content-Type", "application/json")
			if !fail(w) {
				_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":"599","token_type":"Bearer"}`))
			}
			return
		}
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &tokenRequests
}

// tokenConfig is testConfig against root with OAuth2 on, its token
// endpoint at root/oauth2/token.
func tokenConfig(t *testing.T, root string) Config {
	t.Helper()
	cfg := testConfig(root, nil)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", genKey(t), root+"/oauth2/token"
	return cfg
}

// TestTokenEndpointRetryAfterHonoured: a token endpoint that throttles
// porxgate (429 with a Retry-After beyond the exchange's deadline) is not
// asked again before that time: calls needing a token fail at once with a
// TokenError meanwhile. Before, every call started one more exchange at
// once (10 token requests for 10 calls inside the 30s it asked for), the
// way to stay throttled; the throttle does not trip the token breaker,
// so nothing else held them back.
func TestTokenEndpointRetryAfterHonoured(t *testing.T) {
	clk := &clock{t: t0}
	var throttle atomic.Bool
	throttle.Store(true)
	root, tokenRequests := tokenEPS(t, func(w http.ResponseWriter) bool {
		if throttle.Load() {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"rate_limited"}`))
		}
		return throttle.Load()
	})
	cfg := tokenConfig(t, root)
	cfg.Now = clk.Now
	c := newClient(t, cfg)
	for i := range 10 {
		_, err := c.Metadata(context.Background())
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("call %d with the token endpoint throttling: %v, want a TokenError", i, err)
		}
		clk.Add(time.Second)
	}
	if n := tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests within the Retry-After, want 1", n)
	}
	throttle.Store(false)
	clk.Add(21 * time.Second)
	if r, err := c.Metadata(context.Background()); err != nil || r.Status != http.StatusOK {
		t.Fatalf("call after the Retry-After: %+v, %v", r, err)
	}
	if n := tokenRequests.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
}

// TestTokenEndpointRetryAfterBounded: a token endpoint's Retry-After of a
// day (a proxy's mistake) holds exchanges back for at most maxRetryAfter,
// as it does EPS calls: before, no token was asked for a day, and every
// message waited that long once the cached token expired.
func TestTokenEndpointRetryAfterBounded(t *testing.T) {
	clk := &clock{t: t0}
	var throttle atomic.Bool
	throttle.Store(true)
	root, tokenRequests := tokenEPS(t, func(w http.ResponseWriter) bool {
		if throttle.Load() {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
		}
		return throttle.Load()
	})
	cfg := tokenConfig(t, root)
	cfg.Now = clk.Now
	c := newClient(t, cfg)
	if _, err := c.Metadata(context.Background()); err == nil {
		t.Fatal("call with the token endpoint throttling succeeded")
	}
	throttle.Store(false)
	clk.Add(maxRetryAfter + time.Second)
	if r, err := c.Metadata(context.Background()); err != nil || r.Status != http.StatusOK {
		t.Fatalf("call %s later: %+v, %v; want a token asked for again", maxRetryAfter+time.Second, r, err)
	}
	if n := tokenRequests.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
}
