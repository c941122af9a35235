package gateway

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// claimCounter counts the inbox items a store's Claim hands out.
type claimCounter struct {
	store.Store
	inboxClaims atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, queue string, now time.Time, lease time.Duration) (*store.Lease, error) {
	l, err := c.Store.Claim(ctx, queue, now, lease)
	if l != nil && queue == inboxQueue {
		c.inboxClaims.Add(1)
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
// claimed from the store, once; and that while every worker is busy the
// next message goes through the inbox as before and is processed once too.
func TestInboxHandoff(t *testing.T) {
	rs, _ := redisStore(t)
	for name, st := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			counted := &claimCounter{Store: st}
			cfg := testConfig()
			cfg.InboxWorkers = 1
			release := make(chan struct{})
			proc := newFakeProcessor()
			first := newID(t, 1)
			proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
				if in.MessageID == first {
					<-release // the only worker stays busy with the first message
				}
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
			}
			g := startGateway(t, cfg, counted, false, WithProcessor(proc))
			waitIdleInbox(t, g, 1)

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
			close(release)
			waitFor(t, "the second message", func() bool { return proc.callsFor(second) == 1 })
			if n := counted.inboxClaims.Load(); n != 1 {
				t.Errorf("%d inbox claims, want 1 (the second message, queued while the worker was busy)", n)
			}
			time.Sleep(50 * time.Millisecond)
			if a, b := proc.callsFor(first), proc.callsFor(second); a != 1 || b != 1 {
				t.Errorf("processed %d and %d times, want once each", a, b)
			}
			if n, err := st.QueueLen(context.Background(), inboxQueue); err != nil || n != 0 {
				t.Errorf("inbox length %d, %v; want empty", n, err)
			}
		})
	}
}
