package store

import (
	"context"
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
	r, err := NewRedis(srv.URL(), "batch:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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

// TestScriptBatcherQueues: the store's queue operations, done by many
// workers at once through pipelines, hand every item out exactly once.
func TestScriptBatcherQueues(t *testing.T) {
	srv := redistest.Start(t)
	r, err := NewRedis(srv.URL(), "batchq:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
