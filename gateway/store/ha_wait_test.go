package store_test

import (
	"context"
	"errors"
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
