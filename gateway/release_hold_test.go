package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// pausingRelease is the simulator's client whose next release can fail
// before it reaches EPS (failNext), or wait, once EPS has answered it,
// until resumed (pauseNext): the window between EPS's answer and the
// index update.
type pausingRelease struct {
	*upstream.Client
	failNext, pauseNext atomic.Bool
	released, resume    chan struct{}
}

func (a *pausingRelease) Release(ctx context.Context, body []byte) (*upstream.Response, error) {
	if a.failNext.CompareAndSwap(true, false) {
		return nil, errors.New("connection reset by peer")
	}
	resp, err := a.Client.Release(ctx, body)
	if a.pauseNext.CompareAndSwap(true, false) {
		close(a.released)
		<-a.resume
	}
	return resp, err
}

// holdSpy is the Redis store telling when a release hold is refused (a
// release waits for another of its dispenser).
type holdSpy struct {
	*store.Redis
	busy chan struct{}
}

func (h *holdSpy) HoldKey(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	ok, err := h.Redis.HoldKey(ctx, key, token, ttl)
	if err == nil && !ok {
		select {
		case h.busy <- struct{}{}:
		default:
		}
	}
	return ok, err
}

// TestConcurrentRecoveryDeliversOnce: a pharmacy's nominated release (B)
// loses its answer; while it is processed again, another nominated release
// of the pharmacy (A) has been answered by EPS with the prescription and
// has not yet taken it off the index. B's recovery then found it indexed
// and with the pharmacy since B's first attempt, released it again and
// delivered it: the pharmacy got it in both answers. Now B waits for A
// (the interleaving is forced: A is held between EPS's answer and its
// index update until B is seen waiting, or has finished).
func TestConcurrentRecoveryDeliversOnce(t *testing.T) {
	_, client := startSim(t)
	st, _ := redisStore(t)
	spy := &holdSpy{Redis: st.(*store.Redis), busy: make(chan struct{}, 1)}
	api := &pausingRelease{Client: client, released: make(chan struct{}), resume: make(chan struct{})}
	p := NewEPSProcessor(mapping.NewRegistry(), api, nil, nil, quietLog()).WithOutcomeLog(spy, time.Hour)
	submitNominated(t, p, "F5000000-0000-4000-8000-000000000001")
	request := nominatedReleaseFCG71(t)
	ctx := context.Background()

	b := replayIn(v3.NominatedReleaseRequest, request)
	api.failNext.Store(true)
	if _, err := p.Process(ctx, b); err == nil || !IsDeferred(err) {
		t.Fatalf("release B whose answer was lost = %v, want deferred", err)
	}

	var wg sync.WaitGroup
	var outA, outB *Outcome
	var errA, errB error
	api.pauseNext.Store(true)
	wg.Add(1)
	go func() {
		defer wg.Done()
		outA, errA = p.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
	}()
	<-api.released
	bDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(bDone)
		outB, errB = p.Process(ctx, b)
	}()
	select {
	case <-bDone: // B recovered while A was between EPS's answer and the index
	case <-spy.busy: // B waits for A
	}
	close(api.resume)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("release A: %v; release B: %v", errA, errB)
	}
	delivered := 0
	for _, out := range []*Outcome{outA, outB} {
		for _, a := range out.Answers {
			delivered += strings.Count(string(a.Payload), rxID)
		}
	}
	if delivered == 0 {
		t.Fatalf("%s delivered in neither release: stranded", rxID)
	}
	if a, b := strings.Contains(string(outA.Answers[0].Payload), rxID), strings.Contains(string(outB.Answers[0].Payload), rxID); a && b {
		t.Fatalf("%s delivered by both releases of the pharmacy", rxID)
	}
}
