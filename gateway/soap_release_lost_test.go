package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// soapReleaseFCG71 is nominatedReleaseFCG71 as a SOAP body: without its
// XML declaration and header comment.
func soapReleaseFCG71(t *testing.T) string {
	t.Helper()
	_, payload, ok := strings.Cut(string(nominatedReleaseFCG71(t)), "-->")
	if !ok {
		t.Fatal("fixture has no header comment")
	}
	return strings.TrimSpace(payload)
}

// waitAnswered waits until sink's log says a request was answered.
func waitAnswered(t *testing.T, sink *syncBuffer) {
	t.Helper()
	waitFor(t, "porxgate to answer the sender that had gone", func() bool {
		for _, rec := range sink.lines(t) {
			if rec["msg"] == "answered" {
				return true
			}
		}
		return false
	})
}

// TestSOAPReleaseLostToSenderTimeout: a pharmacy's nominated release over
// SOAP takes EPS longer than the pharmacy's HTTP timeout, so the pharmacy
// gives up (closes its connection) before porxgate answers. EPS released
// the nominated prescription to it, porxgate recorded the answer, and the
// answer went nowhere. Whether the pharmacy sends the release again under
// the same wsa:MessageID or under a new one, it gets the prescription,
// once.
func TestSOAPReleaseLostToSenderTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sameID  bool
		retryID string
		// thenOld: the old wsa:MessageID is retried after the new one
		// delivered the prescription.
		thenOld bool
	}{
		{"retried under the same wsa:MessageID", true, "", false},
		{"sent again under a new wsa:MessageID", false, "F4000000-0000-4000-8000-0000000000B2", false},
		{"sent again under a new wsa:MessageID, then retried under the old one", false, "F4000000-0000-4000-8000-0000000000B2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, client := startSim(t)
			st, _ := redisStore(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, "F4000000-0000-4000-8000-0000000000A1")
			log, sink := jsonLogger(slog.LevelInfo)
			j := newTestJournal(t)
			srv := NewServer(testConfig(), st, fakeUpstream{}, log, NewMetrics(), WithProcessor(PartyScoped(proc)), WithJournal(j))
			base := trackerServe(t, func(ctx context.Context, ln net.Listener) error { return srv.ServeAndWork(ctx, ln) })
			payload := soapReleaseFCG71(t)

			s.SetFaults(sim.Faults{LatencyMs: 1500, Ops: []string{"release"}})
			const firstID = "F4000000-0000-4000-8000-0000000000B1"
			impatient := &http.Client{Timeout: 300 * time.Millisecond}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+PathSOAP,
				bytes.NewReader(soapEnvelope(firstID, v3.NominatedReleaseRequest, payload)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
			if resp, err := impatient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("the impatient sender got an answer (%d) before its timeout: the test needs EPS slower", resp.StatusCode)
			}
			waitAnswered(t, sink)
			if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
				t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
			}
			// The journal does not leave the operator believing it was answered.
			x := exchangeOf(t, j, firstID, journal.StepV3Answer, journal.StepDelivery)
			if i := slices.IndexFunc(x.Steps, func(s journal.Step) bool { return s.Kind == journal.StepDelivery }); !strings.Contains(x.Steps[i].Title, "not delivered") ||
				!strings.Contains(x.Steps[i].Note, rxID) {
				t.Errorf("journal step %+v, want it not delivered, naming %s", x.Steps[i], rxID)
			}
			s.SetFaults(sim.Faults{})

			retryID := firstID
			if !tc.sameID {
				retryID = tc.retryID
			}
			code, body := sendSOAP(t, base, soapEnvelope(retryID, v3.NominatedReleaseRequest, payload))
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's release sent again = %d without %s, released to it in the answer it never got: stranded\n%.600s", code, rxID, body)
			}
			if tc.thenOld {
				// The sender's own retry of the request it gave up on.
				code, body = sendSOAP(t, base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload))
				if strings.Contains(string(body), rxID) {
					t.Fatalf("the retry under the old wsa:MessageID (%d) delivered %s a second time\n%.600s", code, rxID, body)
				}
			}
			// And once only: its next release does not deliver it again.
			code, body = sendSOAP(t, base, soapEnvelope("F4000000-0000-4000-8000-0000000000C1", v3.NominatedReleaseRequest, payload))
			if strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
			}
		})
	}
}

// TestSOAPReleaseFailedAfterEPSReleased: EPS releases the pharmacy's
// nominated prescription but its answer never reaches porxgate (the
// connection drops), so the pharmacy gets a retryable fault. Whether it
// sends the release again under the same wsa:MessageID or, as a new
// request, under a new one, it gets the prescription, once.
func TestSOAPReleaseFailedAfterEPSReleased(t *testing.T) {
	once := upstream.Config{Retry: upstream.RetryConfig{MaxAttempts: 1}}
	// The dropped answer opens the breaker, which refuses the client's
	// retry: the error says "breaker open", yet EPS had released.
	tripped := upstream.Config{Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Breaker: upstream.BreakerConfig{ConsecutiveFailures: 1, Timeout: 100 * time.Millisecond, MaxRequestsHalfOpen: 1}}
	for _, tc := range []struct {
		name    string
		up      upstream.Config
		retryID string
	}{
		{"retried under the same wsa:MessageID", once, "F4000000-0000-4000-8000-0000000000D1"},
		{"sent again under a new wsa:MessageID", once, "F4000000-0000-4000-8000-0000000000D2"},
		{"sent again under a new wsa:MessageID after the breaker refused the retry", tripped, "F4000000-0000-4000-8000-0000000000D2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, client := startSimWith(t, sim.Options{}, tc.up)
			st, _ := redisStore(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, "F4000000-0000-4000-8000-0000000000A1")
			g := startGateway(t, testConfig(), st, true, asRunWraps(t, proc)...)
			payload := soapReleaseFCG71(t)

			s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
			const firstID = "F4000000-0000-4000-8000-0000000000D1"
			code, body := sendSOAP(t, g.base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload))
			if fc, _ := faultCode(t, body); code != http.StatusInternalServerError || (fc != "200" && fc != "206" && fc != "208") {
				t.Fatalf("release whose EPS answer was lost = %d fault %s, want a retryable fault\n%s", code, fc, body)
			}
			if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
				t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
			}
			time.Sleep(150 * time.Millisecond) // a breaker the loss opened lets calls through again
			code, body = sendSOAP(t, g.base, soapEnvelope(tc.retryID, v3.NominatedReleaseRequest, payload))
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's release sent again = %d without %s, released to it in the answer EPS lost: stranded\n%.600s", code, rxID, body)
			}
			code, body = sendSOAP(t, g.base, soapEnvelope("F4000000-0000-4000-8000-0000000000E1", v3.NominatedReleaseRequest, payload))
			if strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
			}
		})
	}
}

// TestSOAPUnavailableFaultShape: the fault a SOAP sender gets while EPS is
// unavailable (failing, or its breaker open) is shaped as every SOAP fault
// docs/spine-errors.md promises: faultcode SOAP:Server, faultstring
// "Application Exception", a retryable code. Before, it said
// "upstream EPS FHIR API unavailable".
func TestSOAPUnavailableFaultShape(t *testing.T) {
	_, client := startSimWith(t, sim.Options{Faults: sim.Faults{Force5xx: -1}}, upstream.Config{
		Retry:   upstream.RetryConfig{MaxAttempts: 1},
		Breaker: upstream.BreakerConfig{ConsecutiveFailures: 1, Timeout: time.Hour, MaxRequestsHalfOpen: 1}})
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(proc))
	payload := soapReleaseFCG71(t)
	for i, want := range []string{"200", "206"} { // EPS failing, then the breaker open
		code, body := sendSOAP(t, g.base, soapEnvelope(newID(t, 60+i), v3.NominatedReleaseRequest, payload))
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil {
			t.Fatalf("fault not XML: %v\n%s", err, body)
		}
		fc, _ := faultCode(t, body)
		fcode, fstring := doc.FindElement("//Fault/faultcode"), doc.FindElement("//Fault/faultstring")
		if code != http.StatusInternalServerError || fc != want || fcode == nil || fcode.Text() != "SOAP:Server" ||
			fstring == nil || fstring.Text() != "Application Exception" {
			t.Errorf("call %d: HTTP %d, fault %s; want 500, fault %s, SOAP:Server, Application Exception\n%s", i, code, fc, want, body)
		}
	}
}

// TestSOAPStopAnswersReleaseInFlight: the gateway stops (SIGTERM, a
// deploy) while a SOAP nominated release waits on a slow EPS, longer than
// --shutdown-timeout. The sender gets a retryable fault before the stop
// completes (after it the process exits, and a request still in flight
// would be cut off unanswered, perhaps after EPS released), and its
// release sent again, to the next gateway under a new wsa:MessageID,
// gets the prescription, once.
func TestSOAPStopAnswersReleaseInFlight(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, proc, "F4000000-0000-4000-8000-0000000000A1")
	cfg := testConfig()
	cfg.ShutdownTimeout = time.Second
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &writesListener{Listener: raw}
	g := startGatewayOn(t, ln, cfg, st, true, asRunWraps(t, proc)...)
	payload := soapReleaseFCG71(t)

	releases := s.Stats().Requests["release"]
	s.SetFaults(sim.Faults{LatencyMs: 4000, Ops: []string{"release"}})
	type result struct {
		code int
		body []byte
	}
	answered := make(chan result, 1)
	go func() {
		code, body := sendSOAP(t, g.base, soapEnvelope("F4000000-0000-4000-8000-0000000000F1", v3.NominatedReleaseRequest, payload))
		answered <- result{code, body}
	}()
	// The stop comes once the release waits on EPS (before, after a
	// fixed 300 ms, which a loaded machine could take to get there), and
	// the answer must have been written before the stop completed, read
	// by the client when it may (before, within 200 ms of the stop).
	waitFor(t, "the release waiting on EPS", func() bool { return s.Stats().Requests["release"] > releases })
	if n := ln.written.Load(); n != 0 {
		t.Fatalf("%d bytes answered before the stop, while the release waits on EPS", n)
	}
	g.stop()
	if ln.written.Load() == 0 {
		t.Fatalf("the stop completed (after it the process exits) with the SOAP release in flight unanswered")
	}
	select {
	case r := <-answered:
		if fc, _ := faultCode(t, r.body); r.code != http.StatusInternalServerError || fc != "200" {
			t.Fatalf("the release in flight at the stop = %d fault %s, want a retryable fault 200\n%s", r.code, fc, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the answer written before the stop never reached the client")
	}
	s.SetFaults(sim.Faults{})

	next := startGateway(t, testConfig(), st, true, asRunWraps(t, proc)...)
	code, body := sendSOAP(t, next.base, soapEnvelope("F4000000-0000-4000-8000-0000000000F2", v3.NominatedReleaseRequest, payload))
	if code != http.StatusOK || !strings.Contains(string(body), rxID) {
		t.Fatalf("the release sent again = %d without %s: stranded\n%.600s", code, rxID, body)
	}
	code, body = sendSOAP(t, next.base, soapEnvelope("F4000000-0000-4000-8000-0000000000F3", v3.NominatedReleaseRequest, payload))
	if strings.Contains(string(body), rxID) {
		t.Fatalf("the next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
	}
}

// writesListener is a listener whose connections count the bytes the
// server writes to them (written), so that a test can tell an answer sent
// before a moment from one sent after it, whenever the client reads it.
type writesListener struct {
	net.Listener
	written atomic.Int64
}

// Accept implements net.Listener.
func (l *writesListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return writesConn{Conn: c, written: &l.written}, nil
}

// writesConn is a connection of writesListener.
type writesConn struct {
	net.Conn
	written *atomic.Int64
}

// Write implements net.Conn.
func (c writesConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(int64(n))
	return n, err
}
