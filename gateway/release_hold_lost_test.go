package gateway

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// gatedRecovery is the simulator's client of a replica whose release
// recovery the test steers: its next release can fail before it reaches
// EPS (failNext) or lose EPS's answer (loseNext); once gateNext is set,
// its next release waits, once EPS has answered, until the test says so
// (released, then proceed); its first tracker question waits, before it
// is sent, until the test says so (asked, then answer). It counts the
// releases that reach EPS.
type gatedRecovery struct {
	*upstream.Client
	failNext, loseNext, gateNext atomic.Bool
	tracked, releases            atomic.Int32
	released, proceed            chan struct{}
	asked, answer                chan struct{}
}

func newGatedRecovery(c *upstream.Client) *gatedRecovery {
	return &gatedRecovery{Client: c, released: make(chan struct{}), proceed: make(chan struct{}),
		asked: make(chan struct{}), answer: make(chan struct{})}
}

func (g *gatedRecovery) Release(ctx context.Context, body []byte) (*upstream.Response, error) {
	if g.failNext.CompareAndSwap(true, false) {
		return nil, errors.New("connection reset by peer")
	}
	g.releases.Add(1)
	resp, err := g.Client.Release(ctx, body)
	if g.loseNext.CompareAndSwap(true, false) {
		return nil, errors.New("connection reset by peer (EPS's answer lost)")
	}
	if g.gateNext.CompareAndSwap(true, false) {
		close(g.released)
		<-g.proceed
	}
	return resp, err
}

func (g *gatedRecovery) TrackerGet(ctx context.Context, q url.Values) (*upstream.Response, error) {
	if g.tracked.Add(1) == 1 {
		close(g.asked)
		<-g.answer
	}
	return g.Client.TrackerGet(ctx, q)
}

// cutOffReplicas starts a redis-server and returns the stores of two
// replicas on it: A's through a proxy (link) that can cut it off from
// Redis, B's direct.
func cutOffReplicas(t *testing.T) (link *redistest.Proxy, stA, stB *store.Redis) {
	t.Helper()
	srv := redistest.Start(t)
	link = redistest.StartProxy(t, srv)
	stA, err := store.NewRedis(link.URL(), "gw:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stA.Close() })
	return link, stA, redisStoreOn(t, srv)
}

// holdingProcessors returns the EPS processors of replicas A and B, each
// calling EPS through its api and recording in its store, their release
// holds lasting ttl unrenewed.
func holdingProcessors(apiA, apiB EPSAPI, stA, stB OutcomeLog, ttl time.Duration) (pA, pB *EPSProcessor) {
	pA = NewEPSProcessor(mapping.NewRegistry(), apiA, nil, nil, quietLog()).WithOutcomeLog(stA, time.Hour)
	pB = NewEPSProcessor(mapping.NewRegistry(), apiB, nil, nil, quietLog()).WithOutcomeLog(stB, time.Hour)
	pA.holdTTL, pB.holdTTL = ttl, ttl
	return pA, pB
}

// TestReleaseHoldLostStopsRecovery: two replicas on one redis-server. A
// nominated release on replica A, processed again after an attempt whose
// answer is unknown, recovers the pharmacy's nominations while it holds
// the pharmacy; replica A then loses Redis (its connections cut) for
// longer than the hold lasts, while its recovery asks the tracker about
// the prescription.
//
//   - elsewhere: the hold has run out, so a nominated release of the same
//     pharmacy on replica B takes it, is answered by EPS with the
//     prescription and delivers it. Replica A's recovery used to go on —
//     its hold's renewal only logged a warning — release the prescription
//     again and deliver it too: the pharmacy got it twice.
//   - lost answer: EPS had released the prescription in A's lost answer,
//     and no other release runs. A's recovery, its hold lost, does not
//     release it again; it must stay owed, so that the pharmacy's next
//     release delivers it, not stranded.
//
// Now a recovery whose hold is lost asks EPS nothing more, delivers
// nothing it recovered, and, once it has the hold again, owes the
// pharmacy what is still nominated: in both, the prescription goes out
// once (counted over A's, B's and a later release's answers) and is not
// owed afterwards.
func TestReleaseHoldLostStopsRecovery(t *testing.T) {
	for _, tc := range []struct {
		name string
		// elsewhere: another replica's release delivers the prescription
		// while A's hold is lost; otherwise A's first attempt released it.
		elsewhere bool
	}{
		{name: "delivered elsewhere meanwhile", elsewhere: true},
		{name: "released in the lost answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link, stA, stB := cutOffReplicas(t)
			_, client := startSim(t)
			const ttl = 2 * time.Second
			apiA := newGatedRecovery(client)
			pA, pB := holdingProcessors(apiA, client, stA, stB, ttl)
			request := nominatedReleaseFCG71(t)
			ctx := context.Background()

			a := replayIn(v3.NominatedReleaseRequest, request)
			if tc.elsewhere {
				apiA.failNext.Store(true)
			} else {
				submitNominated(t, pB, "F5000000-0000-4000-8000-000000000002")
				apiA.loseNext.Store(true)
			}
			if _, err := pA.Process(ctx, a); err == nil || !IsDeferred(err) {
				t.Fatalf("release A whose answer was lost = %v, want deferred", err)
			}
			type result struct {
				out *Outcome
				err error
			}
			doneA := make(chan result, 1)
			apiA.gateNext.Store(true)
			go func() {
				out, err := pA.Process(ctx, a) // again: recovers the pharmacy's nominations
				doneA <- result{out, err}
			}()
			<-apiA.released // EPS released nothing (more) to A
			if tc.elsewhere {
				submitNominated(t, pB, "F5000000-0000-4000-8000-000000000002")
			}
			close(apiA.proceed)
			<-apiA.asked // A's recovery, holding the pharmacy, is about to ask the tracker about it

			link.Cut()
			time.Sleep(ttl + ttl/2) // A's hold runs out
			var answers []*Outcome
			if tc.elsewhere {
				outB, err := pB.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
				if err != nil {
					t.Fatalf("release B: %v", err)
				}
				answers = append(answers, outB)
			}
			link.Mend()
			close(apiA.answer)
			select {
			case ra := <-doneA:
				if ra.err != nil {
					t.Fatalf("release A: %v", ra.err)
				}
				answers = append(answers, ra.out)
			case <-time.After(time.Minute):
				t.Fatal("release A never finished")
			}
			later, err := pB.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
			if err != nil {
				t.Fatalf("the pharmacy's next release: %v", err)
			}
			answers = append(answers, later)
			delivered := 0
			for _, out := range answers {
				if strings.Contains(string(out.Answers[0].Payload), rxID) {
					delivered++
				}
			}
			if delivered != 1 {
				t.Fatalf("%s delivered in %d release responses, want 1", rxID, delivered)
			}
			owed, err := stB.SetMembers(ctx, owedSet("FCG71"))
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(owed, func(m string) bool { return strings.HasPrefix(m, rxID+"@") }) {
				t.Fatalf("%s delivered, yet still owed to the pharmacy (%v)", rxID, owed)
			}
		})
	}
}

// TestReleaseTakenOverAnswersAsTheFirst: one nominated release processed
// by two replicas at once, as when the worker that claimed it stalls past
// its inbox lease and another takes the message over (the store lets only
// the second complete it). The first is answered by EPS with the
// prescription; the second, having seen only the first's attempt
// recorded, waits for the pharmacy's release hold meanwhile; the first
// records EPS's answer, takes the prescription off the nominations, and
// gives the hold up. The second then asked EPS again — which releases
// nothing a second time — and recovered nothing (the prescription was off
// the nominations): its answer, the one the dispenser gets, said no more
// prescriptions, and the prescription was stranded with the pharmacy. Now
// a release that waited for the hold reads the record again and answers
// as the first did, without asking EPS.
func TestReleaseTakenOverAnswersAsTheFirst(t *testing.T) {
	st, newStore := redisStore(t)
	spy := &holdSpy{Redis: newStore().(*store.Redis), busy: make(chan struct{}, 1)}
	_, client := startSim(t)
	apiA, apiB := newGatedRecovery(client), newGatedRecovery(client)
	pA := NewEPSProcessor(mapping.NewRegistry(), apiA, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	pB := NewEPSProcessor(mapping.NewRegistry(), apiB, nil, nil, quietLog()).WithOutcomeLog(spy, time.Hour)
	submitNominated(t, pA, "F5000000-0000-4000-8000-000000000003")
	in := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	ctx := context.Background()

	type result struct {
		out *Outcome
		err error
	}
	doneA, doneB := make(chan result, 1), make(chan result, 1)
	apiA.gateNext.Store(true)
	go func() {
		out, err := pA.Process(ctx, in)
		doneA <- result{out, err}
	}()
	<-apiA.released // EPS answered the first with the prescription
	takeover := *in
	go func() {
		out, err := pB.Process(ctx, &takeover)
		doneB <- result{out, err}
	}()
	select {
	case <-spy.busy: // the second waits for the hold
	case rb := <-doneB:
		t.Fatalf("the second processing did not wait for the first's hold: %+v", rb)
	}
	close(apiA.proceed)
	ra, rb := <-doneA, <-doneB
	if ra.err != nil || rb.err != nil {
		t.Fatalf("first: %v; second: %v", ra.err, rb.err)
	}
	if !strings.Contains(string(ra.out.Answers[0].Payload), rxID) {
		t.Fatalf("the first processing's answer lacks %s, which EPS released to it", rxID)
	}
	if !strings.Contains(string(rb.out.Answers[0].Payload), rxID) {
		t.Errorf("the second processing's answer (the one the dispenser gets) lacks %s: stranded with the pharmacy", rxID)
	}
	if n := apiB.releases.Load(); n != 0 {
		t.Errorf("the second processing asked EPS %d times, want 0 (EPS's answer was recorded)", n)
	}
}
