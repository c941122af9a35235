package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
)

// TestSOAPRetryableFaultCounted answers a SOAP request with a retryable
// fault (EPS unavailable) and checks what the operator sees: the request is
// one exchange, porxgate_exchanges_total{outcome="unavailable"}, and it has
// its 'answered' line with the fault's code and the HTTP status. Before, a
// request answered so was counted as received (accepted) but never as an
// exchange, and had no 'answered' line: a SOAP sender's EPS-down faults did
// not show among the exchanges at all.
func TestSOAPRetryableFaultCounted(t *testing.T) {
	p := soapProcessor(func(int) (*Outcome, error) { return nil, Deferred(errors.New("EPS unavailable")) })
	log, sink := jsonLogger(slog.LevelDebug)
	m := NewMetrics()
	srv := NewServer(testConfig(), newMemoryStore(), fakeUpstream{}, log, m, WithProcessor(p))
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error { return srv.Serve(ctx, ln) })
	if code, body := sendSOAP(t, base, soapEnvelope("11111111-1111-4111-8111-1111111111AA", releaseReq, soapPayload)); code != 500 {
		t.Fatalf("HTTP %d, want 500 (a retryable fault)\n%s", code, body)
	}
	if n := counterSum(t, m, "porxgate_messages_received_total", map[string]string{"transport": "soap", "outcome": "accepted"}); n != 1 {
		t.Fatalf("%v accepted", n)
	}
	if n := counterSum(t, m, "porxgate_exchanges_total", map[string]string{"interaction": releaseReq, "outcome": OutcomeUnavailable}); n != 1 {
		t.Errorf("exchanges_total{outcome=%q} = %v, want 1", OutcomeUnavailable, n)
	}
	answered := 0
	for _, rec := range sink.lines(t) {
		if rec["msg"] != "answered" {
			continue
		}
		answered++
		if rec["outcome"] != OutcomeUnavailable || rec["outcome_code"] != "200" || rec["http_status"] != float64(500) || rec["duration_ms"] == nil {
			t.Errorf("answered line %s", rec["_raw"])
		}
	}
	if answered != 1 {
		t.Errorf("%d 'answered' lines, want 1", answered)
	}
}
