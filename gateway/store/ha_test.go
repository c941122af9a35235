package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestSentinelFailoverUnderLoad runs the store on a real Sentinel group
// (a master, two replicas, three sentinels), accepts and processes 150
// messages while the master is killed, and checks the promise: every
// message whose Accept succeeded is processed, and no message is completed
// twice. Each queue write waits for both replicas (WaitReplicas 2), so
// whichever replica the sentinels promote has everything acknowledged; the
// killed master is restarted and rejoins as a replica, as a supervisor
// would restart it, and until it has, writes fail and are retried.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	g := redistest.StartSentinel(t)
	r, err := store.OpenRedis(store.RedisOptions{
		SentinelAddrs: g.SentinelAddrs(), MasterName: redistest.MasterName,
		WaitReplicas: 2, WaitTimeout: time.Second,
	}, "ha:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	const messages, producers, workers = 150, 3, 4
	const lease = 2 * time.Second
	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		completed = map[string]int{}
		accepted  atomic.Int64
		writeErrs atomic.Int64
	)
	// Producers accept messages as the ebXML front door does, retrying a
	// message whose Accept failed as the sender's MHS would.
	var prod sync.WaitGroup
	for p := range producers {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for i := p; i < messages; i += producers {
				id := fmt.Sprintf("m%04d", i)
				item := store.Item{Queue: "inbox", ID: id, Data: []byte(id), Due: time.Now()}
				for ctx.Err() == nil {
					_, err := r.Accept(ctx, "seen:"+id, time.Hour, item)
					if err == nil {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						accepted.Add(1)
						break
					}
					writeErrs.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	// Workers process the inbox: each completion queues the answer in the
	// outbox in the same step, as the pipeline does.
	stop := make(chan struct{})
	var work sync.WaitGroup
	for range workers {
		work.Add(1)
		go func() {
			defer work.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				l, err := r.Claim(ctx, "inbox", time.Now(), lease)
				if err != nil || l == nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				answer := store.Item{Queue: "outbox", ID: l.ID, Data: l.Data, Due: time.Now()}
				err = r.Complete(ctx, l, store.Finish{Enqueue: []store.Item{answer}})
				switch {
				case err == nil:
					mu.Lock()
					completed[l.ID]++
					mu.Unlock()
				case errors.Is(err, store.ErrLeaseLost):
				default:
					writeErrs.Add(1)
				}
			}
		}()
	}

	// Kill the master once a third of the messages are in.
	for accepted.Load() < messages/3 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	old := g.Master.Addr
	g.Master.Kill(t)
	killedAt := time.Now()
	now := g.WaitFailover(t, old, 20*time.Second)
	t.Logf("master %s killed; sentinels promoted %s after %s", old, now, time.Since(killedAt).Round(time.Millisecond))
	g.Rejoin(t, g.Master, now)
	t.Logf("old master rejoined as a replica after %s", time.Since(killedAt).Round(time.Millisecond))

	prod.Wait()
	t.Logf("producers done after %s: %d acknowledged", time.Since(killedAt).Round(time.Millisecond), accepted.Load())
	if ctx.Err() != nil {
		t.Fatalf("producers did not finish: %d of %d accepted", accepted.Load(), messages)
	}
	// Wait until the inbox is empty. A Complete whose WAIT failed may still
	// have been applied: its message is answered but not counted below, so
	// the answers in the outbox are what shows nothing was lost.
	for {
		n, err := r.QueueLen(ctx, "inbox")
		if err == nil && n == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("inbox never emptied: %d left (err %v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("inbox empty after %s", time.Since(killedAt).Round(time.Millisecond))
	close(stop)
	work.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(acked) != messages {
		t.Fatalf("%d of %d messages acknowledged", len(acked), messages)
	}
	for id, n := range completed {
		if n != 1 {
			t.Errorf("%s completed %d times", id, n)
		}
	}
	out, err := r.QueueLen(ctx, "outbox")
	if err != nil || out != messages {
		t.Fatalf("outbox holds %d answers (err %v), want %d", out, err, messages)
	}
	t.Logf("%d messages through a failover; %d write errors retried", messages, writeErrs.Load())
}
