package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestShadowRunsOfAKilledReplicaAreNotSilentlyLost: two gateways share one
// Redis. The first answers two messages (their answers stored, nothing
// left to process again) and queues their shadow runs: its one shadow
// worker takes the first up and waits in the legacy call; the second
// waits in its queue, in process memory. Then it is killed (its store
// cut: nothing more of it reaches Redis, nothing is drained). Both runs
// were lost without a trace: never made, never journalled or counted as
// skipped, though docs/compare.md promises a shadow run is never
// silently left out. The surviving replica now finds them once the
// killed one's lease on them has lapsed and journals and counts each as
// skipped, saying why. A replica that is alive and slow (its runs held
// longer than the lease) keeps its runs: none is taken from it.
func TestShadowRunsOfAKilledReplicaAreNotSilentlyLost(t *testing.T) {
	const lease = 500 * time.Millisecond
	for _, tc := range []struct {
		name   string
		killed bool
		// want is the surviving replica's comparison of the run taken up
		// and of the run still queued when the first replica stopped.
		wantTaken, wantQueued string
	}{
		{"killed", true, "taken up by another gateway process", "queued by another gateway process"},
		{"alive and slow", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			hold, release := holdUntilReleased(t)
			slow := startLegacyRoute(t, hold)
			t.Cleanup(release) // before the route closes, which waits for its calls
			aStore := redisStoreOn(t, srv)
			a := newReplicaComparing(t, slow.srv.URL, 0)
			setCompareLease(t, a.proc, lease)
			ga := startGateway(t, testConfig(), aStore, false, WithProcessor(a.proc), WithJournal(a.j))
			taken, queued := newReq(newID(t, 1040)), newReq(newID(t, 1041))
			send := func(r ebReq) {
				t.Helper()
				if code, body := sendEb(t, ga.base, r); code != http.StatusAccepted {
					t.Fatalf("ebXML POST = %d\n%s", code, body)
				}
			}
			send(taken)
			waitFor(t, "the first run in the first replica's hand", func() bool { return slow.calls.Load() == 1 })
			send(queued)
			var bStore store.Store = redisStoreOn(t, srv)
			waitFor(t, "both messages answered and done", func() bool {
				n, err := bStore.QueueLen(t.Context(), inboxQueue)
				return err == nil && n == 0 && a.fhir.callsFor(queued.messageID) == 1
			})
			if tc.killed {
				_ = aStore.Close() // killed: nothing of it reaches Redis any more
			}

			b := newReplicaComparing(t, startLegacyRoute(t, nil).srv.URL, 0)
			setCompareLease(t, b.proc, lease)
			startGateway(t, testConfig(), bStore, false, WithProcessor(b.proc), WithJournal(b.j))
			if !tc.killed {
				time.Sleep(6 * lease) // past the lease several times over: the first replica is slow, not gone
				release()
				for _, r := range []ebReq{taken, queued} {
					if c := waitComparison(t, a.j, r.messageID); c.Result == compareSkipped || c.Result == compareError {
						t.Errorf("the first replica's comparison of %s: %s %q, want the run made and compared", r.messageID, c.Result, c.Error)
					}
				}
				time.Sleep(4 * lease)
				for _, r := range []ebReq{taken, queued} {
					if x, _ := b.j.Backend().Get(t.Context(), r.messageID); x != nil && x.Comparison != nil {
						t.Errorf("the surviving replica journalled %s %s (%q) of a run the first replica, alive, made", r.messageID, x.Comparison.Result, x.Comparison.Error)
					}
				}
				if n := compareCount(t, b.m, prescribe, compareSkipped); n != 0 {
					t.Errorf("porxgate_compare_total{result=skipped} = %v on the surviving replica, want 0", n)
				}
				return
			}
			start := time.Now()
			for r, want := range map[string]string{taken.messageID: tc.wantTaken, queued.messageID: tc.wantQueued} {
				if c := waitComparison(t, b.j, r); c.Result != compareSkipped || !strings.Contains(c.Error, want) {
					t.Errorf("the surviving replica's comparison of %s: %s %q, want skipped, %q", r, c.Result, c.Error, want)
				}
			}
			t.Logf("the killed replica's runs journalled as skipped %v after the surviving replica started", time.Since(start).Round(time.Millisecond))
			if n := compareCount(t, b.m, prescribe, compareSkipped); n != 2 {
				t.Errorf("porxgate_compare_total{result=skipped} = %v on the surviving replica, want 2", n)
			}
			time.Sleep(4 * lease) // a second sweep finds nothing more
			if n := compareCount(t, b.m, prescribe, compareSkipped); n != 2 {
				t.Errorf("porxgate_compare_total{result=skipped} = %v after more sweeps, want 2 (each run once)", n)
			}
		})
	}
}

// setCompareLease sets how long comparison mode under proc holds the
// shadow runs it queued in the store before another gateway process may
// take them as lost (comparing.lease).
func setCompareLease(t *testing.T, proc Processor, d time.Duration) {
	t.Helper()
	comparingOf(proc).lease = d
}
