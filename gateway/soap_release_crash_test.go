package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// frozenAfter is a Processor whose process dies once the one it wraps has
// answered: the answer is recorded, and nothing after it runs (the test
// cuts the gateway off the store and the sender off the gateway before
// it lets Process return, at the test's end).
type frozenAfter struct {
	Processor
	once     sync.Once
	answered chan struct{}
	dead     chan struct{}
}

// newFrozenAfter returns p frozen once it has answered.
func newFrozenAfter(p Processor) *frozenAfter {
	return &frozenAfter{Processor: p, answered: make(chan struct{}), dead: make(chan struct{})}
}

// Process implements Processor.
func (f *frozenAfter) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	out, err := f.Processor.Process(ctx, in)
	f.once.Do(func() { close(f.answered) })
	<-f.dead
	return out, err
}

// sendInFlight sends body to the SOAP door at base in the background, as
// a sender whose answer never comes: abandon gives the request up and
// reports whether it was answered before.
func sendInFlight(t *testing.T, base string, body []byte) (abandon func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+PathSOAP, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	sent := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	return func() bool {
		cancel()
		return <-sent == nil
	}
}

// crashMidRelease sends the pharmacy's nominated release body to the
// gateway at base and, once dies is closed (the gateway is at the point
// its process dies at), cuts the gateway off its store (dying) and the
// pharmacy off the gateway, unanswered; EPS holds the prescription with
// the pharmacy, which never saw it.
func crashMidRelease(t *testing.T, s *sim.Server, base string, body []byte, dies <-chan struct{}, dying store.Store) {
	t.Helper()
	abandon := sendInFlight(t, base, body)
	select {
	case <-dies:
	case <-time.After(20 * time.Second):
		t.Fatal("the release did not reach the point the gateway dies at")
	}
	_ = dying.Close() // nothing more reaches the store
	if answered := abandon(); answered {
		t.Fatal("the pharmacy got an answer from the gateway that died")
	}
	if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
	}
}

// sendSOAPUntilAnswered sends body as a SOAP sender does: again, under the
// same wsa:MessageID, while it is answered with a retryable fault (200,
// 206, 208), for up to limit. It returns the last answer.
func sendSOAPUntilAnswered(t *testing.T, base string, body []byte, limit time.Duration) (int, []byte) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, got := sendSOAP(t, base, body)
		if code != http.StatusInternalServerError || time.Now().After(deadline) {
			return code, got
		}
		if fc, _ := faultCode(t, got); fc != "200" && fc != "206" && fc != "208" {
			return code, got
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestSOAPReleaseCrashBeforeAnswerWritten: the gateway process dies (kill
// -9) after EPS released the pharmacy's nominated prescription and the
// answer was recorded, before the SOAP response was written. The pharmacy
// gets the prescription exactly once from the gateway that takes over:
// whether it first sends a new nominated release under a new
// wsa:MessageID (before, EPS answered there was nothing more, and the
// prescription was stranded with the pharmacy, unseen) or retries under
// the old one; the other request does not deliver it a second time.
func TestSOAPReleaseCrashBeforeAnswerWritten(t *testing.T) {
	const (
		firstID = "F5000000-0000-4000-8000-0000000000A1"
		newID   = "F5000000-0000-4000-8000-0000000000B1"
		laterID = "F5000000-0000-4000-8000-0000000000C1"
	)
	for _, tc := range []struct {
		name          string
		first, second string // the wsa:MessageIDs sent after the crash, in order
	}{
		{"new wsa:MessageID first", newID, firstID},
		{"old wsa:MessageID first", firstID, newID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, client := startSim(t)
			_, newStore := redisStore(t)
			dying := newStore()
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(dying, time.Hour)
			submitNominated(t, proc, "F5000000-0000-4000-8000-0000000000E1")
			frozen := newFrozenAfter(PartyScoped(proc))
			a := startGateway(t, testConfig(), dying, true, WithProcessor(frozen))
			t.Cleanup(func() { close(frozen.dead) }) // before a stops
			payload := soapReleaseFCG71(t)

			crashMidRelease(t, s, a.base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload), frozen.answered, dying)

			st := newStore()
			next := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			j := newTestJournal(t)
			b := startGateway(t, testConfig(), st, false, WithProcessor(PartyScoped(next)), WithJournal(j))
			code, body := sendSOAPUntilAnswered(t, b.base, soapEnvelope(tc.first, v3.NominatedReleaseRequest, payload), time.Minute)
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's release %s after the crash = %d without %s, released to it in the answer never written: stranded\n%.600s",
					tc.first, code, rxID, body)
			}
			if tc.first != firstID {
				// The journal does not leave the operator believing the
				// first answer went out (and the prescription twice).
				x := exchangeOf(t, j, firstID, journal.StepDelivery)
				i := slices.IndexFunc(x.Steps, func(s journal.Step) bool { return s.Kind == journal.StepDelivery })
				if st := x.Steps[i]; !strings.Contains(st.Title, "not delivered") || !strings.Contains(st.Note, rxID) || !strings.Contains(st.Note, tc.first) {
					t.Errorf("journal step of %s: %+v, want it not delivered, naming %s and the release %s that delivered it", firstID, st, rxID, tc.first)
				}
			}
			code, body = sendSOAPUntilAnswered(t, b.base, soapEnvelope(tc.second, v3.NominatedReleaseRequest, payload), time.Minute)
			if strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's release %s (%d) delivered %s a second time\n%.600s", tc.second, code, rxID, body)
			}
			code, body = sendSOAPUntilAnswered(t, b.base, soapEnvelope(laterID, v3.NominatedReleaseRequest, payload), time.Minute)
			if strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
			}
		})
	}
}

// TestSOAPReleaseHalfClosedSenderGetsItOnce: a sender that shuts down its
// side of the connection once its request is sent (a half-close: it still
// reads) looks, to the kernel, like one that has gone. The pharmacy's
// prescription goes out exactly once across that answer and the
// pharmacy's next releases, whether or not that answer is written.
func TestSOAPReleaseHalfClosedSenderGetsItOnce(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, proc, "F5000000-0000-4000-8000-0000000001E1")
	g := startGateway(t, testConfig(), st, true, asRunWraps(t, proc)...)
	payload := soapReleaseFCG71(t)

	s.SetFaults(sim.Faults{LatencyMs: 500, Ops: []string{"release"}})
	env := soapEnvelope("F5000000-0000-4000-8000-0000000001A1", v3.NominatedReleaseRequest, payload)
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: porxgate\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s", PathSOAP, len(env), env)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	first, _ := io.ReadAll(conn)
	s.SetFaults(sim.Faults{})

	delivered := 0
	if strings.Contains(string(first), rxID) {
		delivered++
	}
	for _, id := range []string{"F5000000-0000-4000-8000-0000000001B1", "F5000000-0000-4000-8000-0000000001C1"} {
		if _, body := sendSOAP(t, g.base, soapEnvelope(id, v3.NominatedReleaseRequest, payload)); strings.Contains(string(body), rxID) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Fatalf("%s delivered %d times (the half-closed sender's answer: %t), want once\n%.400s", rxID, delivered, strings.Contains(string(first), rxID), first)
	}
}

// owedRemovalFrozen is a Redis store whose process dies as it takes
// prescriptions off those owed to a dispenser: that SetRemove never
// returns (until the test ends), and nothing after it runs.
type owedRemovalFrozen struct {
	*store.Redis
	once    sync.Once
	reached chan struct{}
	dead    chan struct{}
}

// SetRemove implements store.Store.
func (f *owedRemovalFrozen) SetRemove(ctx context.Context, set string, members ...string) error {
	if !strings.HasPrefix(set, "nominated-owed:") {
		return f.Redis.SetRemove(ctx, set, members...)
	}
	f.once.Do(func() { close(f.reached) })
	<-f.dead
	return errors.New("the process died")
}

// TestSOAPReleaseCrashAfterAnswerKept: the gateway dies after it kept the
// SOAP nominated release answer for a retry under the same wsa:MessageID
// and before it took the prescriptions off those owed to the pharmacy
// (and before it wrote the answer). The pharmacy's next release under a
// new wsa:MessageID does not deliver them (the kept answer does, to the
// retry of the request that was never answered); before, both did.
func TestSOAPReleaseCrashAfterAnswerKept(t *testing.T) {
	s, client := startSim(t)
	_, newStore := redisStore(t)
	dying := newStore()
	frozen := &owedRemovalFrozen{Redis: dying.(*store.Redis), reached: make(chan struct{}), dead: make(chan struct{})}
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(frozen, time.Hour)
	submitNominated(t, proc, "F5000000-0000-4000-8000-0000000002E1")
	a := startGateway(t, testConfig(), dying, true, WithProcessor(PartyScoped(proc)))
	t.Cleanup(func() { close(frozen.dead) }) // before a stops
	payload := soapReleaseFCG71(t)

	const firstID = "F5000000-0000-4000-8000-0000000002A1"
	crashMidRelease(t, s, a.base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload), frozen.reached, dying)

	st := newStore()
	next := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	b := startGateway(t, testConfig(), st, true, WithProcessor(PartyScoped(next)))
	delivered := 0
	for _, id := range []string{"F5000000-0000-4000-8000-0000000002B1", firstID, "F5000000-0000-4000-8000-0000000002C1"} {
		code, body := sendSOAPUntilAnswered(t, b.base, soapEnvelope(id, v3.NominatedReleaseRequest, payload), time.Minute)
		if strings.Contains(string(body), rxID) {
			delivered++
		} else if id == firstID {
			t.Errorf("the retry under the old wsa:MessageID = %d without %s, its kept answer\n%.400s", code, rxID, body)
		}
	}
	if delivered != 1 {
		t.Fatalf("%s delivered %d times, want once", rxID, delivered)
	}
}
