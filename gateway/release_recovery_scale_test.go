package gateway

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// trackerGate is a loopback proxy in front of the EPS simulator that counts
// the EPS tracker questions (GET …/Task) in flight. Each question waits at
// the gate until want of them are in flight (or hold has passed), so that
// questions asked together are seen together however fast the simulator
// answers; questions asked one after another are seen one at a time.
type trackerGate struct {
	want  int
	hold  time.Duration
	proxy *httputil.ReverseProxy
	// onAsk, when set, is called with the number of questions asked so far.
	onAsk func(total int)

	mu             sync.Mutex
	inFlight, most int
	total          int
}

// startTrackerGate runs a trackerGate before the simulator at root and
// returns it with its root URL.
func startTrackerGate(t *testing.T, root string, want int, hold time.Duration) (*trackerGate, string) {
	t.Helper()
	target, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	g := &trackerGate{want: want, hold: hold, proxy: httputil.NewSingleHostReverseProxy(target)}
	g.proxy.ErrorLog = log.New(io.Discard, "", 0) // the simulator drops answers on purpose
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.URL
}

// ServeHTTP implements http.Handler.
func (g *trackerGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Task") {
		g.mu.Lock()
		g.inFlight++
		g.total++
		g.most = max(g.most, g.inFlight)
		total, onAsk := g.total, g.onAsk
		g.mu.Unlock()
		if onAsk != nil {
			onAsk(total)
		}
		for end := time.Now().Add(g.hold); time.Now().Before(end) && r.Context().Err() == nil; {
			g.mu.Lock()
			n := g.inFlight
			g.mu.Unlock()
			if n >= g.want {
				break
			}
			time.Sleep(time.Millisecond)
		}
		defer func() {
			g.mu.Lock()
			g.inFlight--
			g.mu.Unlock()
		}()
	}
	g.proxy.ServeHTTP(w, r)
}

// setOnAsk sets onAsk.
func (g *trackerGate) setOnAsk(f func(total int)) {
	g.mu.Lock()
	g.onAsk = f
	g.mu.Unlock()
}

// counts returns the most questions seen in flight at once and how many were asked.
func (g *trackerGate) counts() (most, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most, g.total
}

// recoveryRig is a processor with a Redis outcome log whose EPS calls pass
// a trackerGate before the simulator.
type recoveryRig struct {
	sim    *sim.Server
	gate   *trackerGate
	client *upstream.Client
	p      *EPSProcessor
	ix     ReleaseIndex
}

// recoveryClient is the upstream configuration of a recoveryRig: two
// attempts, short backoffs.
func recoveryClient() upstream.Config {
	return upstream.Config{Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}}
}

// newRecoveryRig starts the simulator, the gate (want, hold) and Redis,
// with a client configured as cfg.
func newRecoveryRig(t *testing.T, cfg upstream.Config, want int, hold time.Duration) *recoveryRig {
	t.Helper()
	s, root := serveSim(t, sim.Options{})
	gate, proxied := startTrackerGate(t, root, want, hold)
	cfg.BaseURL = proxied + "/FHIR/R4"
	client, err := upstream.New(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	st, _ := redisStore(t)
	return &recoveryRig{sim: s, gate: gate, ix: st.(ReleaseIndex), client: client,
		p: NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)}
}

// submit sends n prescriptions nominated to FCG71 through the processor
// and returns their short-form ids.
func (r *recoveryRig) submit(t *testing.T, n int) []string {
	t.Helper()
	tpl, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	var out []string
	for i := range n {
		payload, sf, err := loadgen.Prescription(tpl, uint32(0x10000+i), strings.ToUpper(ids.NewUUID()))
		if err != nil {
			t.Fatal(err)
		}
		if tc := processedAck(t, r.p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription %s answered %s", sf, tc)
		}
		out = append(out, sf)
	}
	return out
}

// indexUnknown adds n prescriptions EPS does not hold to FCG71's nominations.
func (r *recoveryRig) indexUnknown(t *testing.T, n int) {
	t.Helper()
	members := make([]string, n)
	for i := range members {
		sf, err := sim.MakeShortFormID(uint32(0x200000+i), "A99968")
		if err != nil {
			t.Fatal(err)
		}
		members[i] = sf
	}
	if err := r.ix.SetAdd(context.Background(), nominationSet("FCG71"), time.Hour, members...); err != nil {
		t.Fatal(err)
	}
}

// lostRelease processes a nominated release for FCG71 whose first answer
// EPS drops after releasing, with ctx for the processing after the drop,
// and returns the answer (nil and the error when there is none).
func (r *recoveryRig) lostRelease(t *testing.T, ctx context.Context) (*Outcome, error) {
	t.Helper()
	in := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	r.sim.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	var err error
	for range 3 { // a lost answer may surface as an error first: processed again, as the inbox would
		var out *Outcome
		if out, err = r.p.Process(ctx, in); err == nil {
			return out, nil
		}
		if !IsDeferred(err) || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

// TestReleaseRecoveryAsksTheTrackerConcurrently: a recovery asked the EPS
// tracker about a pharmacy's nominated prescriptions one after another, so
// a pharmacy with hundreds of them held its replayed download for hundreds
// of round trips. It now asks up to recoveryWorkers at once (counted in
// flight at a proxy before the simulator), and the answer still holds
// every prescription the lost answer released, once each, in the index's
// order.
func TestReleaseRecoveryAsksTheTrackerConcurrently(t *testing.T) {
	r := newRecoveryRig(t, recoveryClient(), recoveryWorkers, 100*time.Millisecond)
	released := r.submit(t, 12)
	r.indexUnknown(t, 36)
	out, err := r.lostRelease(t, context.Background())
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if r.sim.Stats().FaultsInjected != 1 {
		t.Fatalf("faults injected %d, want 1 (the dropped answer)", r.sim.Stats().FaultsInjected)
	}
	most, total := r.gate.counts()
	if most != recoveryWorkers {
		t.Errorf("at most %d tracker questions in flight (of %d asked), want %d", most, total, recoveryWorkers)
	}
	if len(out.Answers) != 1 {
		t.Fatalf("%d answers, want 1", len(out.Answers))
	}
	payload := string(out.Answers[0].Payload)
	var at []int
	for _, sf := range released {
		if n := strings.Count(payload, sf); n == 0 {
			t.Errorf("the recovered answer lacks %s, released in the lost answer", sf)
			continue
		}
		at = append(at, strings.Index(payload, sf))
	}
	if !slices.IsSorted(at) {
		t.Errorf("the recovered prescriptions are not in the index's order: offsets %v", at)
	}
}

// TestReleaseRecoveryOfThousandsIsBounded: a pharmacy with 5,000 nominated
// prescriptions to ask about never has more than recoveryWorkers tracker
// questions in flight, each is asked once, and a recovery whose context
// ends stops asking (the processing returns; the rest stay indexed).
func TestReleaseRecoveryOfThousandsIsBounded(t *testing.T) {
	const many = 5000
	t.Run("whole", func(t *testing.T) {
		r := newRecoveryRig(t, recoveryClient(), recoveryWorkers, 0)
		r.submit(t, 1)
		r.indexUnknown(t, many)
		if _, err := r.lostRelease(t, context.Background()); err != nil {
			t.Fatalf("release: %v", err)
		}
		most, total := r.gate.counts()
		if most > recoveryWorkers {
			t.Errorf("%d tracker questions in flight at once, want at most %d", most, recoveryWorkers)
		}
		if total != many+1 {
			t.Errorf("%d tracker questions, want %d (each nomination once)", total, many+1)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		const stopAt = 200
		r := newRecoveryRig(t, recoveryClient(), recoveryWorkers, 0)
		r.submit(t, 1)
		r.indexUnknown(t, many)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.gate.setOnAsk(func(total int) {
			if total == stopAt {
				cancel()
			}
		})
		if _, err := r.lostRelease(t, ctx); err == nil {
			t.Fatal("a release whose processing was cancelled was answered")
		}
		most, total := r.gate.counts()
		if most > recoveryWorkers {
			t.Errorf("%d tracker questions in flight at once, want at most %d", most, recoveryWorkers)
		}
		if total > stopAt+recoveryWorkers {
			t.Errorf("%d tracker questions after the processing was cancelled at the %dth, want at most %d", total, stopAt, stopAt+recoveryWorkers)
		}
		if m, err := r.ix.SetMembers(context.Background(), nominationSet("FCG71")); err != nil || len(m) < many {
			t.Errorf("the index holds %d nominations (%v), want the %d not examined kept", len(m), err, many)
		}
	})
}

// TestReleaseRecoveryThroughAHalfOpenBreaker: the tracker's circuit
// breaker has tripped and its timeout passed, so it is half-open and lets
// one call through at a time until that one succeeds. A recovery asking
// about many prescriptions at once then has most of its questions refused
// by the breaker, without EPS being asked: those are asked again once the
// breaker lets calls through, and every prescription the lost answer
// released is delivered (none left stranded for a later recovery).
func TestReleaseRecoveryThroughAHalfOpenBreaker(t *testing.T) {
	cfg := recoveryClient()
	const reopenAfter = 300 * time.Millisecond
	cfg.Breaker = upstream.BreakerConfig{ConsecutiveFailures: 2, MaxRequestsHalfOpen: 1, Timeout: reopenAfter, Interval: time.Hour}
	r := newRecoveryRig(t, cfg, recoveryWorkers, 50*time.Millisecond)
	released := r.submit(t, 12)
	r.sim.SetFaults(sim.Faults{Force5xx: 2, Ops: []string{"tracker"}}) // both attempts: two failures trip it
	if _, err := r.client.TrackerGet(context.Background(), url.Values{"focus:identifier": {"x"}}); err == nil {
		t.Fatal("the tracker answered through a forced failure")
	}
	if _, err := r.client.TrackerGet(context.Background(), url.Values{"focus:identifier": {"x"}}); !errors.Is(err, upstream.ErrBreakerOpen) {
		t.Fatalf("tracker breaker not open: %v", err)
	}
	time.Sleep(reopenAfter + 50*time.Millisecond) // half-open from now
	out, err := r.lostRelease(t, context.Background())
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if len(out.Answers) != 1 {
		t.Fatalf("%d answers, want 1", len(out.Answers))
	}
	for _, sf := range released {
		if !strings.Contains(string(out.Answers[0].Payload), sf) {
			t.Errorf("the recovered answer lacks %s: the half-open breaker refused its question and it was not asked again", sf)
		}
	}
}

// switchableTracker is the simulator's client whose EPS tracker can be made
// unreachable.
type switchableTracker struct {
	*upstream.Client
	down *atomic.Bool
}

// TrackerGet fails while down is set.
func (s switchableTracker) TrackerGet(ctx context.Context, q url.Values) (*upstream.Response, error) {
	if s.down.Load() {
		return nil, errors.New("EPS tracker: connection reset")
	}
	return s.Client.TrackerGet(ctx, q)
}

// TestReleaseRecoveryMissedIsNotStranded: a nominated release loses its
// answer after EPS released a prescription, and the tracker cannot be
// asked during the recovery: the answer goes out without it, and the log
// promised it stays indexed for a later recovery. But a later release of
// the pharmacy recovered nothing (it is not a replay), and a later
// recovery counted it stale (with the dispenser since before that later
// release's attempt) and took it off the index: the prescription stayed
// with the pharmacy, which never saw it. The pharmacy's next nominated
// release, lost answer or not, now delivers it, once.
func TestReleaseRecoveryMissedIsNotStranded(t *testing.T) {
	for _, laterLost := range []bool{false, true} {
		name := "later release answered"
		if laterLost {
			name = "later release also loses its answer"
		}
		t.Run(name, func(t *testing.T) {
			s, client := startSim(t)
			st, _ := redisStore(t)
			var down atomic.Bool
			var ahead atomic.Int64
			now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			p := NewEPSProcessor(mapping.NewRegistry(), switchableTracker{Client: client, down: &down}, now, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, p, strings.ToUpper(ids.NewUUID()))
			const rx = "C1D2E3-A99968-00A1BM"
			release := func(lost bool) string {
				t.Helper()
				in := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
				if lost {
					s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
				}
				for range 3 {
					out, err := p.Process(context.Background(), in)
					if err == nil {
						return string(out.Answers[0].Payload)
					}
					if !IsDeferred(err) {
						t.Fatalf("release: %v", err)
					}
				}
				t.Fatal("release never answered")
				return ""
			}
			down.Store(true)
			if first := release(true); strings.Contains(first, rx) {
				t.Fatal("the tracker was down, yet the first release recovered the prescription")
			}
			if held, ok := s.State().Get(rx); !ok || held.Dispenser != "FCG71" {
				t.Fatalf("EPS holds %+v", held)
			}
			down.Store(false)
			ahead.Store(int64(10 * time.Minute)) // the pharmacy's next download, well after the first
			if later := release(laterLost); !strings.Contains(later, rx) {
				t.Fatalf("the pharmacy's next release does not deliver %s, released to it in a lost answer: stranded with it", rx)
			}
			if again := release(false); strings.Contains(again, rx) {
				t.Errorf("%s delivered a second time", rx)
			}
		})
	}
}

// forgetFails is a store whose first removal from a nomination set fails,
// as when the gateway stops between recording a release answer and taking
// what it delivers off the index.
type forgetFails struct {
	store.Store
	failed atomic.Bool
}

// SetRemove fails the first time.
func (f *forgetFails) SetRemove(ctx context.Context, set string, members ...string) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("store unavailable")
	}
	return f.Store.SetRemove(ctx, set, members...)
}

// TestReleaseReplayForgetsWhatItDelivered: a nominated release delivers a
// prescription and its answer is recorded, but the gateway stops before
// the prescription leaves the nomination index; the message is processed
// again and answered from the record. The prescription stayed indexed, so
// the pharmacy's next release that lost its answer within replayClockSkew
// recovered it and delivered it a second time. Processing the message
// again now takes what its recorded answer delivers off the index.
func TestReleaseReplayForgetsWhatItDelivered(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	flaky := &forgetFails{Store: st}
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(flaky, time.Hour)
	submitNominated(t, p, strings.ToUpper(ids.NewUUID()))
	const rx = "C1D2E3-A99968-00A1BM"
	first := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	for i := range 2 { // the second time: processed again after the stop
		out, err := p.Process(context.Background(), first)
		if err != nil || !strings.Contains(string(out.Answers[0].Payload), rx) {
			t.Fatalf("release (processing %d) = %v, want the prescription", i+1, err)
		}
	}
	if !flaky.failed.Load() {
		t.Fatal("the removal from the index never failed")
	}
	next := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	for range 3 {
		out, err := p.Process(context.Background(), next)
		if err == nil {
			if strings.Contains(string(out.Answers[0].Payload), rx) {
				t.Fatalf("the next release delivered %s a second time", rx)
			}
			return
		}
		if !IsDeferred(err) {
			t.Fatalf("next release: %v", err)
		}
	}
	t.Fatal("the next release never answered")
}

// TestReleaseRecoveryAfterNoMorePrescriptions: a nominated release loses
// its answer after EPS released a prescription; the retry finds nothing
// more to release, which the EPS API answers with HTTP 200 and an
// OperationOutcome (NO_MORE_PRESCRIPTIONS), not a Parameters. The recovery
// read only a Parameters answer and gave up on this one, so the pharmacy
// was told "no more prescriptions" while EPS held one with it: stranded,
// in the commonest lost-answer case (the simulator answered an empty
// download with an empty Parameters, unlike EPS, and hid it). Now the
// recovered prescriptions are answered in a release response framed by
// their own release answers.
func TestReleaseRecoveryAfterNoMorePrescriptions(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	const rx = "C1D2E3-A99968-00A1BM"
	empty := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	out, err := p.Process(context.Background(), empty)
	if err != nil || out.Answers[0].Interaction != v3.ReleaseRejection {
		t.Fatalf("a download with nothing to release = %v, %+v; want a release rejection", err, out)
	}
	submitNominated(t, p, strings.ToUpper(ids.NewUUID()))
	in := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	for range 3 {
		out, err := p.Process(context.Background(), in)
		if err == nil {
			a := out.Answers[0]
			if a.Interaction != v3.NominatedReleaseResponse || !strings.Contains(string(a.Payload), rx) {
				t.Fatalf("answered %s without %s, which EPS released to the pharmacy in the lost answer: stranded", a.Interaction, rx)
			}
			return
		}
		if !IsDeferred(err) {
			t.Fatalf("release: %v", err)
		}
	}
	t.Fatal("release never answered")
}

// TestRejectionAddressedToTheSendersASID: a message porxgate cannot map is
// answered with an MCCI rejection addressed to its sender's ASID. The
// sender's device may carry several ids (MCCI_MT010101UK12 Device.id
// 1..*); the ASID is the one under the ASID root, as Spine reads it. The
// rejection was addressed to the device's first id whatever its root (here
// a local id before the ASID).
func TestRejectionAddressedToTheSendersASID(t *testing.T) {
	_, client := startSim(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	msg := string(nominatedReleaseFCG71(t))
	const asid = `<id root="1.2.826.0.1285.0.2.0.107" extension="230811201324"/>`
	snd := strings.Index(msg, "<communicationFunctionSnd>")
	at := strings.Index(msg[snd:], asid)
	if snd < 0 || at < 0 {
		t.Fatal("the fixture's sender device has changed")
	}
	msg = msg[:snd+at] + `<id root="2.16.840.1.113883.2.1.3.2.4.99" extension="LOCAL-7"/>` + msg[snd+at:]
	msg = strings.Replace(msg, `<effectiveTime value="20240612101455"/>`, `<effectiveTime value="not a time"/>`, 1)
	out, err := p.Process(context.Background(), replayIn(v3.NominatedReleaseRequest, []byte(msg)))
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if len(out.Answers) != 1 || out.Answers[0].Interaction != v3.ApplicationAcknowledgement {
		t.Fatalf("outcome %+v, want one MCCI rejection", out)
	}
	_, root, err := v3.Parse(out.Answers[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if got := root.Child("communicationFunctionRcv").Child("device").Child("id").OptAttr("extension"); got != "230811201324" {
		t.Errorf("the rejection is addressed to %q, want the sender's ASID 230811201324", got)
	}
}

// TestReleaseRecoveryWithinItsBudget: a recovery examined every nomination
// of the pharmacy however long it took (thousands of round trips to EPS),
// holding the release, and the other releases of the pharmacy waiting for
// it, as long. Once recoveryBudget has passed (the processor's clock is
// moved past it at the stopAt-th tracker question) it starts no further
// question: the release is answered with what it recovered, and the
// nominations not examined are owed to the pharmacy, whose next nominated
// release delivers the prescription the lost answer released if this one
// did not — once.
func TestReleaseRecoveryWithinItsBudget(t *testing.T) {
	const many, stopAt = 1000, 200
	r := newRecoveryRig(t, recoveryClient(), recoveryWorkers, 0)
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	r.p = NewEPSProcessor(mapping.NewRegistry(), r.client, now, nil, quietLog()).WithOutcomeLog(r.ix.(OutcomeLog), time.Hour)
	rx := r.submit(t, 1)[0]
	r.indexUnknown(t, many)
	r.gate.setOnAsk(func(total int) {
		if total == stopAt {
			ahead.Store(int64(recoveryBudget + time.Minute))
		}
	})
	out, err := r.lostRelease(t, context.Background())
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	_, total := r.gate.counts()
	if total > stopAt+recoveryWorkers {
		t.Errorf("%d tracker questions, want at most %d: the recovery went on past its budget", total, stopAt+recoveryWorkers)
	}
	owed, err := r.ix.SetMembers(context.Background(), owedSet("FCG71"))
	if err != nil || len(owed) < many+1-total {
		t.Errorf("%d nominations owed (%v), want at least the %d not examined", len(owed), err, many+1-total)
	}
	first := strings.Contains(string(out.Answers[0].Payload), rx)
	r.gate.setOnAsk(nil)
	next, err := r.p.Process(context.Background(), replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)))
	if err != nil {
		t.Fatalf("next release: %v", err)
	}
	if again := strings.Contains(string(next.Answers[0].Payload), rx); first == again {
		t.Errorf("%s delivered by the lost release's recovery: %v, by the next release: %v; want exactly one", rx, first, again)
	}
}
