package gateway

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

func TestOpenUpstreamBuiltInSimulator(t *testing.T) {
	cfg := DefaultConfig()
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(up.Describe(), "built-in EPS simulator at http://127.0.0.1:") {
		t.Errorf("Describe = %q", up.Describe())
	}
	if err := up.Ping(context.Background()); err != nil {
		t.Fatalf("Ping the built-in simulator: %v", err)
	}
	bundle, err := os.ReadFile("../testdata/prescribe/acute-nurse-controlled-drug-unsigned.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := up.Prepare(context.Background(), bundle)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"digest"`) || !strings.Contains(string(resp.Body), "RS256") {
		t.Fatalf("$prepare on the built-in simulator = %d %s", resp.Status, resp.Body)
	}
}

// TestBreakerStateInMetrics trips the process-message breaker against a
// simulator that answers 503 to everything and checks the gauge.
func TestBreakerStateInMetrics(t *testing.T) {
	s := sim.New(sim.Options{Logger: quietLog(), Faults: sim.Faults{Force5xx: -1}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	cfg := DefaultConfig()
	cfg.UpstreamURL = "http://" + ln.Addr().String() + "/FHIR/R4"
	m := NewMetrics()
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), m)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := gaugeValue(t, m, "porxgate_upstream_breaker_state", map[string]string{"operation": "process-message", "identity": defaultIdentity}); got != 0 {
		t.Fatalf("breaker gauge before = %v, want 0 (closed)", got)
	}
	for i := 0; i < 10 && up.BreakerStates()["process-message"] != "open"; i++ {
		_, _ = up.ProcessMessage(context.Background(), []byte(`{"resourceType":"Bundle"}`))
	}
	if st := up.BreakerStates()["process-message"]; st != "open" {
		t.Fatalf("breaker state %s, want open", st)
	}
	if got := gaugeValue(t, m, "porxgate_upstream_breaker_state", map[string]string{"operation": "process-message", "identity": defaultIdentity}); got != 2 {
		t.Fatalf("breaker gauge = %v, want 2 (open)", got)
	}
}
