package gateway

import (
	"context"
	"fmt"
	"math"
	"net"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// TestUpstreamMetricsPartyBounded sends prescriptions from many senders,
// each its own eb:PartyId (no routing table: every sender is accepted),
// through the gateway to the EPS simulator, and checks that the EPS attempt
// histogram's party label takes only the EPS identities' values: each
// sender's party key as a label value would be one set of series per
// sender, from untrusted input. Before, every sender got its own series.
func TestUpstreamMetricsPartyBounded(t *testing.T) {
	_, root := serveSim(t, sim.Options{})
	cfg := testConfig()
	cfg.UpstreamURL = root + "/FHIR/R4"
	m := NewMetrics()
	ctx := context.Background()
	up, stopUp, err := OpenUpstream(ctx, cfg, quietLog(), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopUp)
	proc, stopProc, err := OpenProcessor(ctx, cfg, up, quietLog(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopProc)
	srv := NewServer(cfg, newMemoryStore(), up, quietLog(), m, WithProcessor(PartyScoped(proc)))
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error { return srv.ServeAndWork(ctx, ln) })

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	const senders = 6
	for i := range senders {
		req := newReq(newID(t, i))
		req.from, req.payload = fmt.Sprintf("Q%04d-807341", i), payload
		if code, body := sendEb(t, base, req); code != 202 {
			t.Fatalf("sender %d: HTTP %d\n%s", i, code, body)
		}
	}
	const name = "porxgate_upstream_request_duration_seconds"
	waitFor(t, "an EPS attempt per sender", func() bool { return histogramSamples(t, m, name, nil) >= senders })
	values := map[string]bool{}
	for _, s := range metricSamples(t, m, name, nil) {
		for _, l := range s.GetLabel() {
			if l.GetName() == "party" {
				values[l.GetValue()] = true
			}
		}
	}
	if len(values) != 1 || !values[defaultIdentity] {
		t.Fatalf("party label values %v, want only %q (no per-party identities)", values, defaultIdentity)
	}
}

// TestUpstreamBucketsCoverTheAttemptLimit: an EPS call attempt may last
// up to the attempt limit (upstream.DefaultAttemptTimeout, 35 s, since EPS
// itself waits up to 25 s for Spine), and the histogram must tell such
// attempts apart. Its buckets stopped at 30 s, so every attempt between
// 30 s and the limit fell in +Inf with the timed-out ones.
func TestUpstreamBucketsCoverTheAttemptLimit(t *testing.T) {
	m := NewMetrics()
	limit := upstream.DefaultAttemptTimeout.Seconds()
	m.upstream.WithLabelValues("process-message", "200", "default").Observe(limit)
	samples := metricSamples(t, m, "porxgate_upstream_request_duration_seconds", nil)
	if len(samples) != 1 {
		t.Fatalf("%d samples, want 1", len(samples))
	}
	for _, b := range samples[0].GetHistogram().GetBucket() {
		if b.GetUpperBound() >= limit && b.GetCumulativeCount() == 1 && !math.IsInf(b.GetUpperBound(), 1) {
			return
		}
	}
	t.Errorf("an attempt of %v s (the attempt limit) falls in no finite bucket: %v", limit, samples[0].GetHistogram().GetBucket())
}
