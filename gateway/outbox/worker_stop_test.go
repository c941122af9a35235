package outbox

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestKeepCutByTheStopIsNotDeadLettered: with no routing table an answer
// is kept for its party (here in a real Redis, as the journal keeps it).
// An answer handed to a delivery worker as its grace at a stop runs out
// cannot be kept (its context is done): it stays in the outbox for the
// next run, never dead-lettered for the stop.
func TestKeepCutByTheStopIsNotDeadLettered(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	st := store.NewMemory(nil)
	const lease = time.Minute
	w := NewWorker(WorkerConfig{Store: st, Workers: 1, Lease: lease, Poll: time.Hour, Grace: 50 * time.Millisecond,
		Keep: func(ctx context.Context, d Delivery) error {
			return rdb.Set(ctx, "kept:"+d.MessageID, d.Body, 0).Err()
		}})
	h, cancel, done := runReserved(t, w)
	defer func() { cancel(); <-done }()

	now := time.Now()
	d, err := NewAnswer(Addressing{OurParty: "YES-0000806", TheirParty: "A83008-807354", CPAID: "S20001A000100",
		ConversationID: "C1", RefToMessageID: "R1"}, "MCCI_IN010000UK13", []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`), "A1", now)
	if err != nil {
		t.Fatal(err)
	}
	it, err := d.Item(now)
	if err != nil {
		t.Fatal(err)
	}
	it.Token, it.Due = "held-by-the-worker", now.Add(lease)
	if _, err := st.Accept(context.Background(), "test:A1", time.Hour, it); err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(300 * time.Millisecond) // the stop's grace (50ms) runs out; the worker still waits for what it was promised
	h.Give(it.HeldLease())
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not stop")
	}

	bg := context.Background()
	dead, err := st.DeadLetters(bg, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 0 {
		t.Fatalf("dead-lettered at the stop: %.300s", dead[0])
	}
	if n, _ := rdb.Exists(bg, "kept:"+d.MessageID).Result(); n == 0 {
		l, err := st.Claim(bg, Queue, time.Now(), lease)
		if err != nil || l == nil || l.ID != it.ID {
			t.Fatalf("neither kept nor left in the outbox: claim %v, %v", l, err)
		}
	}
}
