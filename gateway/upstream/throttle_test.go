package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestThrottledAnswersRetried: EPS (or the API platform in front of it)
// answering 429 Too Many Requests or 408 Request Timeout has not looked at
// the request: the client tries again, and when every attempt is refused
// the call fails with a *RetryError, never a final Response that a caller
// would take for EPS's verdict on the message. Before, a 429 came back as
// a final 4xx and the gateway answered the legacy sender with an AE.
func TestThrottledAnswersRetried(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusRequestTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			mk := &rxMaker{}
			s, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: 1, Status: status}})
			rec := newRecorder()
			c := newClient(t, testConfig(root, rec))
			p := mk.next(t, "FH542")
			r, err := c.ProcessMessage(context.Background(), p.fixture(t, "prescription-order.json", nil))
			wantStatus(t, "after one refusal", r, err, 200)
			if r.Attempts != 2 || s.State().Len() != 1 {
				t.Fatalf("attempts %d, prescriptions held %d; want 2 and 1", r.Attempts, s.State().Len())
			}

			s.SetFaults(sim.Faults{Force5xx: -1, Status: status})
			_, err = c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
			var re *RetryError
			if !errors.As(err, &re) || re.Last == nil || re.Last.Status != status || re.Attempts != 3 {
				t.Fatalf("err = %v, want a RetryError after 3 attempts refused with %d", err, status)
			}
		})
	}
}

// TestThrottledThenDuplicateStays400: a 429 says the request was not
// processed, so a DUPLICATE_PRESCRIPTION_ID on the retry is someone
// else's prescription, not this call's earlier attempt.
func TestThrottledThenDuplicateStays400(t *testing.T) {
	mk := &rxMaker{}
	s, root := startSim(t, sim.Options{})
	p := mk.next(t, "FH542")
	body := p.fixture(t, "prescription-order.json", nil)
	c := newClient(t, testConfig(root, nil))
	r, err := c.ProcessMessage(context.Background(), body)
	wantStatus(t, "first order", r, err, 200)
	s.SetFaults(sim.Faults{Force5xx: 1, Status: http.StatusTooManyRequests})
	r, err = c.ProcessMessage(context.Background(), body)
	wantStatus(t, "the same order again", r, err, 400)
	if r.Attempts != 2 || r.DuplicateResolved {
		t.Fatalf("attempts %d resolved %v, want 2 and false", r.Attempts, r.DuplicateResolved)
	}
}

// TestRetryAfterBeyondDeadlineGivesUp: a Retry-After longer than what is
// left of the call's total deadline is obeyed by not trying again within
// this call: it fails at once as a RetryError (the message waits in the
// store), and the server sees one request.
func TestRetryAfterBeyondDeadlineGivesUp(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Type", ContentTypeFHIR)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}`))
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL, nil)
	cfg.Retry.TotalTimeout = 5 * time.Second
	c := newClient(t, cfg)
	_, err := c.PostTask(context.Background(), []byte(`{"resourceType":"Task"}`))
	var re *RetryError
	if !errors.As(err, &re) || re.Last == nil || re.Last.Status != http.StatusTooManyRequests || re.Attempts != 1 {
		t.Fatalf("err = %v, want a RetryError after the one attempt", err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-3": 0, "junk": 0, " 2 ": 2 * time.Second, "99999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestRetryAfterHoldsOtherCalls: a Retry-After is the API's answer to the
// client, not to one request (a rate limit, a service unavailable for a
// while): once one call is given one, the client's other calls are held
// back until then too. A call whose deadline ends first is not sent and
// fails at once with a *ThrottledError (errors.Is ErrThrottled) saying
// until when (NotBefore); one whose deadline reaches past it waits and
// is sent then. Before, every other call went to EPS and was refused in
// turn (a queue of N messages: N refused calls per Retry-After).
func TestRetryAfterHoldsOtherCalls(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		total      time.Duration
		wantHeld   bool // the second call is not sent
	}{
		{"beyond the deadline", "120", 2 * time.Second, true},
		{"within the deadline", "1", 5 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ContentTypeFHIR)
				if hits.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}`))
					return
				}
				_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`))
			}))
			t.Cleanup(srv.Close)
			cfg := testConfig(srv.URL, nil)
			cfg.Retry.MaxAttempts, cfg.Retry.TotalTimeout = 1, tt.total
			c := newClient(t, cfg)
			_, err := c.PostTask(context.Background(), []byte(`{"resourceType":"Task"}`))
			first := NotBefore(err)
			if first.IsZero() {
				t.Fatalf("first call: %v; want a RetryError with the Retry-After's NotBefore", err)
			}
			start := time.Now()
			r, err := c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
			took := time.Since(start)
			if tt.wantHeld {
				if !errors.Is(err, ErrThrottled) || !NotBefore(err).Equal(first) || hits.Load() != 1 || took > time.Second {
					t.Fatalf("second call: %v (NotBefore %s, after %s), EPS saw %d calls; want it not sent, at once, held until %s",
						err, NotBefore(err), took, hits.Load(), first)
				}
				return
			}
			if err != nil || r.Status != http.StatusOK || time.Now().Before(first) || hits.Load() != 2 {
				t.Fatalf("second call: %+v %v after %s, EPS saw %d calls; want it sent once the Retry-After (%s) had passed",
					r, err, took, hits.Load(), first)
			}
		})
	}
}

// TestRetryAfterHoldBounded: a Retry-After of a day (a proxy's mistake)
// holds calls back, and its message, for at most maxRetryAfter.
func TestRetryAfterHoldBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "86400")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL, nil)
	cfg.Retry.MaxAttempts = 1
	c := newClient(t, cfg)
	start := time.Now()
	_, err := c.PostTask(context.Background(), []byte(`{"resourceType":"Task"}`))
	if nb := NotBefore(err); nb.Before(start.Add(maxRetryAfter-time.Minute)) || nb.After(time.Now().Add(maxRetryAfter)) {
		t.Fatalf("NotBefore %s (%v), want about %s from now", nb, err, maxRetryAfter)
	}
}
