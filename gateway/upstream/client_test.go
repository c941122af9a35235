package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

func wantStatus(t *testing.T, name string, r *Response, err error, status int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", name, r.Status, status, r.Body)
	}
}

func TestClientEveryOperation(t *testing.T) {
	mk := &rxMaker{}
	s, root := startSim(t, sim.Options{})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	ctx := WithCorrelationID(context.Background(), "conv-1")
	p := mk.next(t, "FH542")

	r, err := c.ProcessMessage(ctx, p.fixture(t, "prescription-order.json", nil))
	wantStatus(t, "prescription-order", r, err, 200)
	r, err = c.Release(ctx, p.fixture(t, "release-patient.json", nil))
	wantStatus(t, "release", r, err, 200)
	if !bytes.Contains(r.Body, []byte(p.sf)) {
		t.Fatalf("release answer lacks the prescription: %.300s", r.Body)
	}
	r, err = c.ProcessMessage(ctx, p.fixture(t, "dispense-notification.json", map[string]string{"MESSAGEID": "d1"}))
	wantStatus(t, "dispense-notification", r, err, 200)
	r, err = c.PostTask(ctx, p.fixture(t, "withdraw.json", map[string]string{"FOCUSID": "d1", "MESSAGEID": "w1"}))
	wantStatus(t, "withdraw", r, err, 200)
	r, err = c.ProcessMessage(ctx, p.fixture(t, "dispense-notification.json", map[string]string{"MESSAGEID": "d2"}))
	wantStatus(t, "dispense-notification again", r, err, 200)
	r, err = c.PostClaim(ctx, p.fixture(t, "claim.json", nil))
	wantStatus(t, "claim", r, err, 200)
	r, err = c.TrackerGet(ctx, url.Values{"focus:identifier": {p.sf}})
	wantStatus(t, "tracker", r, err, 200)
	if !bytes.Contains(r.Body, []byte(`"code":"0008"`)) {
		t.Fatalf("tracker does not show the claim: %.400s", r.Body)
	}
	r, err = c.Metadata(ctx)
	wantStatus(t, "metadata", r, err, 200)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	r, err = c.Prepare(ctx, p.fixture(t, "prescription-order.json", nil))
	wantStatus(t, "prepare (not retried 501)", r, err, 501)
	if r.Attempts != 1 {
		t.Fatalf("501 was retried: %d attempts", r.Attempts)
	}

	q := mk.next(t, "FH542")
	r, err = c.ProcessMessage(ctx, q.fixture(t, "prescription-order.json", nil))
	wantStatus(t, "second order", r, err, 200)
	r, err = c.Release(ctx, q.fixture(t, "release-nominated.json", nil))
	wantStatus(t, "nominated release", r, err, 200)
	r, err = c.PostTask(ctx, q.fixture(t, "return.json", map[string]string{"MESSAGEID": "r1"}))
	wantStatus(t, "return", r, err, 200)
	r, err = c.ProcessMessage(ctx, q.fixture(t, "cancel.json", map[string]string{"MESSAGEID": "x1"}))
	wantStatus(t, "cancel", r, err, 200)

	seen := map[string]bool{}
	for _, a := range rec.attempts("") {
		if a.correlationID != "conv-1" {
			t.Fatalf("%s sent X-Correlation-ID %q", a.path, a.correlationID)
		}
		if len(a.requestID) != 36 || seen[a.requestID] {
			t.Fatalf("%s sent X-Request-ID %q (fresh UUID per call expected)", a.path, a.requestID)
		}
		seen[a.requestID] = true
	}
	if got := s.Stats().Requests; got["process-message"] != 5 || got["release"] != 2 || got["task"] != 2 ||
		got["claim"] != 1 || got["tracker"] != 1 || got["metadata"] != 2 || got["prepare"] != 1 {
		t.Fatalf("sim saw %v", got)
	}
}

func TestCorrelationIDFreshWithoutContext(t *testing.T) {
	_, root := startSim(t, sim.Options{})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	for range 2 {
		if _, err := c.Metadata(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a := rec.attempts("/metadata")
	if a[0].correlationID == "" || a[0].correlationID == a[1].correlationID {
		t.Fatalf("correlation ids %q, %q: want fresh ones", a[0].correlationID, a[1].correlationID)
	}
}

// TestRetriedPrescriptionOrderCreatesOne: the first attempt is stored by the
// simulator but its answer is lost; the retry must not make a second
// prescription, and the caller must see success.
func TestRetriedPrescriptionOrderCreatesOne(t *testing.T) {
	mk := &rxMaker{}
	tests := []struct {
		name         string
		faults       sim.Faults
		replay       bool
		wantResolved bool
	}{
		{"503 after storing", sim.Faults{Fail5xxAfter: 1}, false, true},
		{"connection dropped after storing", sim.Faults{DropAfter: 1}, false, true},
		{"503 after storing, sim replays request ids", sim.Faults{Fail5xxAfter: 1}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, root := startSim(t, sim.Options{Faults: tt.faults, ReplayRequestIDs: tt.replay})
			rec := newRecorder()
			c := newClient(t, testConfig(root, rec))
			p := mk.next(t, "FH542")
			body := p.fixture(t, "prescription-order.json", nil)
			r, err := c.ProcessMessage(context.Background(), body)
			wantStatus(t, "prescription-order", r, err, 200)
			if r.Attempts != 2 || r.DuplicateResolved != tt.wantResolved {
				t.Fatalf("attempts %d resolved %v, want 2 and %v", r.Attempts, r.DuplicateResolved, tt.wantResolved)
			}
			if s.State().Len() != 1 {
				t.Fatalf("simulator holds %d prescriptions, want 1", s.State().Len())
			}
			a := rec.attempts("/$process-message")
			if len(a) != 2 || a[0].requestID != a[1].requestID || a[0].requestID != r.RequestID ||
				!bytes.Equal(a[0].body, body) || !bytes.Equal(a[1].body, body) || a[0].correlationID != a[1].correlationID {
				t.Fatalf("attempts differ: %+v", a)
			}
		})
	}
}

// TestDuplicateAfterUndeliveredAttemptStays400: when the earlier attempt
// never connected, a DUPLICATE answer is someone else's prescription.
func TestDuplicateAfterUndeliveredAttemptStays400(t *testing.T) {
	mk := &rxMaker{}
	_, root := startSim(t, sim.Options{})
	p := mk.next(t, "FH542")
	body := p.fixture(t, "prescription-order.json", nil)
	plain := newClient(t, testConfig(root, nil))
	r, err := plain.ProcessMessage(context.Background(), body)
	wantStatus(t, "first order", r, err, 200)

	rec := newRecorder()
	rec.fail = func(n int, _ *http.Request) error {
		if n == 1 {
			return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		return nil
	}
	c := newClient(t, testConfig(root, rec))
	r, err = c.ProcessMessage(context.Background(), body)
	wantStatus(t, "duplicate", r, err, 400)
	if r.Attempts != 2 || r.DuplicateResolved {
		t.Fatalf("attempts %d resolved %v, want 2 and false", r.Attempts, r.DuplicateResolved)
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	mk := &rxMaker{}
	_, root := startSim(t, sim.Options{})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	p := mk.next(t, "FH542")
	body := p.fixture(t, "prescription-order.json", nil)
	if _, err := c.ProcessMessage(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	// The same Bundle again is a message EPS took (202 Duplicate HL7 ID
	// Error); another message for the same prescription a duplicate
	// prescription. Neither is resolved: nothing was retried.
	r, err := c.ProcessMessage(context.Background(), body)
	wantStatus(t, "duplicate", r, err, 400)
	if r.Attempts != 1 || r.DuplicateResolved || !hasIssueCode(r.Body, "202") {
		t.Fatalf("attempts %d resolved %v body %s", r.Attempts, r.DuplicateResolved, r.Body)
	}
	r, err = c.ProcessMessage(context.Background(), p.fixture(t, "prescription-order.json", map[string]string{"MESSAGEID": "d0000000-0000-4000-8000-000000000099"}))
	wantStatus(t, "duplicate", r, err, 400)
	if r.Attempts != 1 || r.DuplicateResolved || !hasIssueCode(r.Body, "DUPLICATE_PRESCRIPTION_ID") {
		t.Fatalf("attempts %d resolved %v body %s", r.Attempts, r.DuplicateResolved, r.Body)
	}
	if n := len(rec.attempts("/$process-message")); n != 3 {
		t.Fatalf("%d attempts on the wire, want 3 (one per call)", n)
	}
}

func TestRetriesExhausted(t *testing.T) {
	_, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1}})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	_, err := c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
	var re *RetryError
	if !errors.Is(err, ErrRetriesExhausted) || !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RetryError", err)
	}
	if re.Attempts != 3 || re.Last == nil || re.Last.Status != 503 || re.Op != OpClaim {
		t.Fatalf("RetryError %+v", re)
	}
	a := rec.attempts("/Claim")
	if len(a) != 3 || a[0].requestID != a[1].requestID || a[1].requestID != a[2].requestID || a[0].requestID != re.RequestID {
		t.Fatalf("attempts %+v", a)
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	_, root := startSim(t, sim.Options{Faults: sim.Faults{Down: true}})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	_, err := c.Metadata(context.Background())
	var re *RetryError
	if !errors.As(err, &re) || re.Last != nil || re.Err == nil || re.Attempts != 3 {
		t.Fatalf("err = %v (%+v), want RetryError after 3 network failures", err, re)
	}
}

func TestTotalDeadline(t *testing.T) {
	_, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1}})
	cfg := testConfig(root, nil)
	cfg.Retry.MaxAttempts = 100
	cfg.Retry.BaseBackoff, cfg.Retry.MaxBackoff = 20*time.Millisecond, 20*time.Millisecond
	cfg.Retry.TotalTimeout = 100 * time.Millisecond
	c := newClient(t, cfg)
	_, err := c.Metadata(context.Background())
	var re *RetryError
	if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) || re.Attempts >= 100 {
		t.Fatalf("err = %v, want RetryError bounded by the total deadline", err)
	}
}

func TestCallerCancellation(t *testing.T) {
	_, root := startSim(t, sim.Options{Faults: sim.Faults{LatencyMs: 60_000}})
	cfg := testConfig(root, nil)
	cfg.Breaker.ConsecutiveFailures = 1
	c := newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Metadata(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if st := c.BreakerStates()[OpMetadata]; st != "closed" {
		t.Fatalf("breaker %s after a caller cancellation", st)
	}
}

func TestAttemptTimeoutCountsForBreaker(t *testing.T) {
	_, root := startSim(t, sim.Options{Faults: sim.Faults{LatencyMs: 60_000}})
	cfg := testConfig(root, nil)
	cfg.Breaker.ConsecutiveFailures = 1
	cfg.Retry.MaxAttempts = 1
	cfg.Retry.AttemptTimeout = 50 * time.Millisecond
	c := newClient(t, cfg)
	if _, err := c.Metadata(context.Background()); !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("err = %v, want exhausted retries", err)
	}
	if st := c.BreakerStates()[OpMetadata]; st != "open" {
		t.Fatalf("breaker %s after an upstream timeout, want open", st)
	}
}

func TestBreakerOpensAndCloses(t *testing.T) {
	s, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1}})
	var mu sync.Mutex
	var changes []string
	cfg := testConfig(root, nil)
	cfg.Retry.MaxAttempts = 1
	cfg.Breaker = BreakerConfig{ConsecutiveFailures: 3, Timeout: 100 * time.Millisecond, MaxRequestsHalfOpen: 1}
	cfg.OnBreakerStateChange = func(op, from, to string) {
		mu.Lock()
		changes = append(changes, op+":"+from+"->"+to)
		mu.Unlock()
	}
	c := newClient(t, cfg)
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.TrackerGet(ctx, url.Values{"identifier": {"X"}}); !errors.Is(err, ErrRetriesExhausted) {
			t.Fatalf("call %d: %v, want exhausted retries", i, err)
		}
	}
	if st := c.BreakerStates()[OpTracker]; st != "open" {
		t.Fatalf("breaker %s after 3 failures, want open", st)
	}
	seen := s.Stats().Requests["tracker"]
	_, err := c.TrackerGet(ctx, url.Values{"identifier": {"X"}})
	if !errors.Is(err, ErrBreakerOpen) || !IsBreakerOpen(err) || errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("err = %v, want ErrBreakerOpen", err)
	}
	if s.Stats().Requests["tracker"] != seen {
		t.Fatal("an open breaker let a call through")
	}
	if st := c.BreakerStates()[OpMetadata]; st != "closed" {
		t.Fatalf("metadata breaker %s: breakers must be per operation", st)
	}
	s.SetFaults(sim.Faults{})
	deadline := time.Now().Add(5 * time.Second)
	for c.BreakerStates()[OpTracker] != "half-open" {
		if time.Now().After(deadline) {
			t.Fatal("breaker never went half-open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, err := c.TrackerGet(ctx, url.Values{"identifier": {"X"}})
	wantStatus(t, "tracker after recovery", r, err, 200)
	if st := c.BreakerStates()[OpTracker]; st != "closed" {
		t.Fatalf("breaker %s after a successful probe, want closed", st)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"tracker:closed->open", "tracker:open->half-open", "tracker:half-open->closed"}
	if strings.Join(changes, ",") != strings.Join(want, ",") {
		t.Fatalf("state changes %v, want %v", changes, want)
	}
}

func TestHasIssueCode(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"issue":[{"details":{"coding":[{"code":"DUPLICATE_PRESCRIPTION_ID"}]}}]}`, true},
		{`{"issue":[{"details":{"coding":[{"code":"OTHER"}]}}]}`, false},
		{`{"issue":[]}`, false},
		{`not json`, false},
		{`{"issue":[{"details":"x"}]}`, false},
	}
	for _, tt := range tests {
		if got := hasIssueCode([]byte(tt.body), "DUPLICATE_PRESCRIPTION_ID"); got != tt.want {
			t.Errorf("hasIssueCode(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestResolvedDuplicateBodyIsJSON(t *testing.T) {
	r := resolveDuplicate(&Response{Status: 400, Attempts: 2, earlierMaybeDelivered: true, RequestID: `a"b`,
		Body: []byte(`{"issue":[{"details":{"coding":[{"code":"DUPLICATE_PRESCRIPTION_ID"}]}}]}`)}, true)
	var oo map[string]any
	if !r.DuplicateResolved || r.Status != 200 || json.Unmarshal(r.Body, &oo) != nil {
		t.Fatalf("resolved answer %+v %s", r, r.Body)
	}
}

// TestResolveDuplicateHL7ID: a retry after an attempt that may have
// reached EPS, answered 202 Duplicate HL7 ID Error (EPS took the same
// Bundle already), is resolved to success for a prescription-order only:
// a dispense notification's or cancellation's first answer is the
// caller's to confirm (a cancellation's is a response Bundle, not a bare
// success); without a retry, or after an attempt that never reached EPS,
// it stays the refusal.
func TestResolveDuplicateHL7ID(t *testing.T) {
	body := []byte(`{"issue":[{"code":"invalid","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"202","display":"Duplicate HL7 ID Error"}]}}]}`)
	tests := []struct {
		name      string
		attempts  int
		delivered bool
		order     bool
		want      bool
	}{
		{"prescription-order retried", 2, true, true, true},
		{"other message retried", 2, true, false, false},
		{"prescription-order not retried", 1, false, true, false},
		{"earlier attempt never reached EPS", 2, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolveDuplicate(&Response{Status: 400, Attempts: tt.attempts, earlierMaybeDelivered: tt.delivered, Body: body}, tt.order)
			if r.DuplicateResolved != tt.want || (r.Status == 200) != tt.want {
				t.Fatalf("resolved %v status %d, want resolved %v", r.DuplicateResolved, r.Status, tt.want)
			}
		})
	}
	order := []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader","eventCoding":{"code":"prescription-order"}}}]}`)
	dn := []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MessageHeader","eventCoding":{"code":"dispense-notification"}}}]}`)
	if !isPrescriptionOrder(order) || isPrescriptionOrder(dn) || isPrescriptionOrder([]byte("x")) {
		t.Fatal("isPrescriptionOrder does not tell a prescription-order by its MessageHeader")
	}
}

func FuzzHasIssueCode(f *testing.F) {
	f.Add([]byte(`{"issue":[{"details":{"coding":[{"code":"DUPLICATE_PRESCRIPTION_ID"}]}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if hasIssueCode(body, "DUPLICATE_PRESCRIPTION_ID") && !bytes.Contains(body, []byte("DUPLICATE_PRESCRIPTION_ID")) {
			t.Fatalf("found a code that is not in %q", body)
		}
	})
}

// TestSessionURIDHeader checks that a call made for a user carries the
// user's role profile as NHSD-Session-URID, and one made without none.
func TestSessionURIDHeader(t *testing.T) {
	_, root := startSim(t, sim.Options{})
	rec := newRecorder()
	c := newClient(t, testConfig(root, rec))
	if _, err := c.Metadata(WithSessionURID(context.Background(), "555254240100")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Metadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := rec.attempts("")
	if len(a) != 2 || a[0].sessionURID != "555254240100" || a[1].sessionURID != "" {
		t.Fatalf("NHSD-Session-URID sent: %+v", a)
	}
}

// TestDefaultAttemptOutlastsEPSPolling: EPS answers a message only once it
// has Spine's answer, polling Spine 0.5s after sending and then every 5s
// for up to 25s (the coordinator's pollingTimeout) before it gives up with
// a 500. A Spine answer not ready at the 5.5s poll comes back at 10.5s:
// the default attempt must wait for it. Before, the 10s default cut every
// such call short and sent it again, so EPS worked on each message two or
// three times and the caller got a RetryError (a nominated release's
// answer lost with it).
func TestDefaultAttemptOutlastsEPSPolling(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10.5s for the simulated Spine answer")
	}
	_, root := startSim(t, sim.Options{Faults: sim.Faults{LatencyMs: 10_500, Ops: []string{"claim"}}})
	rec := newRecorder()
	cfg := testConfig(root, rec)
	cfg.Retry.AttemptTimeout, cfg.Retry.TotalTimeout = 0, 0 // the defaults
	c := newClient(t, cfg)
	r, err := c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
	if err != nil {
		t.Fatalf("claim answered at EPS's third poll of Spine: %v", err)
	}
	if n := len(rec.attempts("/Claim")); n != 1 || r.Attempts != 1 {
		t.Fatalf("%d attempts on the wire (%d reported), want 1", n, r.Attempts)
	}
}
