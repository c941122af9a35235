package gateway

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// lostThenProxyRefuses is the simulator's client behind a proxy that, while
// broken, loses the first release's answer after EPS released (the
// connection dropped on the way back) and then refuses every release with
// an HTML 502 of its own (not EPS's verdict: counted as an ordinary
// failure, so a lasting one ends as a dead letter).
type lostThenProxyRefuses struct {
	*upstream.Client
	broken   atomic.Bool
	releases atomic.Int32
}

func (a *lostThenProxyRefuses) Release(ctx context.Context, body []byte) (*upstream.Response, error) {
	if !a.broken.Load() {
		return a.Client.Release(ctx, body)
	}
	if a.releases.Add(1) == 1 {
		if _, err := a.Client.Release(ctx, body); err != nil {
			return nil, err
		}
	}
	return &upstream.Response{Status: 502, Body: []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")}, nil
}

// asRunWraps returns the options that serve p as Run serves the EPS
// processor: under its decorators (per-party identities, the journal).
func asRunWraps(t *testing.T, p Processor) []Option {
	t.Helper()
	return []Option{WithProcessor(PartyScoped(p)), WithJournal(newTestJournal(t))}
}

// asComparingPrimary returns the options that serve p as Run serves the
// EPS processor in comparison mode with the FHIR path primary: under
// comparison mode (a legacy route shadowing it) and Run's decorators.
func asComparingPrimary(t *testing.T, p Processor) []Option {
	t.Helper()
	legacy := startLegacyRoute(t, nil)
	c := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, p,
		&compare.Legacy{URL: legacy.srv.URL}, nil, NewMetrics(), quietLog())
	return asRunWraps(t, c)
}

// TestDeadLetteredReleaseIsNotStranded: a nominated release's first
// attempt reaches EPS, which releases the pharmacy's prescription, and
// its answer is lost; every later attempt fails, and the message goes to
// the dead letters. The prescription is with the pharmacy, which never saw
// it. Its next nominated release delivers it (before, only an operator's
// resend of the dead letter recovered it), and the resend of the dead
// letter afterwards does not deliver it a second time. So it is whether
// the processor is served bare, under the decorators Run puts over it, or
// under comparison mode with the FHIR path primary (before, these hid the
// processor's dead-letter note: stranded).
func TestDeadLetteredReleaseIsNotStranded(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(t *testing.T, p Processor) []Option
	}{
		{"bare", func(_ *testing.T, p Processor) []Option { return []Option{WithProcessor(p)} }},
		{"as Run wraps it", asRunWraps},
		{"in comparison mode, FHIR path primary", asComparingPrimary},
	} {
		t.Run(tc.name, func(t *testing.T) { testDeadLetteredReleaseIsNotStranded(t, tc.opts) })
	}
}

func testDeadLetteredReleaseIsNotStranded(t *testing.T, opts func(t *testing.T, p Processor) []Option) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	api := &lostThenProxyRefuses{Client: client}
	api.broken.Store(true)
	proc := NewEPSProcessor(mapping.NewRegistry(), api, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, proc, "F4000000-0000-4000-8000-000000000001")
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	cfg.ProcessRetries = 1
	g := startGateway(t, cfg, st, false, append(opts(t, proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))...)

	request := nominatedReleaseFCG71(t)
	r := newReq(newID(t, 40))
	r.action = v3.NominatedReleaseRequest
	r.payload = request
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("release POST = %d\n%s", code, body)
	}
	waitFor(t, "the release in the dead letters", func() bool {
		code, body := get(t, g.adminBase(t)+PathDeadLetters)
		return code == 200 && strings.Contains(body, r.messageID)
	})
	if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
	}
	api.broken.Store(false)

	next, err := proc.Process(context.Background(), replayIn(v3.NominatedReleaseRequest, request))
	if err != nil {
		t.Fatalf("the pharmacy's next release: %v", err)
	}
	if len(next.Answers) != 1 || !strings.Contains(string(next.Answers[0].Payload), rxID) {
		t.Fatalf("the pharmacy's next release did not deliver %s, which EPS released to it in the dead-lettered release's lost answer: stranded", rxID)
	}
	resent := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: r.messageID, FromParty: r.from, Payload: request}
	again, err := proc.Process(context.Background(), resent)
	if err != nil {
		t.Fatalf("the dead letter resent: %v", err)
	}
	for _, a := range again.Answers {
		if strings.Contains(string(a.Payload), rxID) {
			t.Fatalf("the resent dead letter delivered %s a second time", rxID)
		}
	}
}
