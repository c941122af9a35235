package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
)

// replicaComparing is one replica's comparison mode in the replica tests:
// the FHIR path primary (a fake answering every message AA) shadowed by
// the legacy route at url, with its own journal and metrics.
type replicaComparing struct {
	fhir *fakeProcessor
	j    *journal.Journal
	m    *Metrics
	proc Processor
}

// newReplicaComparing returns a replica's comparison mode over the legacy
// route at url, its shadow queue bounded to queueBytes.
func newReplicaComparing(t *testing.T, url string, queueBytes int) replicaComparing {
	t.Helper()
	r := replicaComparing{fhir: newFakeProcessor(), j: newTestJournal(t), m: NewMetrics()}
	r.fhir.answer = func(*Inbound, int) (*Outcome, error) {
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload("X")}}}, nil
	}
	r.proc = NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second, QueueBytes: queueBytes}, r.fhir,
		&compare.Legacy{URL: url}, r.j, r.m, quietLog())
	return r
}

// TestSkippedRunTaintsAcrossReplicas: two gateways share one Redis, and
// any replica takes any message. A prescription's shadow run is skipped
// on one replica (its shadow queue full), which then stops; the other
// replica takes the cancellation of that prescription, which the legacy
// environment, never having seen the prescription, refuses. Its
// comparison was a "differ", counted and listed as a difference of the
// translation: the memory of skipped prescriptions was the first
// replica's own. It is "incomplete", naming the skipped message, as on a
// single gateway.
func TestSkippedRunTaintsAcrossReplicas(t *testing.T) {
	route := cancelRefusingRoute(t)
	_, newStore := redisStore(t)
	msg := func(n int, note string) ebReq { return aboutRx(t, newReq(newID(t, 1000+n)), note) }
	send := func(g *gw, r ebReq) {
		t.Helper()
		if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
	}

	a := newReplicaComparing(t, route.URL, 2000)
	ga := startGateway(t, testConfig(), newStore(), false, WithProcessor(a.proc), WithJournal(a.j))
	presc := msg(1, "prescription "+strings.Repeat("x", 2000))
	send(ga, presc)
	if c := waitComparison(t, a.j, presc.messageID); c.Result != compareSkipped {
		t.Fatalf("the prescription's comparison %s (%s), want skipped", c.Result, c.Error)
	}
	ga.stop()

	b := newReplicaComparing(t, route.URL, 0)
	gb := startGateway(t, testConfig(), newStore(), false, WithProcessor(b.proc), WithJournal(b.j))
	cancel := msg(2, "cancel")
	send(gb, cancel)
	c := waitComparison(t, b.j, cancel.messageID)
	if c.Result != compareIncomplete || !strings.Contains(c.Error, replicaRx) || !strings.Contains(c.Error, presc.messageID) || len(c.Differences) == 0 {
		t.Errorf("the other replica's comparison of the cancellation of a prescription never sent down the legacy path: %s %v %q, want incomplete naming %s and %s",
			c.Result, c.Differences, c.Error, replicaRx, presc.messageID)
	}
	if n := compareCount(t, b.m, prescribe, compareDiffer); n != 0 {
		t.Errorf("porxgate_compare_total{result=differ} = %v on the other replica, want 0", n)
	}
}

// replicaRx is the prescription the replica tests' messages are about.
const replicaRx = "A1B2C3-A99968-4DCF9K"

// aboutRx returns r with its payload about replicaRx, its note starting
// with note ("prescription", "cancel").
func aboutRx(t *testing.T, r ebReq, note string) ebReq {
	t.Helper()
	r.payload = []byte(strings.Replace(string(r.payload), "<note>",
		`<id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="`+replicaRx+`"/><note>`+note+" ", 1))
	return r
}

// cancelRefusingRoute is a legacy route that answers every message AA but
// a cancellation ("<note>cancel"), which it refuses (AE: Spine knows no
// such prescription).
func cancelRefusingRoute(t *testing.T) *httptest.Server {
	t.Helper()
	route := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		ack := string(mcciPayload("X"))
		if strings.Contains(string(body), "<note>cancel") {
			ack = strings.Replace(ack, `typeCode="AA"`, `typeCode="AE"`, 1)
		}
		_, _ = io.WriteString(w, ack)
	}))
	t.Cleanup(route.Close)
	return route
}

// TestShadowRunOfAStoppedReplicaIsNotLeftOut: a replica queued a message's
// shadow run and stopped (killed: nothing journalled); another replica on
// the same Redis processes the message again. When the first stopped
// before its worker took the run up, the run was never made: the other
// replica makes it, once. When the first was making it (its worker in the
// legacy call), it may have reached the legacy environment: the other
// replica must not make it again, nor leave it out silently: its
// comparison is "skipped", saying why, and its prescription remembered,
// so that a later comparison about it that differs is "incomplete".
// Before, the other replica made it again (the legacy environment got the
// prescription twice).
func TestShadowRunOfAStoppedReplicaIsNotLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name     string
		making   bool   // the first replica's worker is making the run when it stops
		want     string // the other replica's comparison of the message
		wantNote string
	}{
		{"stopped before its worker took the run up", false, compareMatch, ""},
		{"stopped while making the run", true, compareSkipped, "another gateway process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hold, release := holdUntilReleased(t)
			var held atomic.Int64
			route := cancelRefusingRoute(t)
			holding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if held.Add(1) == 1 && tc.making { // the first replica's run, in hand when it stops
					<-hold
				}
				proxyTo(t, route.URL, w, r)
			}))
			t.Cleanup(holding.Close)
			_, newStore := redisStore(t)
			a, b := newReplicaComparing(t, holding.URL, 0), newReplicaComparing(t, holding.URL, 0)
			useStoreMemory(a.proc, newStore())
			useStoreMemory(b.proc, newStore())
			ctx, stop := context.WithCancel(t.Context())
			var workers sync.WaitGroup
			run := func(f func(context.Context)) { workers.Add(1); go func() { defer workers.Done(); f(ctx) }() }
			run(func(ctx context.Context) { comparingOf(b.proc).Run(ctx, time.Second) })
			run(b.j.Run)
			if tc.making {
				run(func(ctx context.Context) { comparingOf(a.proc).Run(ctx, time.Second) })
			}
			t.Cleanup(func() { release(); stop(); workers.Wait() })
			inbound := func(r ebReq) *Inbound {
				return &Inbound{Transport: TransportEbXML, Interaction: r.action, MessageID: r.messageID, FromParty: r.from,
					Payload: r.payload, ReceivedAt: time.Now()}
			}
			presc := inbound(aboutRx(t, newReq(newID(t, 1020)), "prescription"))
			if _, err := a.proc.Process(ctx, presc); err != nil {
				t.Fatal(err)
			}
			if tc.making {
				waitFor(t, "the first replica's run in hand", func() bool { return held.Load() == 1 })
			}
			if _, err := b.proc.Process(ctx, presc); err != nil {
				t.Fatal(err)
			}
			c := waitComparison(t, b.j, presc.MessageID)
			if c.Result != tc.want || !strings.Contains(c.Error, tc.wantNote) {
				t.Fatalf("the other replica's comparison of the message: %s %q, want %s %q", c.Result, c.Error, tc.want, tc.wantNote)
			}
			if n := held.Load(); n != 1 {
				t.Errorf("the legacy route got the prescription %d times, want once", n)
			}
			if !tc.making {
				return
			}
			cancel := inbound(aboutRx(t, newReq(newID(t, 1021)), "cancel"))
			if _, err := b.proc.Process(ctx, cancel); err != nil {
				t.Fatal(err)
			}
			if c := waitComparison(t, b.j, cancel.MessageID); c.Result != compareIncomplete || !strings.Contains(c.Error, presc.MessageID) {
				t.Errorf("the cancellation's comparison: %s %q, want incomplete naming %s", c.Result, c.Error, presc.MessageID)
			}
		})
	}
}

// proxyTo passes r on to url and its answer back to w.
func proxyTo(t *testing.T, url string, w http.ResponseWriter, r *http.Request) {
	t.Helper()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// TestShadowRunsOnceAcrossReplicas: a replica processes a message and runs
// its shadow, but the message's answers cannot be stored; the replica
// stops, and another replica on the same Redis takes the message over
// once its lease runs out and processes it again. The other replica sent
// it down the legacy path a second time (the legacy environment acted on
// it twice) and counted a second comparison: the memory of shadow runs
// made was the first replica's own. It is now run once across replicas.
func TestShadowRunsOnceAcrossReplicas(t *testing.T) {
	legacy := startLegacyRoute(t, nil)
	_, newStore := redisStore(t)
	cfg := testConfig()
	cfg.Lease = time.Second

	a := newReplicaComparing(t, legacy.srv.URL, 0)
	failing := &failFirstComplete{Store: newStore()}
	ga := startGateway(t, cfg, failing, false, WithProcessor(a.proc), WithJournal(a.j))
	r := newReq(newID(t, 1010))
	if code, body := sendEb(t, ga.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the first replica's answers not stored", func() bool { return failing.failed.Load() })
	waitFor(t, "the first replica's shadow run", func() bool { return legacy.calls.Load() == 1 })
	ga.stop()
	if a.fhir.callsFor(r.messageID) != 1 {
		t.Fatalf("the first replica processed the message %d times, want once (its lease not yet run out)", a.fhir.callsFor(r.messageID))
	}

	b := newReplicaComparing(t, legacy.srv.URL, 0)
	var bStore store.Store = newStore()
	startGateway(t, cfg, bStore, false, WithProcessor(b.proc), WithJournal(b.j))
	waitFor(t, "the other replica processing the message again", func() bool { return b.fhir.callsFor(r.messageID) == 1 })
	waitFor(t, "the message done", func() bool {
		n, err := bStore.QueueLen(t.Context(), inboxQueue)
		return err == nil && n == 0
	})
	time.Sleep(300 * time.Millisecond) // a second shadow run, if queued, done
	if n := legacy.calls.Load(); n != 1 {
		t.Errorf("the legacy route got the message %d times, want 1", n)
	}
	var compared atomic.Int64
	for _, m := range []*Metrics{a.m, b.m} {
		compared.Add(int64(compareCount(t, m, prescribe, compareMatch) + compareCount(t, m, prescribe, compareDiffer)))
	}
	if n := compared.Load(); n != 1 {
		t.Errorf("porxgate_compare_total counts %d comparisons of the message across the replicas, want 1", n)
	}
}
