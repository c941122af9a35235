package gateway

import (
	"bytes"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestExchangesCountedOnceAcrossRestart checks porxgate_exchanges_total
// against what the front door accepted, with the state in a real Redis
// and a restart in between: replica A accepts a prescription (AA), its
// duplicate (acknowledged, not an exchange), a cancel request that goes
// to the dead letters, and a prescription that waits while EPS is down;
// A stops; replica B, on the same Redis with EPS back, finishes the one
// that waited. Every accepted message is one exchange, counted by exactly
// one replica.
func TestExchangesCountedOnceAcrossRestart(t *testing.T) {
	stA, newStore := redisStore(t)
	s, root := serveSim(t, sim.Options{})
	mhs := startMHS(t, "ack")
	// Each replica its own EPS client, as each process has: B's breaker
	// has not seen the outage.
	start := func(st store.Store, m *Metrics) *gw {
		t.Helper()
		client, err := upstream.New(upstream.Config{BaseURL: root + "/FHIR/R4",
			Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		cfg := testConfig()
		cfg.ProcessRetries = 1
		srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), m,
			WithProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())), WithRoutes(routesTo(t, mhs.srv.URL, "")))
		return serveGateway(t, srv)
	}
	send := func(g *gw, n int, action string, payload []byte) ebReq {
		t.Helper()
		r := newReq(newID(t, n))
		r.action, r.payload = action, payload
		if code, body := sendEb(t, g.base, r); code != 202 {
			t.Fatalf("%s POST = %d\n%s", action, code, body)
		}
		return r
	}
	const exchanges, received = "porxgate_exchanges_total", "porxgate_messages_received_total"

	mA := NewMetrics()
	a := start(stA, mA)
	rx, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	first := send(a, 1, prescribe, rx)
	waitFor(t, "the prescription's exchange", func() bool { return counterSum(t, mA, exchanges, nil) == 1 })
	dup := newReq(first.messageID)
	dup.payload = rx
	if code, body := sendEb(t, a.base, dup); code != 202 {
		t.Fatalf("duplicate POST = %d\n%s", code, body)
	}
	bad := bytes.Replace(legacyCancel(t, rxFixture), []byte(`value="20010704"`), []byte(`value="2001-07-04x"`), 1)
	send(a, 2, v3.CancelRequest, bad)
	waitFor(t, "the dead letter", func() bool { return counterSum(t, mA, exchanges, map[string]string{"outcome": OutcomeDeadLetter}) == 1 })
	s.SetFaults(sim.Faults{Down: true})
	other, _ := legacyPrescription(t, "repeat-prescribing-dental-four-items.json")
	send(a, 3, prescribe, other)
	accepted := time.Now() // after its acceptance
	waitFor(t, "the wait for EPS", func() bool {
		return counterSum(t, mA, "porxgate_messages_processed_total", map[string]string{"outcome": "deferred"}) >= 1
	})
	a.stop()
	s.SetFaults(sim.Faults{})
	back := time.Now() // it cannot finish before EPS is back

	mB := NewMetrics()
	start(newStore(), mB)
	waitFor(t, "the waiting prescription's exchange on B", func() bool { return counterSum(t, mB, exchanges, nil) == 1 })

	if got := counterSum(t, mA, received, map[string]string{"outcome": "accepted"}); got != 3 {
		t.Errorf("A accepted %v messages, want 3", got)
	}
	if got := counterSum(t, mA, received, map[string]string{"outcome": "duplicate"}); got != 1 {
		t.Errorf("A counted %v duplicates, want 1", got)
	}
	// Its exchange's duration (porxgate_exchange_duration_seconds) runs
	// from its acceptance on A to its end on B, the wait included.
	const latency = "porxgate_exchange_duration_seconds"
	if n := histogramSamples(t, mA, latency, nil); n != 2 {
		t.Errorf("A timed %d exchanges, want 2", n)
	}
	if n := histogramSamples(t, mB, latency, map[string]string{"interaction": prescribe}); n != 1 {
		t.Errorf("B timed %d exchanges, want 1", n)
	} else if got, least := metricSamples(t, mB, latency, nil)[0].GetHistogram().GetSampleSum(), back.Sub(accepted).Seconds(); got < least {
		t.Errorf("the waiting prescription's exchange took %.3fs, want at least the %.3fs it waited for EPS", got, least)
	}
	for _, c := range []struct {
		m       *Metrics
		replica string
		labels  map[string]string
		want    float64
	}{
		{mA, "A", map[string]string{"interaction": prescribe, "outcome": "AA"}, 1},
		{mA, "A", map[string]string{"interaction": v3.CancelRequest, "outcome": OutcomeDeadLetter}, 1},
		{mA, "A", nil, 2},
		{mB, "B", map[string]string{"interaction": prescribe, "outcome": "AA"}, 1},
		{mB, "B", nil, 1},
	} {
		if got := counterSum(t, c.m, exchanges, c.labels); got != c.want {
			t.Errorf("replica %s: %s%v = %v, want %v", c.replica, exchanges, c.labels, got, c.want)
		}
	}
}
