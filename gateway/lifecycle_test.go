package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
)

// TestStopJournalsWorkInHand: a message an inbox worker is processing as
// the gateway stops is finished within the shutdown timeout, and what its
// processing records in the journal (its answer) is written
// to the journal in Redis before ServeAndWork returns: nothing is left
// pending or lost uncounted.
func TestStopJournalsWorkInHand(t *testing.T) {
	st, _ := redisStore(t)
	cfg := testConfig()
	m := NewMetrics()
	j := OpenJournal(cfg, st, m, quietLog())
	if j.Backend().Kind() != "redis" {
		t.Fatalf("journal backend %s, want redis", j.Backend().Kind())
	}
	mhs := startMHS(t, "ack")
	entered, release := make(chan struct{}), make(chan struct{})
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
		close(entered)
		<-release
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), m,
		WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")), WithJournal(j))
	g := serveGateway(t, srv)
	base, stop := g.base, g.stop

	r := newReq(newID(t, 1))
	if code, body := sendEb(t, base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the message never reached the processor")
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	time.Sleep(300 * time.Millisecond) // the stop is under way, the work still in hand
	close(release)
	<-stopped

	if n := j.Pending(); n != 0 {
		t.Errorf("%d journal events still pending after the stop", n)
	}
	if n := j.Dropped(); n != 0 {
		t.Errorf("%d journal events dropped", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	x, err := j.Backend().Get(ctx, r.messageID)
	if err != nil || x == nil {
		t.Fatalf("exchange %s: %v, %v", r.messageID, x, err)
	}
	for _, kind := range []string{journal.StepLegacyRequest, journal.StepV3Answer} {
		if !strings.Contains(stepKinds(*x), kind) {
			t.Errorf("journal steps %q lack %s", stepKinds(*x), kind)
		}
	}
}

// legacyRoute is a legacy Spine route for comparison mode on loopback: it
// counts the calls and answers each with an MCCI acknowledgement; with
// hold set, each call waits until hold is closed.
type legacyRoute struct {
	srv   *httptest.Server
	calls atomic.Int64
	hold  chan struct{}
}

func startLegacyRoute(t *testing.T, hold chan struct{}) *legacyRoute {
	t.Helper()
	l := &legacyRoute{hold: hold}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		l.calls.Add(1)
		if l.hold != nil {
			<-l.hold
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(mcciPayload("00000000-0000-4000-8000-000000000000"))
	}))
	t.Cleanup(l.srv.Close)
	return l
}

// TestRunComparesInComparisonMode: Run with --compare-legacy-url starts
// comparison mode's shadow workers: a message the FHIR path answers is
// also sent down the legacy route.
func TestRunComparesInComparisonMode(t *testing.T) {
	legacy := startLegacyRoute(t, nil)
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	cfg := testConfig()
	cfg.Compare.LegacyURL = legacy.srv.URL
	addr := runGateway(t, cfg).Addr
	r := newReq(newID(t, 2))
	r.payload = payload
	if code, body := sendEb(t, "http://"+addr, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the shadow call down the legacy route", func() bool { return legacy.calls.Load() > 0 })
}

// TestStopFinishesShadowRunsInHand: comparison mode at a stop: the shadow
// run in hand finishes within the shutdown timeout and its comparison is
// journalled as it came out, not as an error of the stop; a shadow run
// still queued is journalled skipped, saying why.
func TestStopFinishesShadowRunsInHand(t *testing.T) {
	hold := make(chan struct{})
	legacy := startLegacyRoute(t, hold)
	cfg := testConfig()
	cfg.InboxWorkers = 2
	m := NewMetrics()
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{Registry: m.Registry, Log: quietLog()})
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: legacy.srv.URL}, j, m, quietLog())
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), m, WithProcessor(proc), WithJournal(j))
	g := serveGateway(t, srv)
	base, stop := g.base, g.stop

	first, second := newReq(newID(t, 3)), newReq(newID(t, 4))
	for _, r := range []ebReq{first, second} {
		if code, body := sendEb(t, base, r); code != 202 {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
	}
	waitFor(t, "the first shadow call", func() bool { return legacy.calls.Load() == 1 })
	waitFor(t, "the second shadow run queued", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		x1, _ := j.Backend().Get(ctx, first.messageID)
		x2, _ := j.Backend().Get(ctx, second.messageID)
		return x1 != nil && x2 != nil && strings.Contains(stepKinds(*x1), journal.StepV3Answer) &&
			strings.Contains(stepKinds(*x2), journal.StepV3Answer)
	})
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	time.Sleep(300 * time.Millisecond) // the stop is under way, the shadow run still in hand
	close(hold)
	<-stopped

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	results := map[string]string{}
	for _, r := range []ebReq{first, second} {
		x, err := j.Backend().Get(ctx, r.messageID)
		if err != nil || x == nil {
			t.Fatalf("exchange %s: %v, %v", r.messageID, x, err)
		}
		if x.Comparison == nil {
			t.Fatalf("exchange %s has no comparison after the stop (steps %s)", r.messageID, stepKinds(*x))
		}
		results[r.messageID] = x.Comparison.Result
		if x.Comparison.Result == compareError {
			t.Errorf("exchange %s: comparison %+v: an error of the stop", r.messageID, *x.Comparison)
		}
	}
	if (results[first.messageID] == compareSkipped) == (results[second.messageID] == compareSkipped) {
		t.Errorf("comparisons %v: want the run in hand compared and the queued one skipped", results)
	}
	if n := legacy.calls.Load(); n != 1 {
		t.Errorf("the legacy route got %d calls, want 1 (the queued run is not started at the stop)", n)
	}
}

// exhaustedListener is a loopback listener whose Accept, once fail is
// closed, fails as a process out of file descriptors does (EMFILE): an
// error fasthttp takes as permanent, ending its Serve.
type exhaustedListener struct {
	net.Listener
	fail   chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	select {
	case <-l.fail:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: syscall.EMFILE}
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *exhaustedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// TestFrontDoorFailureEndsTheRun: when the front door stops serving on
// its own (its listener fails for good), ServeAndWork stops everything
// else too (the admin listener included) and returns the error, so that
// the process exits and is restarted, instead of living on with its
// front door gone.
func TestFrontDoorFailureEndsTheRun(t *testing.T) {
	cfg := testConfig()
	cfg.Admin.Addr = "127.0.0.1:0"
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics())
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &exhaustedListener{Listener: inner, fail: make(chan struct{}), closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.ServeAndWork(ctx, ln) }()
	if srv.AdminAddr(5*time.Second) == "" {
		t.Fatal("the admin listener did not start")
	}
	close(ln.fail)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("ServeAndWork returned nil after its front door failed")
		}
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatalf("ServeAndWork still running %v after its front door failed", cfg.ShutdownTimeout+5*time.Second)
	}
	if c, err := net.DialTimeout("tcp", srv.AdminAddr(0), time.Second); err == nil {
		c.Close()
		t.Fatal("the admin listener still accepts connections")
	}
}

// TestStopUnderLoadLosesNothing: a gateway on Redis stopped while
// messages arrive and are processed, then started again on the same
// Redis, answers every message it acknowledged exactly once: nothing
// acknowledged is lost at the stop, nothing is answered twice, nothing
// is dead-lettered.
func TestStopUnderLoadLosesNothing(t *testing.T) {
	st, newStore := redisStore(t)
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
		time.Sleep(20 * time.Millisecond) // work in hand at the stop
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	serve := func(st store.Store) (string, func()) {
		srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(),
			WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
		g := serveGateway(t, srv)
		return g.base, g.stop
	}
	base, stop := serve(st)
	const n, senders = 60, 6
	accepted := map[string]bool{}
	var mu sync.Mutex
	var stopOnce sync.Once
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += senders {
				r := newReq(newID(t, 100+i))
				ct, action, body := r.build()
				req, _ := http.NewRequest(http.MethodPost, base+PathEbXML, bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req.Header.Set("SOAPAction", action)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // refused by the stop: a sender would retry
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					continue
				}
				mu.Lock()
				accepted[r.messageID] = true
				if len(accepted) == n/3 { // stop with messages arriving and in hand
					stopOnce.Do(func() { go stop() })
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stop()
	if len(accepted) == 0 {
		t.Fatal("nothing was accepted before the stop")
	}
	_, stop2 := serve(newStore())
	defer stop2()
	answered := func() map[string]int {
		got := map[string]int{}
		for _, m := range mhs.messages() {
			if m.msg != nil {
				got[m.msg.RefToMessageID]++
			}
		}
		return got
	}
	waitFor(t, "every accepted message answered", func() bool {
		got := answered()
		for id := range accepted {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	stop2()
	for id, k := range answered() {
		if k > 1 {
			t.Errorf("message %s answered %d times", id, k)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if dead, err := st.DeadLetters(ctx, 10); err != nil || len(dead) > 0 {
		t.Errorf("dead letters after a stop: %d, %v", len(dead), err)
	}
	t.Logf("%d of %d accepted before the stop, each answered once", len(accepted), n)
}

// lineLog is a logger whose lines (as JSON) the test can read.
type lineLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestStopDrainsTheMemoryStore: with the in-memory store nothing survives
// the process, so "left in the store" is lost: a stop finishes what was
// acknowledged (processing and delivery) within the shutdown timeout, and
// what it cannot finish (a receiver down) it reports as lost, at ERROR,
// instead of stopping "cleanly" without a word.
func TestStopDrainsTheMemoryStore(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		wantLost   bool
	}{
		{"receiver up: all answered", "ack", false},
		{"receiver down: loss reported", "fail", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mhs := startMHS(t, tc.mode)
			cfg := testConfig()
			cfg.InboxWorkers, cfg.ShutdownTimeout = 1, 2*time.Second
			proc := newFakeProcessor()
			proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
				time.Sleep(50 * time.Millisecond)
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
			}
			var logs lineLog
			srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, slog.New(slog.NewJSONHandler(&logs, nil)), NewMetrics(),
				WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, `, "retryInterval": "1m", "persistDuration": "1h"`)))
			g := serveGateway(t, srv)
			base, stop := g.base, g.stop
			const n = 6
			var ids []string
			for i := range n {
				r := newReq(newID(t, 200+i))
				if code, body := sendEb(t, base, r); code != 202 {
					t.Fatalf("ebXML POST = %d\n%s", code, body)
				}
				ids = append(ids, r.messageID)
			}
			stop()
			got := map[string]bool{}
			for _, m := range mhs.messages() {
				if m.msg != nil {
					got[m.msg.RefToMessageID] = true
				}
			}
			lost := strings.Contains(logs.String(), `"level":"ERROR"`) && strings.Contains(logs.String(), "in-memory store")
			if tc.wantLost {
				if !lost {
					t.Fatalf("answers undelivered at the stop, but no loss reported:\n%s", logs.String())
				}
				return
			}
			for _, id := range ids {
				if !got[id] {
					t.Errorf("message %s acknowledged, not answered by the stop (%d of %d answered)", id, len(got), n)
				}
			}
			if lost {
				t.Errorf("loss reported though everything was answered:\n%s", logs.String())
			}
		})
	}
}

// shadowPartyRecorder is a Processor that notes the upstream party of each
// call's context and answers with an MCCI acknowledgement.
type shadowPartyRecorder struct {
	mu      sync.Mutex
	parties []string
}

func (p *shadowPartyRecorder) Supports(string) bool { return true }

func (p *shadowPartyRecorder) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	p.mu.Lock()
	p.parties = append(p.parties, upstream.PartyOf(ctx))
	p.mu.Unlock()
	return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
}

func (p *shadowPartyRecorder) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.parties...)
}

// TestShadowFHIRRunsUnderTheSendersIdentity: with the legacy path primary,
// the FHIR path runs as the shadow, on comparison mode's own workers; it
// calls EPS under the sender's upstream identity (per-party identities),
// as the FHIR path does when it is primary, not under the default one.
func TestShadowFHIRRunsUnderTheSendersIdentity(t *testing.T) {
	legacy := startLegacyRoute(t, nil)
	fhir := &shadowPartyRecorder{}
	cfg := testConfig()
	m := NewMetrics()
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, fhir,
		&compare.Legacy{URL: legacy.srv.URL}, nil, m, quietLog())
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), m, WithProcessor(PartyScoped(proc)))
	g := serveGateway(t, srv)
	base, stop := g.base, g.stop
	r := newReq(newID(t, 7))
	if code, body := sendEb(t, base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the shadow FHIR run", func() bool { return len(fhir.seen()) > 0 })
	stop()
	if got := fhir.seen(); got[0] != senderParty {
		t.Fatalf("shadow FHIR run under party %q, want the sender's %q", got[0], senderParty)
	}
}

// TestStopReportsCancellationsTheMemoryStoreLoses: a cancellation answered
// pending (the prescriber now waits for its Subsequent Cancel Response)
// is tracked in the store; with the in-memory store a stop loses it, and
// says so at ERROR.
func TestStopReportsCancellationsTheMemoryStoreLoses(t *testing.T) {
	f := newFlow(t)
	st := newMemoryStore()
	opts := cancelTestOptions(time.Hour, 2*time.Second)
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: f.client, Config: opts, Log: quietLog()})
	proc := NewEPSProcessor(mapping.NewRegistry(), f.client, nil, nil, quietLog()).WithCancellations(c)
	var logs lineLog
	srv := NewServer(testConfig(), st, fakeUpstream{}, slog.New(slog.NewJSONHandler(&logs, nil)), NewMetrics(),
		WithProcessor(proc), WithRoutes(flowRoutes(t, f.prescriber.srv.URL, f.dispenser.srv.URL)))
	srv.EnableCancellations(c)
	g := serveGateway(t, srv)
	f.prescribeReleaseCancel(t, g)
	g.stop()
	var lost bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, `"cancellations_tracked":1`) {
			lost = true
		}
	}
	if !lost {
		t.Fatalf("a tracked cancellation lost at the stop, not reported:\n%s", logs.String())
	}
}
