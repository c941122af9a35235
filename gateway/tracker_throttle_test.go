package gateway

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTrackerBusyWhileEPSAsksToWait: EPS refusing a tracker search with
// 429 and a Retry-After makes the tracker answer "busy" (HTTP 503); a
// search asked while that Retry-After runs is not sent to EPS (the
// client holds its calls back) and is answered the same, not as EPS
// being unavailable (502).
func TestTrackerBusyWhileEPSAsksToWait(t *testing.T) {
	var calls atomic.Int32
	r := startTrackerRigUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}`))
	}))
	for i := range 2 {
		code, _, body := r.get(t, PathTrackerItemSummary+"?nhsNumber=9449304106")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "busy") {
			t.Errorf("search %d: HTTP %d %s; want 503, EPS busy", i+1, code, body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("EPS got %d calls, want 1: the second search came within its Retry-After", n)
	}
}
