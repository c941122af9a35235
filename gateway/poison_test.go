package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// eps500 is the error EPSProcessor returns when EPS answered a message
// 5xx on every attempt of a call: deferred, the message not at fault as
// far as the pipeline can tell.
func eps500(in *Inbound) error {
	return Deferred(fmt.Errorf("%s %s upstream process-message: %w", in.Interaction, in.MessageID,
		&upstream.RetryError{Op: "process-message", Attempts: 3, Last: &upstream.Response{Status: 500}}))
}

// epsReset is the error EPSProcessor returns when every attempt of a call
// had its connection reset: EPS gave no answer at all.
func epsReset(in *Inbound) error {
	return Deferred(fmt.Errorf("%s %s upstream process-message: %w", in.Interaction, in.MessageID,
		&upstream.RetryError{Op: "process-message", Attempts: 3, Err: syscall.ECONNRESET}))
}

// epsFailures are the ways EPS fails a message that the poison rule
// counts: a 5xx answer, and no answer at all (the connection reset).
var epsFailures = []struct {
	name string
	fail func(in *Inbound) error
}{
	{"EPS answers 500", eps500},
	{"connection reset", epsReset},
}

// TestPoisonMessageDeadLettered: a message EPS answers 500 every time
// (EPS's translator fails on it, as it does on some messages Spine takes),
// or whose every call has its connection reset (a proxy in front of EPS,
// or EPS itself, failing on it), waits while EPS answers no other message
// of its interaction, but once EPS is seen answering others it goes to
// the dead letters after PoisonAfter such failures and its sender is told
// it was not processed (910009). Before, it was deferred for ever: never
// answered, and tried against EPS every few seconds (the connection reset
// until session 11: 75 calls in 3 s with PoisonAfter 3, no dead letter).
func TestPoisonMessageDeadLettered(t *testing.T) {
	for _, tc := range epsFailures {
		t.Run(tc.name, func(t *testing.T) { testPoisonMessageDeadLettered(t, tc.fail) })
	}
}

func testPoisonMessageDeadLettered(t *testing.T, fail func(in *Inbound) error) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	poison, good := newReq(newID(t, 61)), newReq(newID(t, 62))
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		if in.MessageID == poison.messageID {
			return nil, fail(in)
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	cfg := testConfig()
	cfg.PoisonAfter, cfg.PoisonMinAge = 3, 0
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	if code, _ := sendEb(t, g.base, poison); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	// EPS answers no other message yet: it may be down for everything.
	waitFor(t, "the poison message tried more than PoisonAfter times", func() bool { return proc.callsFor(poison.messageID) > 2*cfg.PoisonAfter })
	if n, _ := g.srv.store.QueueLen(context.Background(), inboxQueue); n != 1 || len(mhs.messages()) != 0 {
		t.Fatalf("inbox %d, MHS got %d messages; want the message waiting and nothing sent", n, len(mhs.messages()))
	}
	if code, _ := sendEb(t, g.base, good); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	if dl.MessageID != poison.messageID || !strings.Contains(dl.Reason, "times running") {
		t.Fatalf("dead letter %s: %s", dl.MessageID, dl.Reason)
	}
	waitFor(t, "the answer and the MessageError", func() bool { return len(mhs.messages()) == 2 })
	var msgErrors int
	for _, m := range mhs.messages() {
		if m.msg == nil && strings.Contains(string(m.body), "910009:") {
			msgErrors++
		}
	}
	if msgErrors != 1 {
		t.Errorf("MHS got %d MessageErrors (910009), want 1", msgErrors)
	}
	calls := proc.callsFor(poison.messageID)
	time.Sleep(10 * cfg.ProcessRetryInterval)
	if n := proc.callsFor(poison.messageID); n != calls {
		t.Errorf("the dead-lettered message was tried again (%d calls, then %d)", calls, n)
	}
}

// TestOutageIsNotPoison: while EPS answers every message 500 (an outage),
// no message is blamed: they all wait, however often they are tried.
func TestOutageIsNotPoison(t *testing.T) {
	for _, tc := range epsFailures {
		t.Run(tc.name, func(t *testing.T) { testOutageIsNotPoison(t, tc.fail) })
	}
}

func testOutageIsNotPoison(t *testing.T, fail func(in *Inbound) error) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) { return nil, fail(in) }
	cfg := testConfig()
	cfg.PoisonAfter, cfg.PoisonMinAge = 2, 0
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	a, b := newReq(newID(t, 63)), newReq(newID(t, 64))
	for _, r := range []ebReq{a, b} {
		if code, _ := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatal("not acknowledged")
		}
	}
	waitFor(t, "both tried many times", func() bool {
		return proc.callsFor(a.messageID) > 5*cfg.PoisonAfter && proc.callsFor(b.messageID) > 5*cfg.PoisonAfter
	})
	if n, _ := g.srv.store.QueueLen(context.Background(), inboxQueue); n != 2 || len(mhs.messages()) != 0 {
		t.Fatalf("inbox %d, MHS got %d messages; want both waiting and nothing sent", n, len(mhs.messages()))
	}
	if dls, _ := g.srv.store.DeadLetters(context.Background(), 10); len(dls) != 0 {
		t.Fatalf("%d dead letters in an outage", len(dls))
	}
}

// TestEPS500IsCountedAgainstTheMessage: with the EPS processor over real
// sockets, a message EPS answers 500 to (a proxy in front of the
// simulator fails every call whose body names it) is deferred with the
// error poisoned counts, and one not sent because the breaker is open is
// deferred with one it does not.
func TestEPS500IsCountedAgainstTheMessage(t *testing.T) {
	_, simURL := serveSim(t, sim.Options{})
	target, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("C1D2E3-A99968-00A1BM") // the prescription's short-form id
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, marker) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"Cannot read properties of undefined"}]}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	p, payload := poisonProcessor(t, proxy.URL, upstream.BreakerConfig{ConsecutiveFailures: 2, Timeout: time.Hour, MaxRequestsHalfOpen: 1})
	_, err = p.Process(context.Background(), replayIn(v3.ParentPrescription, payload))
	if !IsDeferred(err) || IsPermanent(err) || !upstreamFailedMessage(err) {
		t.Fatalf("EPS's 500: %v (deferred %v, counted %v); want deferred and counted", err, IsDeferred(err), upstreamFailedMessage(err))
	}
	// Two calls answered 500: the breaker is open now.
	_, err = p.Process(context.Background(), replayIn(v3.ParentPrescription, payload))
	if !IsDeferred(err) || upstreamFailedMessage(err) || !errors.Is(err, upstream.ErrBreakerOpen) {
		t.Fatalf("breaker open: %v; want deferred, not counted", err)
	}
}

// TestEPSResetIsCountedAgainstTheMessage: with the EPS processor over
// real sockets, a message whose every call has its connection reset (a
// proxy in front of EPS closes it unanswered) is deferred with the error
// poisoned counts.
func TestEPSResetIsCountedAgainstTheMessage(t *testing.T) {
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with a reset
		}
		_ = conn.Close()
	}))
	t.Cleanup(reset.Close)
	p, payload := poisonProcessor(t, reset.URL, upstream.BreakerConfig{})
	var err error
	_, err = p.Process(context.Background(), replayIn(v3.ParentPrescription, payload))
	if !IsDeferred(err) || IsPermanent(err) || !upstreamFailedMessage(err) {
		t.Fatalf("connection reset: %v (deferred %v, counted %v); want deferred and counted", err, IsDeferred(err), upstreamFailedMessage(err))
	}
}

// TestResentPoisonMessageStartsAfresh: a poison message an operator
// resends from the dead letters (EPS has been fixed) gets the same
// patience as a new one: one more 5xx from EPS, a blip, does not put it
// straight back, and it is answered once EPS takes it. Before, its count
// of 5xx answers and their start survived the resend, so the first 5xx
// dead-lettered it again and its sender got a second 910009.
func TestResentPoisonMessageStartsAfresh(t *testing.T) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	poison, good := newReq(newID(t, 65)), newReq(newID(t, 66))
	var fixedAt atomic.Int64 // the poison message's call count when EPS was fixed; 0 before
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		if in.MessageID == poison.messageID {
			// Broken until fixed; then one blip (a 500) and fine.
			if f := fixedAt.Load(); f == 0 || int64(n) <= f+1 {
				return nil, eps500(in)
			}
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	cfg := testConfig()
	cfg.PoisonAfter, cfg.PoisonMinAge = 3, 0
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	if code, _ := sendEb(t, g.base, poison); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	// Its first failure counted before the good message is sent: a
	// second call starts only once the first 5xx is recorded with its
	// time (First5xxAt), which the good answer must come after to count as
	// EPS answering others. On the first call's start (callsFor > 0), a
	// worker preempted between the call and recording it stamped the 5xx
	// after the good answer: the poison message was then never
	// dead-lettered (the test timed out waiting, 1 run in 300 under load).
	waitFor(t, "the poison message's first 5xx counted", func() bool { return proc.callsFor(poison.messageID) > 1 })
	if code, _ := sendEb(t, g.base, good); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	if dl.MessageID != poison.messageID {
		t.Fatalf("dead letter %s, want the poison message", dl.MessageID)
	}
	waitFor(t, "the good answer and the MessageError", func() bool { return len(mhs.messages()) == 2 })
	fixedAt.Store(int64(proc.callsFor(poison.messageID)))
	if code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": dl.ID}); code != http.StatusOK {
		t.Fatalf("resend = %d %s", code, out)
	}
	waitFor(t, "the resent message answered or dead-lettered again", func() bool {
		dls, _ := g.srv.store.DeadLetters(context.Background(), 10)
		return len(mhs.messages()) == 3 || len(dls) > 0
	})
	if dls, _ := g.srv.store.DeadLetters(context.Background(), 10); len(dls) != 0 {
		t.Fatalf("the resent message is back in the dead letters after one 5xx: %s", dls[0])
	}
	var answered, msgErrors int
	for _, m := range mhs.messages() {
		switch {
		case m.msg == nil && strings.Contains(string(m.body), "910009:"):
			msgErrors++
		case m.msg != nil && strings.Contains(string(m.msg.Payload.Body), poison.messageID):
			answered++
		}
	}
	if answered != 1 || msgErrors != 1 {
		t.Errorf("the poison message's sender got %d answers and %d MessageErrors, want 1 and 1", answered, msgErrors)
	}
}

// poisonProcessor returns the EPS processor over an EPS client of base
// (two attempts a call, short backoffs, breaker as given) and a legacy
// prescription to send through it.
func poisonProcessor(t *testing.T, base string, breaker upstream.BreakerConfig) (*EPSProcessor, []byte) {
	t.Helper()
	c, err := upstream.New(upstream.Config{BaseURL: base + "/FHIR/R4",
		Retry:   upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		Breaker: breaker}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	return NewEPSProcessor(mapping.NewRegistry(), c, nil, nil, quietLog()), payload
}

// TestTokenEndpointFailureIsNotCountedAgainstTheMessage: a call that
// fails because the OAuth2 token endpoint answers 5xx, or cannot be
// reached, never reached EPS with the message: it is deferred, and the
// poison rule, which counts EPS failing that message, does not count it.
// Before, the token exchange's own RetryError (its last answer a 500)
// was taken for EPS's, and a message that met a failing token endpoint
// often enough while others went through went to the dead letters as
// "EPS failed the message".
func TestTokenEndpointFailureIsNotCountedAgainstTheMessage(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	key, keyPath := writeKey(t, t.TempDir(), "signing.pem")
	_, simURL := serveSim(t, sim.Options{PublicKey: &key.PublicKey, APIKey: "app"})
	for _, tc := range []struct{ name, tokenURL string }{
		{"token endpoint answers 500", failing.URL + "/oauth2/token"},
		{"token endpoint not reachable", closedURL + "/oauth2/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := upstream.New(upstream.Config{BaseURL: simURL + "/FHIR/R4", TokenURL: tc.tokenURL,
				APIKey: "app", Kid: "k1", PrivateKeyPath: keyPath,
				Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
			p := NewEPSProcessor(mapping.NewRegistry(), c, nil, nil, quietLog())
			_, err = p.Process(context.Background(), replayIn(v3.ParentPrescription, payload))
			if !IsDeferred(err) || IsPermanent(err) || upstreamFailedMessage(err) {
				t.Fatalf("%v (deferred %v, counted %v); want deferred, not counted against the message", err, IsDeferred(err), upstreamFailedMessage(err))
			}
		})
	}
}
