package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// throttlingEPS stands in front of the EPS simulator: from the first
// request it refuses every call with status and a Retry-After until a
// whole second at least window later, and passes calls through after.
type throttlingEPS struct {
	srv    *httptest.Server
	status int
	window time.Duration
	// httpDate writes the Retry-After as an HTTP date, not seconds.
	httpDate bool

	mu        sync.Mutex
	until     time.Time
	throttled int
}

// startThrottlingEPS runs a throttlingEPS in front of the simulator until
// the test ends.
func startThrottlingEPS(t *testing.T, status int, window time.Duration, httpDate bool) *throttlingEPS {
	t.Helper()
	_, simURL := serveSim(t, sim.Options{})
	target, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	e := &throttlingEPS{status: status, window: window, httpDate: httpDate}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		e.mu.Lock()
		if e.until.IsZero() {
			// A whole second, so that an HTTP date says it exactly.
			e.until = now.Add(e.window).Truncate(time.Second).Add(time.Second)
		}
		until := e.until
		throttled := now.Before(until)
		if throttled {
			e.throttled++
		}
		e.mu.Unlock()
		if !throttled {
			rp.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		ra := strconv.Itoa(int(until.Sub(now)/time.Second) + 1)
		if e.httpDate {
			ra = until.UTC().Format(http.TimeFormat)
		}
		w.Header().Set("Retry-After", ra)
		w.Header().Set("Content-Type", upstream.ContentTypeFHIR)
		w.WriteHeader(e.status)
		_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}`)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// stats returns the calls refused so far and when the refusals end (zero
// before the first call).
func (e *throttlingEPS) stats() (throttled int, until time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttled, e.until
}

// TestRetryAfterPacesDeferredMessages: EPS (or the API platform in front
// of it) refusing a call with 429, or 503, and a Retry-After longer than
// what is left of the call's total deadline, asks porxgate not to call
// again before then. The client gives the call up at once and the
// message waits in the store: it must wait that long, not the usual
// deferral (the breaker's open period, at most the retry interval), and
// be sent once the time has come, answered AA, neither lost nor
// dead-lettered. Before, the deferred message was sent again every
// deferral: 2 s of Retry-After cost 60 to 70 refused calls of one
// message (retry interval 30 ms).
func TestRetryAfterPacesDeferredMessages(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		httpDate bool
	}{
		{"429 with seconds", http.StatusTooManyRequests, false},
		{"429 with an HTTP date", http.StatusTooManyRequests, true},
		{"503 with seconds", http.StatusServiceUnavailable, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eps := startThrottlingEPS(t, tt.status, 2*time.Second, tt.httpDate)
			client, err := upstream.New(upstream.Config{
				BaseURL: eps.srv.URL + "/FHIR/R4",
				Retry: upstream.RetryConfig{MaxAttempts: 3, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
					TotalTimeout: time.Second},
				Breaker: upstream.BreakerConfig{Timeout: 50 * time.Millisecond},
			}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.Close() })
			mhs := startMHS(t, "ack")
			cfg := testConfig()
			cfg.BreakerOpen = 50 * time.Millisecond
			st, _ := redisStore(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
			g := startGateway(t, cfg, st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))

			// The first message is refused; the second comes while EPS's
			// Retry-After runs.
			want := map[string]bool{}
			for n, fixture := range []string{"acute-nurse-controlled-drug-unsigned.json", "repeat-prescribing-dental-four-items.json"} {
				payload, hl7ID := legacyPrescription(t, fixture)
				want[hl7ID] = true
				r := newReq(newID(t, 90+2*i+n))
				r.payload = payload
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("ebXML POST = %d\n%s", code, body)
				}
				waitFor(t, "EPS's first refusal", func() bool { n, _ := eps.stats(); return n > 0 })
			}
			var answeredAt time.Time
			waitFor(t, "the MCCI answers once EPS takes calls again", func() bool {
				var aa int
				for _, m := range mhs.messages() {
					if m.msg != nil && m.msg.Action == v3.ApplicationAcknowledgement {
						if tc, ref := ackOf(t, m.msg.Payload.Body); tc != "AA" || !want[ref] {
							t.Fatalf("answer %s for %s, want AA for one of %v", tc, ref, want)
						}
						aa++
					}
				}
				if aa == len(want) {
					answeredAt = time.Now()
				}
				return aa == len(want)
			})
			throttled, until := eps.stats()
			if throttled != 1 {
				t.Errorf("EPS refused %d calls in the %s it asked for, want 1: a message was sent before the time EPS gave",
					throttled, eps.window)
			}
			if answeredAt.Before(until) {
				t.Errorf("answered at %s, before EPS took calls again (%s)", answeredAt.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
			}
			if dls, _ := g.srv.store.DeadLetters(t.Context(), 10); len(dls) != 0 {
				t.Errorf("%d dead letters", len(dls))
			}
		})
	}
}
