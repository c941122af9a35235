package gateway

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// claimCounter counts the inbox and outbox items a store's Claim hands
// out.
type claimCounter struct {
	store.Store
	inboxClaims, outboxClaims atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, queue string, now time.Time, lease time.Duration) (*store.Lease, error) {
	l, err := c.Store.Claim(ctx, queue, now, lease)
	switch {
	case l == nil:
	case queue == inboxQueue:
		c.inboxClaims.Add(1)
	case queue == outbox.Queue:
		c.outboxClaims.Add(1)
	}
	return l, err
}

// waitIdleInbox waits until n inbox workers of g are idle.
func waitIdleInbox(t *testing.T, g *gw, n int) {
	t.Helper()
	waitFor(t, "idle inbox workers", func() bool { return g.srv.msg.inboxHandoff.Idle() >= n })
}

// TestInboxHandoff checks, on Redis and in memory, that a message accepted
// while an inbox worker is idle is processed by that worker without being
// claimed from the store, once, and its answer delivered by an idle
// delivery worker without being claimed either; and that while every inbox
// worker is busy the next message goes through the inbox as before and is
// processed once too.
func TestInboxHandoff(t *testing.T) {
	rs, _ := redisStore(t)
	for name, st := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			counted := &claimCounter{Store: st}
			cfg := testConfig()
			cfg.InboxWorkers = 1
			// No polling: a poll in flight is a worker not idle, and the
			// first message would then go through the store (a claim)
			// instead of to the worker — on a loaded machine often
			// enough to fail the count below.
			cfg.PollInterval = time.Hour
			release := make(chan struct{})
			var releaseOnce sync.Once
			free := func() { releaseOnce.Do(func() { close(release) }) }
			proc := newFakeProcessor()
			first := newID(t, 1)
			proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
				if in.MessageID == first {
					<-release // the only worker stays busy with the first message
				}
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
			}
			mhs := startMHS(t, "ack")
			g := startGateway(t, cfg, counted, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			// After startGateway's, so it runs before the gateway's stop: a
			// failure before the release must not leave the worker, and so
			// the stop, waiting for ever.
			t.Cleanup(free)
			waitIdleInbox(t, g, 1)
			waitFor(t, "idle delivery workers", func() bool { return g.srv.msg.delivery.Handoff().Idle() == cfg.DeliveryWorkers })

			if code, body := sendEb(t, g.base, newReq(first)); code != http.StatusAccepted {
				t.Fatalf("status %d\n%s", code, body)
			}
			waitFor(t, "the first message in hand", func() bool { return proc.callsFor(first) == 1 })
			if n := counted.inboxClaims.Load(); n != 0 {
				t.Fatalf("%d inbox claims for a message handed to an idle worker, want 0", n)
			}

			second := newID(t, 2)
			if code, body := sendEb(t, g.base, newReq(second)); code != http.StatusAccepted {
				t.Fatalf("status %d\n%s", code, body)
			}
			time.Sleep(50 * time.Millisecond) // two polls: nobody is free to take it
			if proc.callsFor(second) != 0 {
				t.Fatal("the second message was processed while the only worker was busy")
			}
			free()
			waitFor(t, "the second message", func() bool { return proc.callsFor(second) == 1 })
			if n := counted.inboxClaims.Load(); n != 1 {
				t.Errorf("%d inbox claims, want 1 (the second message, queued while the worker was busy)", n)
			}
			waitFor(t, "both answers delivered", func() bool { return len(mhs.messages()) == 2 })
			if n := counted.outboxClaims.Load(); n != 0 {
				t.Errorf("%d outbox claims, want 0 (each answer handed to an idle delivery worker)", n)
			}
			for _, q := range []string{inboxQueue, outbox.Queue} {
				waitFor(t, q+" empty", func() bool { n, err := st.QueueLen(context.Background(), q); return err == nil && n == 0 })
			}
			time.Sleep(50 * time.Millisecond)
			if a, b := proc.callsFor(first), proc.callsFor(second); a != 1 || b != 1 {
				t.Errorf("processed %d and %d times, want once each", a, b)
			}
			if n := len(mhs.messages()); n != 2 {
				t.Errorf("%d answers delivered, want 2", n)
			}
		})
	}
}

// TestDeliveryHandoffAnswerIDTaken checks that a processed message whose
// answer id is in the outbox already (queued already claimed, the claim
// cannot be made) is still completed: its answer is queued as usual, and
// the message is not processed again.
func TestDeliveryHandoffAnswerIDTaken(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	const answerID = "AAAAAAAA-0000-4000-8000-000000000001"
	if err := st.Enqueue(ctx, store.Item{Queue: outbox.Queue, ID: answerID, Data: []byte("{}"), Due: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithIDs(func() string { return answerID }))
	waitFor(t, "idle delivery workers", func() bool { return g.srv.msg.delivery.Handoff().Idle() > 0 })
	id := newID(t, 1)
	if code, body := sendEb(t, g.base, newReq(id)); code != http.StatusAccepted {
		t.Fatalf("status %d\n%s", code, body)
	}
	waitFor(t, "the message completed", func() bool { n, err := st.QueueLen(ctx, inboxQueue); return err == nil && n == 0 })
	time.Sleep(100 * time.Millisecond) // a lease of 2 s: a failed Complete would show as a second call later
	if n := proc.callsFor(id); n != 1 {
		t.Errorf("processed %d times, want once", n)
	}
}

// TestInboxHandoffDecodedIsNotDecodedAgain: a message the door queues
// already claimed for an idle inbox worker is handed to it with the entry
// it was queued from, which the worker processes without decoding the
// item again; handed without it, the item is decoded as a claimed one
// is. The item here is not readable, so that a decode shows: with the
// entry the message is processed and answered, without it dead-lettered
// as unreadable.
func TestInboxHandoffDecodedIsNotDecodedAgain(t *testing.T) {
	tests := []struct {
		name      string
		decoded   bool
		processed bool
	}{
		{"handed with its entry", true, true},
		{"handed without", false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.NewMemory(nil)
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), st, true, WithProcessor(proc))
			now := time.Now()
			id := newID(t, 10+i)
			e := inboxEntry{Inbound: Inbound{Transport: TransportEbXML, Interaction: prescribe, MessageID: id,
				FromParty: "A83008-807354", ToParty: "YES-0000806", CPAID: "S20001A000100", ConversationID: id, ReceivedAt: now, Payload: []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`)}}
			it, err := e.item(now)
			if err != nil {
				t.Fatal(err)
			}
			it.Data, it.Token, it.Due = []byte("not an inbox entry"), "held", now.Add(time.Minute)
			if _, err := st.Accept(ctx, "test:"+id, time.Hour, it); err != nil {
				t.Fatal(err)
			}
			var decoded any
			if tt.decoded {
				decoded = e
			}
			g.srv.msg.processHanded(ctx, it.HeldLease(), decoded)
			dead, err := st.DeadLetters(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			answers, err := st.QueueLen(ctx, outbox.Queue)
			if err != nil {
				t.Fatal(err)
			}
			processed := proc.callsFor(id) == 1 && answers == 1
			if processed != tt.processed || (len(dead) == 0) != tt.processed {
				t.Fatalf("processed %d times, %d answers queued, %d dead letters; want processed %v", proc.callsFor(id), answers, len(dead), tt.processed)
			}
		})
	}
}
