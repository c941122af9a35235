package gateway

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
)

// holdUntilReleased returns a channel that stays open until release (also
// called at the test's end) closes it.
func holdUntilReleased(t *testing.T) (hold chan struct{}, release func()) {
	t.Helper()
	hold = make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return hold, release
}

// waitComparison waits for the comparison of exchange id in j.
func waitComparison(t *testing.T, j *journal.Journal, id string) *journal.Comparison {
	t.Helper()
	var x *journal.Exchange
	waitFor(t, "the comparison of "+id, func() bool {
		x, _ = j.Backend().Get(context.Background(), id)
		return x != nil && x.Comparison != nil
	})
	return x.Comparison
}

// TestShadowQueueBoundedByBytes: the shadow queue was bounded by count
// only (256 runs), each holding a request of up to 4 MiB and the primary's
// answer of up to 8 MiB: about 3 GB held in the worst case. A run that
// would take the bytes the queued and running shadow runs hold past
// --compare-queue-bytes is now skipped and counted, as when the queue is
// full; the runs within the budget are made.
func TestShadowQueueBoundedByBytes(t *testing.T) {
	hold, release := holdUntilReleased(t)
	legacy := startLegacyRoute(t, hold)
	j := newTestJournal(t)
	m := NewMetrics()
	const mib = 1 << 20
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 20 * time.Second, QueueBytes: 4 * mib}, newFakeProcessor(),
		&compare.Legacy{URL: legacy.srv.URL}, j, m, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	big := func(n int) ebReq {
		r := newReq(newID(t, 980+n))
		r.payload = []byte(strings.Replace(string(r.payload), "<note>", "<note>"+strings.Repeat("x", 3*mib/2), 1))
		return r
	}
	var rs []ebReq
	for i := range 3 {
		r := big(i)
		rs = append(rs, r)
		if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatalf("ebXML POST %d = %d\n%.300s", i, code, body)
		}
		if i == 0 { // the first in the worker's hand, held at the route
			waitFor(t, "the first shadow run at the route", func() bool { return legacy.calls.Load() == 1 })
		}
	}
	// 1.5 MiB in hand, 1.5 MiB queued: the third would hold 4.5 MiB.
	if c := waitComparison(t, j, rs[2].messageID); c.Result != compareSkipped || !strings.Contains(c.Error, "compare-queue-bytes") {
		t.Errorf("the third run's comparison %s %q, want skipped over the byte budget", c.Result, c.Error)
	}
	release()
	for _, r := range rs[:2] {
		if c := waitComparison(t, j, r.messageID); c.Result == compareSkipped {
			t.Errorf("%s skipped (%s), want compared within the budget", r.messageID, c.Error)
		}
	}
	if n := compareCount(t, m, prescribe, compareSkipped); n != 1 {
		t.Errorf("porxgate_compare_total{result=skipped} = %v, want 1", n)
	}
	// Every byte given back once the runs are done: a small run is queued.
	waitFor(t, "the budget given back", func() bool { return comparingOf(proc).held.Load() == 0 })
}
