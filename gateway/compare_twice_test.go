package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/store"
)

// failFirstComplete is a store whose first Complete of a processed
// message's answers fails, as when the store is unreachable for a moment:
// the message is processed again once its lease runs out.
type failFirstComplete struct {
	store.Store
	failed atomic.Bool
}

func (s *failFirstComplete) Complete(ctx context.Context, l *store.Lease, f store.Finish) error {
	if l.Queue == inboxQueue && len(f.Enqueue) > 0 && s.failed.CompareAndSwap(false, true) {
		return errors.New("store unreachable for a moment")
	}
	return s.Store.Complete(ctx, l, f)
}

// TestShadowRunsOnceForAMessageProcessedTwice: a message whose answers
// could not be stored after it was processed is processed again once its
// lease runs out (the FHIR path answers it as the first time). Its shadow
// run was queued each time: the legacy route (another environment) got the
// message twice and porxgate_compare_total counted the comparison twice.
// The shadow path now runs once for it.
func TestShadowRunsOnceForAMessageProcessedTwice(t *testing.T) {
	legacy, fhir, m, proc := fhirPrimaryShadowingLegacy(t)
	cfg := testConfig()
	cfg.Lease = 300 * time.Millisecond
	st := &failFirstComplete{Store: newMemoryStore()}
	g := startGateway(t, cfg, st, false, WithProcessor(proc))
	r := newReq(newID(t, 990))
	if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the message processed again", func() bool { return fhir.callsFor(r.messageID) == 2 })
	waitFor(t, "a comparison", func() bool {
		return compareCount(t, m, prescribe, compareMatch)+compareCount(t, m, prescribe, compareDiffer) >= 1
	})
	time.Sleep(300 * time.Millisecond) // a second shadow run, if queued, done
	if n := legacy.calls.Load(); n != 1 {
		t.Errorf("the legacy route got the message %d times, want 1", n)
	}
	if n := compareCount(t, m, prescribe, compareMatch) + compareCount(t, m, prescribe, compareDiffer); n != 1 {
		t.Errorf("porxgate_compare_total counts %v comparisons of the message, want 1", n)
	}
}

// TestShadowRunsForAMessageResentAfterItsPersistDuration: a MessageId sent
// again after its persist duration is a new message (as at Spine): it is
// processed anew, and its shadow run is made and compared anew, not taken
// for the same message processed again.
func TestShadowRunsForAMessageResentAfterItsPersistDuration(t *testing.T) {
	legacy, fhir, _, proc := fhirPrimaryShadowingLegacy(t)
	cfg := testConfig()
	cfg.PersistDuration = 100 * time.Millisecond
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc))
	r := newReq(newID(t, 991))
	for i := 1; i <= 2; i++ {
		if i == 2 {
			time.Sleep(2 * cfg.PersistDuration)
		}
		if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatalf("ebXML POST %d = %d\n%s", i, code, body)
		}
		waitFor(t, "the message processed", func() bool { return fhir.callsFor(r.messageID) == i })
		waitFor(t, "its shadow run", func() bool { return legacy.calls.Load() == int64(i) })
	}
}

// fhirPrimaryShadowingLegacy starts a legacy route and returns it with a
// fake FHIR path, the metrics and a comparing processor that answers from
// the FHIR path and shadows each message down the route (one worker).
func fhirPrimaryShadowingLegacy(t *testing.T) (*legacyRoute, *fakeProcessor, *Metrics, Processor) {
	t.Helper()
	legacy := startLegacyRoute(t, nil)
	fhir := newFakeProcessor()
	m := NewMetrics()
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, fhir,
		&compare.Legacy{URL: legacy.srv.URL}, nil, m, quietLog())
	return legacy, fhir, m, proc
}
