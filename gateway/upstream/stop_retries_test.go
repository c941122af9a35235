package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestStopRetriesOn: a call under StopRetriesOn starts no attempt once
// its stop is closed: closed before the call, none is sent; closed while
// the call waits to retry a 503 (its backoff, or a Retry-After), it gives
// up at once with ErrRetriesStopped and the last answer; closed while an
// attempt is in flight, that attempt's answer is returned.
func TestStopRetriesOn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string        // the 503's Retry-After ("" none)
		stopAt     int32         // close stop once the server saw this many requests (0: before the call)
		inFlight   bool          // the stop comes during the attempt, which then succeeds
		wantHits   int32         // requests the server saw
		within     time.Duration // the whole call takes less than this
	}{
		{name: "stopped before the call", wantHits: 0, within: time.Second},
		{name: "stopped during the backoff", stopAt: 2, wantHits: 2, within: 2 * time.Second},
		{name: "stopped during a Retry-After", retryAfter: "30", stopAt: 1, wantHits: 1, within: 2 * time.Second},
		{name: "stopped during an attempt", stopAt: 1, inFlight: true, wantHits: 1, within: 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop := make(chan struct{})
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				w.Header().Set("Content-Type", ContentTypeFHIR)
				if tc.inFlight {
					if n == tc.stopAt {
						close(stop)
					}
					time.Sleep(100 * time.Millisecond)
					_, _ = w.Write([]byte(`{"resourceType":"Parameters","parameter":[]}`))
					return
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`))
				if n == tc.stopAt {
					close(stop)
				}
			}))
			t.Cleanup(srv.Close)
			cfg := testConfig(srv.URL, nil)
			cfg.Retry.MaxAttempts, cfg.Retry.BaseBackoff, cfg.Retry.MaxBackoff = 100, time.Second, time.Second
			cfg.Retry.TotalTimeout = time.Minute
			cfg.Retry.Jitter = func(max time.Duration) time.Duration { return max }
			cfg.Breaker.ConsecutiveFailures = 1000
			c := newClient(t, cfg)
			if tc.stopAt == 0 {
				close(stop)
			}
			start := time.Now()
			resp, err := c.Release(StopRetriesOn(context.Background(), stop), []byte(`{"resourceType":"Parameters"}`))
			took := time.Since(start)
			switch {
			case tc.inFlight:
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("call whose attempt was in flight at the stop = %v, %v; want its 200", resp, err)
				}
			case !errors.Is(err, ErrRetriesStopped):
				t.Fatalf("err = %v, want ErrRetriesStopped", err)
			case tc.stopAt > 0:
				var re *RetryError
				if !errors.As(err, &re) || re.Last == nil || re.Last.Status != http.StatusServiceUnavailable {
					t.Fatalf("err = %v, want a RetryError with the last 503", err)
				}
			}
			if n := hits.Load(); n != tc.wantHits {
				t.Errorf("server saw %d requests, want %d", n, tc.wantHits)
			}
			if took > tc.within {
				t.Errorf("the call took %v after its stop, want under %v", took, tc.within)
			}
		})
	}
}
