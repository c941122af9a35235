package gateway

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// recordingQueue keeps what a cancellation service queues.
type recordingQueue struct {
	mu    sync.Mutex
	items []store.Item
}

func (q *recordingQueue) Enqueue(_ context.Context, items ...store.Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, items...)
	return nil
}

// ids returns the distinct ids of the queued items.
func (q *recordingQueue) ids() map[string]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]bool{}
	for _, it := range q.items {
		out[it.ID] = true
	}
	return out
}

// TestCancelReplayAfterAnswerTracksNothing: a cancel request answered
// pending is tracked, its cancellation settles (the dispenser returns the
// prescription through porxgate) and the prescriber's Subsequent Cancel
// Response is queued. The cancel request is then processed again, as at
// least once processing does after a crash before its own answer was
// queued: the replay is answered from the recorded EPS answer (pending),
// and must not start tracking the cancellation anew — a new record would
// be polled, found settled, and answered a second time under a new
// MessageId that the prescriber cannot drop as a duplicate.
func TestCancelReplayAfterAnswerTracksNothing(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	opts := cancelTestOptions(20*time.Millisecond, 2*time.Second)
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: client, Config: opts, Log: quietLog()})
	q := &recordingQueue{}
	c.Attach(cancels.Outbox{Queue: q}, nil)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour).WithCancellations(c)
	ctx := context.Background()

	payload, _ := legacyPrescription(t, rxFixture)
	rx := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "E0000000-0000-4000-8000-000000000001",
		FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, ConversationID: "E0000000-0000-4000-8000-0000000000C1", Payload: payload}
	if tc := processedAck(t, p, rx); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	if _, err := s.State().Release(sim.ReleaseRequest{Owner: rxPharmacy, ShortFormID: rxID}, time.Now()); err != nil {
		t.Fatalf("release: %v", err)
	}
	cancelIn := &Inbound{Transport: TransportEbXML, Interaction: v3.CancelRequest, MessageID: "E0000000-0000-4000-8000-000000000002",
		FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, ConversationID: "E0000000-0000-4000-8000-0000000000C2",
		Payload: legacyCancel(t, rxFixture)}
	if _, err := p.Process(ctx, cancelIn); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := trackedRecord(t, c.Tracker()); err != nil {
		t.Fatalf("cancellation not tracked: %v", err)
	}
	ret := &Inbound{Transport: TransportEbXML, Interaction: v3.DispenseProposalReturn, MessageID: "E0000000-0000-4000-8000-000000000003",
		FromParty: dispenserParty, ToParty: spineParty, CPAID: dispenserCPA, ConversationID: "E0000000-0000-4000-8000-0000000000C3",
		Payload: legacyReturn(t, rxID)}
	if tc := processedAck(t, p, ret); tc != "AA" {
		t.Fatalf("return answered %s", tc)
	}
	if n := len(q.ids()); n != 1 {
		t.Fatalf("%d Subsequent Cancel Responses queued after the return, want 1", n)
	}
	if _, err := trackedRecord(t, c.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Fatalf("cancellation still tracked after its answer (err %v)", err)
	}

	// The cancel request is processed again.
	if _, err := p.Process(ctx, cancelIn); err != nil {
		t.Fatalf("cancel replay: %v", err)
	}
	if r, err := trackedRecord(t, c.Tracker()); err == nil {
		t.Errorf("the replay tracked the answered cancellation again (state %s, response id %s)", r.State, r.ResponseID)
	}
	pctx, stop := context.WithTimeout(ctx, 400*time.Millisecond)
	defer stop()
	c.Run(pctx) // polls whatever is tracked
	if n := len(q.ids()); n != 1 {
		t.Fatalf("the prescriber gets %d Subsequent Cancel Responses with distinct MessageIds, want exactly 1", n)
	}
}

// TestCancelResentTrackedOnce: the prescriber sends the same cancel
// request again under a new MessageId (it heard nothing back). Both are
// answered pending; the cancellation is tracked once, and when the
// dispenser returns the prescription the prescriber gets exactly one
// Subsequent Cancel Response, in the first request's conversation.
func TestCancelResentTrackedOnce(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	g, c := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil)
	first := f.prescribeReleaseCancel(t, g)
	f.send(t, g, 4, senderParty, senderCPA, v3.CancelRequest, legacyCancel(t, rxFixture))
	waitFor(t, "the second Cancel Response", func() bool { return len(byAction(f.prescriber, v3.CancelResponse)) == 2 })
	if code := cancelCodeOf(t, byAction(f.prescriber, v3.CancelResponse)[1].msg.Payload.Body); code != "0002" {
		t.Errorf("second Cancel Response code %s, want 0002", code)
	}
	recs, err := c.Tracker().List(context.Background(), 0)
	if err != nil || len(recs) != 1 || recs[0].MessageID != first.messageID {
		t.Fatalf("tracked %d records (%v), want the first request's only", len(recs), err)
	}
	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseProposalReturn, legacyReturn(t, rxID))
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	checkSubsequent(t, f, first, "0001")
}

// TestCancelReturnedWhilePolled: replica A leases the pending cancellation
// and its EPS tracker query hangs; meanwhile the dispenser returns the
// prescription through replica B (same Redis). B resolves it (taking A's
// lease over) and answers; A's poll then gives up and its reschedule finds
// the lease lost. The prescriber gets exactly one Subsequent Cancel
// Response (0001) and nothing stays tracked.
func TestCancelReturnedWhilePolled(t *testing.T) {
	st, newStore := redisStore(t)
	f := newFlow(t)
	hold := &holdingTracker{polling: make(chan string, 1)}
	a, _ := startFlowGateway(t, f, st, cancelTestOptions(40*time.Millisecond, 600*time.Millisecond), hold)
	cancel := f.prescribeReleaseCancel(t, a)
	select {
	case <-hold.polling:
	case <-time.After(10 * time.Second):
		t.Fatal("A never polled")
	}
	b, cb := startFlowGateway(t, f, newStore(), cancelTestOptions(time.Hour, 600*time.Millisecond), nil)
	f.send(t, b, 3, dispenserParty, dispenserCPA, v3.DispenseProposalReturn, legacyReturn(t, rxID))
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(time.Second) // A's hanging poll (Lease/2) ends, and its lease would have run out
	checkSubsequent(t, f, cancel, "0001")
	if _, err := trackedRecord(t, cb.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("record still tracked after the answer (err %v)", err)
	}
}

// TestCancelSettledByReturnWhoseAnswerWasLost: the dispenser's return of a
// prescription with a pending cancellation reaches EPS (the item is
// cancelled, the prescription Cancelled) but the gateway dies before
// recording EPS's answer. Processed again, the return is refused by EPS
// (nothing to return); porxgate confirms it through the tracker and
// answers AA — no false rejection — and the prescriber still gets exactly
// one Subsequent Cancel Response, 0001.
func TestCancelSettledByReturnWhoseAnswerWasLost(t *testing.T) {
	p, lossy, c, q := cancelPendingAtDispenser(t, "E1000000")
	ctx := context.Background()
	ret := &Inbound{Transport: TransportEbXML, Interaction: v3.DispenseProposalReturn, MessageID: "E1000000-0000-4000-8000-000000000003",
		FromParty: dispenserParty, ToParty: spineParty, CPAID: dispenserCPA, Payload: legacyReturn(t, rxID)}
	if _, err := lossy.Process(ctx, ret); err == nil || !IsDeferred(err) {
		t.Fatalf("return whose answer could not be recorded = %v, want deferred", err)
	}
	if tc := processedAck(t, p, ret); tc != "AA" {
		t.Fatalf("the return processed again answered %s, want AA (EPS applied it the first time)", tc)
	}
	if n := len(q.ids()); n != 1 {
		t.Fatalf("%d Subsequent Cancel Responses queued, want 1", n)
	}
	if _, err := trackedRecord(t, c.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("cancellation still tracked (err %v)", err)
	}
	again := *ret
	again.MessageID = "E1000000-0000-4000-8000-000000000004"
	if tc := processedAck(t, p, &again); tc == "AA" {
		t.Error("a new return of the cancelled prescription was accepted; EPS refuses it")
	}
}

// TestCancelSettledByNotificationWhoseAnswerWasLost: the dispenser's
// dispense notification (item not dispensed) settles a pending
// cancellation on EPS, but the gateway dies before recording EPS's answer.
// Processed again, EPS refuses it (the item already has that status);
// porxgate confirms it through the tracker and answers AA, and the
// prescriber gets exactly one Subsequent Cancel Response, 0010.
func TestCancelSettledByNotificationWhoseAnswerWasLost(t *testing.T) {
	p, lossy, c, q := cancelPendingAtDispenser(t, "E2000000")
	ctx := context.Background()
	dn := &Inbound{Transport: TransportEbXML, Interaction: v3.DispenseNotification, MessageID: "E2000000-0000-4000-8000-000000000003",
		FromParty: dispenserParty, ToParty: spineParty, CPAID: dispenserCPA, Payload: legacyNotDispensed(t)}
	if _, err := lossy.Process(ctx, dn); err == nil || !IsDeferred(err) {
		t.Fatalf("notification whose answer could not be recorded = %v, want deferred", err)
	}
	if n := len(q.ids()); n != 0 {
		t.Fatalf("%d Subsequent Cancel Responses queued before EPS's answer was recorded", n)
	}
	if tc := processedAck(t, p, dn); tc != "AA" {
		t.Fatalf("the notification processed again answered %s, want AA (EPS applied it the first time)", tc)
	}
	if n := len(q.ids()); n != 1 {
		t.Fatalf("%d Subsequent Cancel Responses queued, want 1", n)
	}
	if _, err := trackedRecord(t, c.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("cancellation still tracked (err %v)", err)
	}
}

// cancelPendingAtDispenser prepares a cancellation left pending because the
// prescription is with a dispenser, on the simulator and a real Redis: a
// prescription sent and released to rxPharmacy, then a cancel request (ids
// prefix-…0001, …0002, conversation …00C2). It returns the processor, one
// whose second outcome record fails (a gateway dying before it records
// EPS's answer), the cancellation service and the queue of Subsequent
// Cancel Responses.
func cancelPendingAtDispenser(t *testing.T, prefix string) (p, lossy *EPSProcessor, c *cancels.Service, q *recordingQueue) {
	t.Helper()
	s, client := startSim(t)
	st, _ := redisStore(t)
	opts := cancelTestOptions(time.Hour, 2*time.Second)
	c = cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: client, Config: opts, Log: quietLog()})
	q = &recordingQueue{}
	c.Attach(cancels.Outbox{Queue: q}, nil)
	p = NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour).WithCancellations(c)
	lossy = NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(&failSecondPut{OutcomeLog: st}, time.Hour).WithCancellations(c)
	payload, _ := legacyPrescription(t, rxFixture)
	if tc := processedAck(t, p, &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: prefix + "-0000-4000-8000-000000000001",
		FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, Payload: payload}); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	if _, err := s.State().Release(sim.ReleaseRequest{Owner: rxPharmacy, ShortFormID: rxID}, time.Now()); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := p.Process(context.Background(), &Inbound{Transport: TransportEbXML, Interaction: v3.CancelRequest, MessageID: prefix + "-0000-4000-8000-000000000002",
		FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, ConversationID: prefix + "-0000-4000-8000-0000000000C2",
		Payload: legacyCancel(t, rxFixture)}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	return p, lossy, c, q
}
