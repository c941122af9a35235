package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// incrScript increments KEYS[1]; on a key that holds no number Redis fails
// it (and only it).
var incrScript = redis.NewScript(`return redis.call('INCR', KEYS[1])`)

// TestScriptBatcher: many callers at once, more than go alone, get each
// their own answer, an error included, through pipelines; once Redis has
// forgotten the script (NOSCRIPT) every call still runs exactly once.
func TestScriptBatcher(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "batch:")
	ctx := context.Background()
	if err := r.client.Set(ctx, "batch:bad", "not a number", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, flush := range []bool{false, true} {
		t.Run(fmt.Sprintf("script flushed %v", flush), func(t *testing.T) {
			if flush {
				if err := r.client.ScriptFlush(ctx).Err(); err != nil {
					t.Fatal(err)
				}
			}
			before := r.scripts.pipelines.Load()
			const callers, calls = 32, 40
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := fmt.Sprintf("batch:n:%v:%d", flush, c)
					for i := 1; i <= calls; i++ {
						if c == 0 && i%4 == 0 { // fails alone
							if err := incrScript.Run(ctx, r.scripts, []string{"batch:bad"}).Err(); err == nil {
								errs <- fmt.Errorf("INCR of a string succeeded")
								return
							}
							continue
						}
						n, err := incrScript.Run(ctx, r.scripts, []string{key}).Int()
						if err != nil || n != i-boolInt(c == 0)*(i/4) {
							errs <- fmt.Errorf("caller %d call %d: %d, %v", c, i, n, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for c := range callers {
				want := calls
				if c == 0 {
					want = calls - calls/4
				}
				got, err := r.client.Get(ctx, fmt.Sprintf("batch:n:%v:%d", flush, c)).Result()
				if err != nil || got != strconv.Itoa(want) {
					t.Errorf("caller %d: counter %s (%v), want %d: a call ran twice or not at all", c, got, err, want)
				}
			}
			if r.scripts.pipelines.Load() == before {
				t.Error("no pipeline was sent although callers outnumbered the calls in flight")
			}
			if r.scripts.running != 0 || len(r.scripts.queue) != 0 {
				t.Errorf("left %d in flight, %d waiting", r.scripts.running, len(r.scripts.queue))
			}
		})
	}
}

// TestScriptBatcherGivesUp: callers that give up (their contexts end
// while their calls wait for a pipeline, lead one, or are in one) get
// their context's error at once, nobody waits for ever, the batcher is
// left with nothing in flight, and each call ran at most once: every
// call answered ran, and no call ran that was not made.
func TestScriptBatcherGivesUp(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "giveup:")
	const callers, calls = 48, 60
	var wg sync.WaitGroup
	answered := make([]int, callers)
	gaveUp := make([]int, callers)
	errs := make(chan error, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("giveup:n:%d", c)
			for i := range calls {
				// From already over to a few round trips: some give up
				// waiting, some leading a pipeline, some in one.
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((c*7+i*13)%40)*100*time.Microsecond)
				start := time.Now()
				_, err := incrScript.Run(ctx, r.scripts, []string{key}).Int()
				took := time.Since(start)
				cancel()
				switch {
				case err == nil:
					answered[c]++
				case errors.Is(err, context.DeadlineExceeded) || isTimeout(err): // sent alone: the read's deadline
					gaveUp[c]++
				default:
					errs <- fmt.Errorf("caller %d call %d: %v", c, i, err)
					return
				}
				if took > time.Second {
					errs <- fmt.Errorf("caller %d call %d: %s for a call given at most 4 ms", c, i, took)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ctx := context.Background()
	total := 0
	for c := range callers {
		got, err := r.client.Get(ctx, fmt.Sprintf("giveup:n:%d", c)).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		if got < answered[c] || got > answered[c]+gaveUp[c] {
			t.Errorf("caller %d: counter %d after %d calls answered and %d given up: a call ran twice, or one answered did not run", c, got, answered[c], gaveUp[c])
		}
		total += gaveUp[c]
	}
	if total == 0 {
		t.Error("no call gave up: the test did not test it")
	}
	// Pipelines of calls given up may still be on their way.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.scripts.mu.Lock()
		running, waiting := r.scripts.running, len(r.scripts.queue)
		r.scripts.mu.Unlock()
		if running == 0 && waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left %d in flight, %d waiting", running, waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d calls answered, %d given up, %d pipelines", callers*calls-total, total, r.scripts.pipelines.Load())
}

// TestScriptBatcherLeadGivesUp: a call chosen to send the next pipeline
// whose caller has given up meanwhile is not sent, and the pipeline goes
// without it: the calls in it get their replies, and the batcher counts
// one fewer in flight once they have.
func TestScriptBatcherLeadGivesUp(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "lead:")
	b := r.scripts
	b.mu.Lock()
	b.running = maxScriptBatches // as if that many were in flight: calls wait
	b.mu.Unlock()
	leadCtx, giveUp := context.WithCancel(context.Background())
	type reply struct {
		n   int
		err error
	}
	leadReply, otherReply := make(chan reply, 1), make(chan reply, 1)
	run := func(ctx context.Context, key string, to chan<- reply) {
		n, err := incrScript.Run(ctx, b, []string{key}).Int()
		to <- reply{n, err}
	}
	go run(leadCtx, "lead:first", leadReply)
	waitQueued(t, b, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go run(ctx, "lead:second", otherReply)
	waitQueued(t, b, 2)
	// The first gives up and, before it can withdraw, is chosen to send
	// both (one in flight has finished).
	b.mu.Lock()
	giveUp()
	time.Sleep(100 * time.Millisecond) // the first waits for mu to withdraw
	lead := b.nextLocked()
	b.mu.Unlock()
	close(lead.lead)
	if got := <-leadReply; !errors.Is(got.err, context.Canceled) {
		t.Errorf("the call given up: %d, %v; want context.Canceled", got.n, got.err)
	}
	select {
	case got := <-otherReply:
		if got.err != nil || got.n != 1 {
			t.Errorf("the other call: %d, %v; want 1", got.n, got.err)
		}
	case <-ctx.Done():
		t.Fatal("the other call was never sent")
	}
	if n, err := r.client.Exists(context.Background(), "lead:first").Result(); err != nil || n != 0 {
		t.Errorf("the call given up ran (%d, %v)", n, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running != maxScriptBatches-1 || len(b.queue) != 0 {
		t.Errorf("%d in flight, %d waiting; want %d, 0", b.running, len(b.queue), maxScriptBatches-1)
	}
}

// waitQueued waits until n calls wait in b's queue.
func waitQueued(t *testing.T, b *scriptBatcher, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls waiting, want %d", got, n)
		}
	}
}

// TestScriptBatcherQueues: the store's queue operations, done by many
// workers at once through pipelines, hand every item out exactly once.
func TestScriptBatcherQueues(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "batchq:")
	ctx := context.Background()
	now := time.Now()
	const items, workers = 400, 24
	var wg sync.WaitGroup
	for w := range workers { // front doors
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < items; i += workers {
				id := strconv.Itoa(i)
				for range 2 { // and a duplicate
					if _, err := r.Accept(ctx, "q:"+id, time.Hour, Item{Queue: "inbox", ID: id, Data: []byte(id), Due: now}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	var mu sync.Mutex
	got := map[string]int{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := r.Claim(ctx, "inbox", now, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if l == nil {
					return
				}
				if err := r.Complete(ctx, l, Finish{Enqueue: []Item{{Queue: "outbox", ID: l.ID, Data: l.Data, Due: now}}}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[string(l.Data)]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != items {
		t.Errorf("%d items processed, want %d", len(got), items)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("item %s processed %d times", id, n)
		}
	}
	if n, _ := r.client.ZCard(ctx, r.dueKey("outbox")).Result(); n != items {
		t.Errorf("%d answers queued, want %d", n, items)
	}
	if r.scripts.pipelines.Load() == 0 {
		t.Error("no pipeline was sent")
	}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var timeout interface{ Timeout() bool }
	return errors.As(err, &timeout) && timeout.Timeout()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
