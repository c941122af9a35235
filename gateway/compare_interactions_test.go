package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
)

// TestLegacyPrimaryRefusesMadeUpInteractions: with the legacy path
// primary, any id of an interaction's shape (PORX_IN999900UK31, from any
// sender: untrusted input) was taken at the door, carried to Spine, which
// refuses it, and counted under its own label in porxgate_exchanges_total,
// porxgate_exchange_duration_seconds (17 lines of /metrics an id) and
// porxgate_compare_total: one more set of series for each made-up id,
// without bound. Only the MIM's interactions a legacy system sends are
// taken now; another id is refused at the door, as Spine refuses it and
// as without comparison mode, and names no series.
func TestLegacyPrimaryRefusesMadeUpInteractions(t *testing.T) {
	route, calls := routeAnswering(t, http.StatusOK, "text/xml", string(mcciPayload("X")))
	m := NewMetrics()
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: route.URL}, nil, m, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc))
	const made = 5
	for i := range made {
		r := newReq(newID(t, 960+i))
		r.action = fmt.Sprintf("PORX_IN9999%02dUK31", i)
		r.payload = testPayloadOf(r.messageID, r.action)
		if code, body := sendEb(t, g.base, r); code == http.StatusAccepted || !strings.Contains(string(body), "ErrorList") {
			t.Fatalf("%s: HTTP %d, want the door's eb:MessageError\n%s", r.action, code, body)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Spine got %d made-up interactions, want 0", n)
	}
	for _, text := range []string{metricsText(t, g), gatherText(t, m)} {
		if strings.Contains(text, "PORX_IN9999") {
			t.Errorf("a made-up interaction names a series:\n%s", grepLines(text, "PORX_IN9999"))
		}
	}
}

// gatherText is m's series as text lines (name{labels} value).
func gatherText(t *testing.T, m *Metrics) string {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s%v\n", mf.GetName(), mt.GetLabel())
		}
	}
	return b.String()
}
