package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestDuplicateAcceptIsAsDurableAsTheFirst: with WaitReplicas, an Accept
// whose write reached the master but not the replicas fails
// (ErrNotReplicated) and the sender is asked to send again. The message
// sent again is a duplicate of a write that is still not replicated, and
// must fail the same way until it is: the front door acknowledges a
// duplicate, and a failover to a replica without the write would lose a
// message acknowledged. It used to be acknowledged at once when the retry
// came on another connection (another gateway replica, or another
// connection of the pool): the duplicate wrote nothing, and WAIT waits
// only for a connection's own last write.
func TestDuplicateAcceptIsAsDurableAsTheFirst(t *testing.T) {
	master, replicas := redistest.StartReplicated(t, 2)
	open := func() *store.Redis {
		r, err := store.OpenRedis(store.RedisOptions{URL: master.URL(), WaitReplicas: 2, WaitTimeout: 300 * time.Millisecond}, "dur:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	started := time.Now()
	first, second := open(), open() // two gateway replicas
	defer func() { t.Logf("%s from the start of the replicas", time.Since(started).Round(time.Millisecond)) }()
	// The second replica has written before (on a busy machine a replica
	// may take longer than the wait to acknowledge: try again).
	for {
		err := second.Enqueue(ctx, store.Item{Queue: "inbox", ID: "earlier", Data: []byte("x"), Due: time.Now()})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrNotReplicated) || ctx.Err() != nil {
			t.Fatalf("a write while both replicas are up: %v", err)
		}
	}
	replicas[0].Pause(t)
	item := store.Item{Queue: "inbox", ID: "m1", Data: []byte("m1"), Due: time.Now()}
	if _, err := first.Accept(ctx, "m1", time.Hour, item); !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("Accept with a replica frozen = %v, want ErrNotReplicated", err)
	}
	for _, r := range []*store.Redis{second, first} {
		fresh, err := r.Accept(ctx, "m1", time.Hour, item)
		if !errors.Is(err, store.ErrNotReplicated) {
			t.Fatalf("the message sent again while its first write is still not replicated: Accept = %v, %v; want ErrNotReplicated", fresh, err)
		}
	}
	replicas[0].Resume()
	resumed := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fresh, err := second.Accept(ctx, "m1", time.Hour, item)
		if err == nil {
			if fresh {
				t.Fatal("the message sent again counted as new")
			}
			t.Logf("durable %s after the replica's resume", time.Since(resumed).Round(time.Millisecond))
			break
		}
		if !errors.Is(err, store.ErrNotReplicated) || time.Now().After(deadline) {
			t.Fatalf("once the replica is back: Accept = %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRecordsWaitForReplicas: with WaitReplicas, the writes the
// exactly-once rules rest on besides the queue scripts wait for the
// replicas too, and fail (ErrNotReplicated) when they do not confirm in
// time: the record of EPS's answer (PutReply), recorded before it is
// acted on, the SOAP answer kept for duplicates with its mark and the
// removals from what is owed (KeepReply), and what a release owes a
// pharmacy (SetAdd, SetRemove). They used to count as done once the
// master had them, so a failover right after could lose an answer
// recorded and handed out, or give a pharmacy again what it had been
// given.
func TestRecordsWaitForReplicas(t *testing.T) {
	master, replicas := redistest.StartReplicated(t, 1)
	r, err := store.OpenRedis(store.RedisOptions{URL: master.URL(), WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond}, "rec:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// While the replica is up (on a busy machine it may take longer than
	// the wait to acknowledge: try again).
	for {
		err := r.SetAdd(ctx, "owed:ODS1", time.Hour, "p0", "p1", "p2", "p3")
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrNotReplicated) || ctx.Err() != nil {
			t.Fatalf("SetAdd while the replica is up: %v", err)
		}
	}
	writes := []struct {
		name  string
		write func(i int) error
	}{
		{"PutReply", func(i int) error {
			return r.PutReply(ctx, fmt.Sprintf("eps-outcome:%d", i), []byte(`{"status":200}`), time.Hour)
		}},
		{"KeepReply", func(i int) error {
			_, err := r.KeepReply(ctx, fmt.Sprintf("soap:%d", i), []byte("answer"), time.Hour,
				store.SetRemoval{Set: "owed:ODS1", Members: []string{fmt.Sprintf("p%d", i)}})
			return err
		}},
		{"SetAdd", func(i int) error { return r.SetAdd(ctx, "nominated:ODS1", time.Hour, fmt.Sprintf("n%d", i)) }},
		{"SetRemove", func(i int) error { return r.SetRemove(ctx, "owed:ODS1", fmt.Sprintf("p%d", i+2)) }},
	}
	replicas[0].Pause(t)
	for i, w := range writes {
		if err := w.write(i % 2); !errors.Is(err, store.ErrNotReplicated) {
			t.Errorf("%s with the replica frozen = %v, want ErrNotReplicated", w.name, err)
		}
	}
	replicas[0].Resume()
	for i, w := range writes {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := w.write(i%2 + 10)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrNotReplicated) || time.Now().After(deadline) {
				t.Fatalf("%s once the replica is back: %v", w.name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
