package gateway

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestReadyzHalfOpenBreakerAfterRecovery: with --readyz-upstream, an EPS
// outage opens the breaker of an operation only sync requests use (the
// tracker API). Once EPS is back and the open period is over the breaker
// is half-open: it closes only on a call of that operation, which a
// replica /readyz takes out of its load balancer never gets. Before, a
// half-open breaker made /readyz 503, so the replica stayed out for good
// (measured: still 503 two seconds after EPS answered again, with an open
// period of 100ms; the test gives it five, with an open period of 1s). Now /readyz counts an open breaker only: half-open is
// reported in its body, and the replica is ready to take the probe.
func TestReadyzHalfOpenBreakerAfterRecovery(t *testing.T) {
	s, root := serveSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1, Ops: []string{"tracker"}}})
	cfg := DefaultConfig()
	cfg.UpstreamURL = root + sim.DefaultBasePath
	cfg.ReadyzUpstream, cfg.BreakerOpen = true, time.Second
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	base := startServerWith(t, cfg, store.NewMemory(nil), up)
	for i := 0; i < 10 && up.BreakerStates()["tracker"] != "open"; i++ {
		_, _ = up.TrackerGet(context.Background(), url.Values{"focus:identifier": {"X"}})
	}
	if st := up.BreakerStates()["tracker"]; st != "open" {
		t.Fatalf("tracker breaker %s during the outage, want open", st)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, `"breaker open"`) {
		t.Fatalf("/readyz with a breaker open = %d %s, want 503", code, body)
	}
	s.SetFaults(sim.Faults{}) // EPS is back
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get(t, base+"/readyz")
		if code == 200 {
			if !strings.Contains(body, `"tracker":"half-open"`) {
				t.Fatalf("/readyz = %d %s, want the half-open breaker reported", code, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s five seconds after EPS recovered (open period 1s): the replica never gets the call that would close the breaker", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r, err := up.TrackerGet(context.Background(), url.Values{"focus:identifier": {"X"}})
	if err != nil || r.Status != 200 {
		t.Fatalf("tracker call once ready: %+v, %v", r, err)
	}
}
