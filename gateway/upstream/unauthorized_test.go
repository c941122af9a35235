package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// expiredEarly returns a simulator requiring tokens and a client holding
// one that the simulator has expired while the client still trusts it
// (530s into its 599s on the client's clock, 600s on EPS's).
func expiredEarly(t *testing.T) (*sim.Server, *Client) {
	t.Helper()
	key := genKey(t)
	simClk, cliClk := &clock{t: t0}, &clock{t: t0}
	s, root := startSim(t, sim.Options{PublicKey: &key.PublicKey, Now: simClk.Now})
	cfg := testConfig(root, nil)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL, cfg.Now = "app-key", "k1", key, root+"/oauth2/token", cliClk.Now
	c := newClient(t, cfg)
	if _, err := c.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	cliClk.Add(530 * time.Second)
	simClk.Add(600 * time.Second)
	return s, c
}

// TestExpiredTokenWithTokenEndpointDown: EPS refuses the cached token
// (expired early, revoked) and the token endpoint is failing: the call
// fails with the TokenError, never with EPS's 401 as a final answer (the
// gateway turned that into an AE rejection of the sender's message).
func TestExpiredTokenWithTokenEndpointDown(t *testing.T) {
	s, c := expiredEarly(t)
	s.SetFaults(sim.Faults{Force5xx: -1, Token: true, Ops: []string{"none"}})
	r, err := c.ProcessMessage(context.Background(), []byte(`{"resourceType":"Bundle"}`))
	var te *TokenError
	if err == nil || !errors.As(err, &te) {
		t.Fatalf("call = %+v, %v; want a TokenError", r, err)
	}
	if st := s.Stats(); st.Unauthorized != 1 || st.Requests["process-message"] != 1 {
		t.Fatalf("stats %+v, want the one call refused once and not resent", st)
	}
}

// fixedTokenEPS is an EPS whose token endpoint issues tokens that its FHIR
// endpoints then refuse, as after a key or product change at the API
// platform.
func fixedTokenEPS(t *testing.T) (root string, tokens, calls *atomic.Int32) {
	t.Helper()
	tokens, calls = &atomic.Int32{}, &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			n := tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":"599","token_type":"Bearer"}`, n)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", ContentTypeFHIR)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"ACCESS_DENIED"}]}}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, tokens, calls
}

// TestFreshTokenRefusedIsAnError: EPS refuses even a freshly exchanged
// token: the call is resent once and then fails with ErrUnauthorized; the
// 401 is not handed back as EPS's answer to the request, and the token is
// never in the error.
func TestFreshTokenRefusedIsAnError(t *testing.T) {
	root, tokens, calls := fixedTokenEPS(t)
	cfg := testConfig(root, nil)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", genKey(t), root+"/oauth2/token"
	c := newClient(t, cfg)
	r, err := c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("call = %+v, %v; want an error wrapping ErrUnauthorized", r, err)
	}
	if strings.Contains(err.Error(), "tok-") {
		t.Fatalf("error carries the access token: %v", err)
	}
	if tokens.Load() != 2 || calls.Load() != 2 {
		t.Fatalf("%d token requests, %d calls; want 2 and 2 (one renewal, one resend)", tokens.Load(), calls.Load())
	}
}

// TestUnauthorizedWithoutAuthIsAnError: with no authentication configured
// a 401 is a misconfiguration, not EPS's verdict on the request.
func TestUnauthorizedWithoutAuthIsAnError(t *testing.T) {
	root, _, calls := fixedTokenEPS(t)
	c := newClient(t, testConfig(root, nil))
	r, err := c.PostTask(context.Background(), []byte(`{"resourceType":"Task"}`))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("call = %+v, %v; want an error wrapping ErrUnauthorized", r, err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

// TestConcurrent401sShareOneRenewal: many workers holding the same token
// that EPS now refuses renew it once between them, and every call goes
// through.
func TestConcurrent401sShareOneRenewal(t *testing.T) {
	s, c := expiredEarly(t)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Metadata(context.Background())
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("status %d", r.Status)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.TokenRequests != 2 {
		t.Fatalf("stats %+v: want 2 token requests (the first and one renewal)", st)
	}
}

// TestSlowTokenEndpoint: a token endpoint too slow for the client's
// deadlines fails each call with an error, never an answer (the caller
// stops waiting for the token at its attempt timeout: the processor defers
// the message), trips the token breaker only — the FHIR operations'
// breakers stay closed — and once it answers again calls go through.
func TestSlowTokenEndpoint(t *testing.T) {
	key := genKey(t)
	s, root := startSim(t, sim.Options{PublicKey: &key.PublicKey,
		Faults: sim.Faults{LatencyMs: 60_000, Token: true, Ops: []string{"none"}}})
	cfg := testConfig(root, nil)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", key, root+"/oauth2/token"
	cfg.Retry.MaxAttempts, cfg.Retry.AttemptTimeout = 2, 50*time.Millisecond
	cfg.Breaker = BreakerConfig{ConsecutiveFailures: 2, Timeout: 50 * time.Millisecond, MaxRequestsHalfOpen: 1}
	c := newClient(t, cfg)
	r, err := c.ProcessMessage(context.Background(), []byte(`{"resourceType":"Bundle"}`))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call with the token endpoint slow: %+v, %v; want a deadline error", r, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.BreakerStates()[OpToken] != "open" { // the exchange runs on in the background
		if time.Now().After(deadline) {
			t.Fatal("the token breaker never opened")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = c.ProcessMessage(context.Background(), []byte(`{"resourceType":"Bundle"}`))
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("call with the token breaker open: %v, want a TokenError wrapping ErrBreakerOpen", err)
	}
	for op, st := range c.BreakerStates() {
		if want := map[bool]string{true: "open", false: "closed"}[op == OpToken]; st != want {
			t.Fatalf("breaker %s %s, want %s", op, st, want)
		}
	}
	if n := s.Stats().Requests["process-message"]; n != 0 {
		t.Fatalf("%d calls reached EPS without a token", n)
	}
	s.SetFaults(sim.Faults{})
	// On a loaded machine an exchange may outrun the 50 ms attempt
	// timeout even with the endpoint well: that is tried again too.
	deadline = time.Now().Add(5 * time.Second)
	for {
		r, err := c.ProcessMessage(context.Background(), []byte(`{"resourceType":"Bundle"}`))
		if err == nil {
			if r.Status == http.StatusUnauthorized {
				t.Fatalf("answered 401 after recovery")
			}
			break
		}
		if !errors.Is(err, ErrBreakerOpen) && !errors.Is(err, context.DeadlineExceeded) || time.Now().After(deadline) {
			t.Fatalf("after the token endpoint recovered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStandingRefusalRenewsOncePerHoldoff: once EPS has refused a freshly
// exchanged token too (the credentials themselves refused: a key or
// product change at the API platform), later calls fail with
// ErrUnauthorized without exchanging a token each, until the breaker's
// open period has passed; then one renewal is tried again. Before, every
// call cost two token exchanges and two EPS calls, sequential or
// concurrent: a token storm proportional to the traffic.
func TestStandingRefusalRenewsOncePerHoldoff(t *testing.T) {
	for _, tc := range []struct {
		name       string
		concurrent bool
	}{{"sequential", false}, {"concurrent", true}} {
		t.Run(tc.name, func(t *testing.T) {
			root, tokens, calls := fixedTokenEPS(t)
			clk := &clock{t: t0}
			cfg := testConfig(root, nil)
			cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", genKey(t), root+"/oauth2/token"
			cfg.Now, cfg.Breaker.Timeout = clk.Now, 30*time.Second
			c := newClient(t, cfg)
			call := func() error {
				_, err := c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
				return err
			}
			if err := call(); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("first call: %v, want ErrUnauthorized", err)
			}
			const n = 20
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				run := func() { defer wg.Done(); errs <- call() }
				if tc.concurrent {
					go run()
				} else {
					run()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("call during a standing refusal: %v, want ErrUnauthorized", err)
				}
			}
			if got := tokens.Load(); got != 2 {
				t.Fatalf("%d token requests for %d calls refused within the holdoff (%d EPS calls), want 2 (the first, one renewal)",
					got, n+1, calls.Load())
			}
			if got := calls.Load(); got > 2+2*n {
				t.Fatalf("%d EPS calls", got)
			}
			clk.Add(31 * time.Second)
			if err := call(); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("call after the holdoff: %v, want ErrUnauthorized", err)
			}
			if got := tokens.Load(); got != 3 {
				t.Fatalf("%d token requests after the holdoff, want 3 (one more renewal)", got)
			}
		})
	}
}

// TestStandingRefusalEndsWhenTheTokenIsTaken: a call sent with the token
// before its refusal stood, and answered once EPS took it again, ends the
// standing refusal: the next call goes through with that token instead of
// failing until the holdoff is over. (The token endpoint here hands out
// one token string, so the renewal gives the same token back.)
func TestStandingRefusalEndsWhenTheTokenIsTaken(t *testing.T) {
	var refuse atomic.Bool
	inFlight, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":"599","token_type":"Bearer"}`))
			return
		}
		if strings.HasSuffix(r.URL.Path, "/Claim") { // the slow call, sent before the refusal
			close(inFlight)
			<-release
		} else if refuse.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement"}`))
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL, nil)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL = "app-key", "k1", genKey(t), srv.URL+"/oauth2/token"
	cfg.Breaker.Timeout = time.Hour
	c := newClient(t, cfg)
	slow := make(chan error, 1)
	go func() { _, err := c.PostClaim(context.Background(), []byte(`{}`)); slow <- err }()
	<-inFlight
	refuse.Store(true)
	for range 2 { // the refusal, renewed once, then standing
		if _, err := c.Metadata(context.Background()); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("call during the refusal: %v, want ErrUnauthorized", err)
		}
	}
	refuse.Store(false)
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("the call EPS answered: %v", err)
	}
	if r, err := c.Metadata(context.Background()); err != nil || r.Status != http.StatusOK {
		t.Fatalf("call after EPS took the token: %+v, %v", r, err)
	}
}
