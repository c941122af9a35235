package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// largestCommand watches a Redis client and keeps the most bytes of
// arguments one command it sent carried, and its name.
type largestCommand struct {
	mu   sync.Mutex
	most int
	name string
}

// process notes cmd's arguments (a processHook).
func (l *largestCommand) process(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
	n := redistest.ArgBytes(cmd.Args())
	l.mu.Lock()
	if n > l.most {
		l.most, l.name = n, cmd.Name()
	}
	l.mu.Unlock()
	return next(ctx, cmd)
}

// TestRedisBigStepIsWrittenInBoundedCommands: a step bigger than a run's
// bound (maxRunBytes, 192 KB) went into Redis in one run of the writer's
// script all the same, its whole payload an argument that Redis copies
// into a Lua string before the script starts, while every other client
// of the gateway's Redis (the front door's accept, the workers' claim)
// waits: measured (SLOWLOG, loaded 2-core machine) 16-83 ms for a 1 MiB
// step and 91-364 ms for 4 MiB, the front door's limit. Such a payload is
// now written apart from the script, in commands of at most
// stagedChunk bytes each, and read back whole; the retention drops it with
// its exchange.
func TestRedisBigStepIsWrittenInBoundedCommands(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	ctx := context.Background()
	var l largestCommand
	b.c.AddHook(processHook(l.process))
	body := "<big>" + incompressible(4<<20, 1) + "</big>"
	now := time.Now().UTC()
	evs := []Event{
		{Exchange: "BIG", At: now, Step: &Step{Kind: StepLegacyRequest, Body: body}},
		{Exchange: "BIG", At: now.Add(time.Millisecond), Step: &Step{Kind: StepFHIRRequest, Body: "{}"}},
		{Exchange: "BIG", At: now.Add(2 * time.Millisecond), Step: &Step{Kind: StepEPSAnswer, Body: body + "!"}},
	}
	if _, err := b.ApplyAll(ctx, evs); err != nil {
		t.Fatal(err)
	}
	t.Logf("the largest command carried %d bytes (%s)", l.most, l.name)
	if limit := 256 << 10; l.most > limit {
		t.Errorf("writing a 4 MiB step, one command (%s) carried %d bytes; want at most %d", l.name, l.most, limit)
	}
	x, err := b.Get(ctx, "BIG")
	if err != nil || x == nil || len(x.Steps) != 3 {
		t.Fatalf("exchange: %+v %v", x, err)
	}
	if x.Steps[0].Body != body || x.Steps[1].Body != "{}" || x.Steps[2].Body != body+"!" {
		t.Errorf("steps not read back whole: %d, %q, %d bytes", len(x.Steps[0].Body), x.Steps[1].Body, len(x.Steps[2].Body))
	}
	// Tried again with the same payload: kept once.
	again := Event{Exchange: "BIG", At: now.Add(time.Second), Step: &Step{Kind: StepLegacyRequest, Body: body}}
	if _, err := b.ApplyAll(ctx, []Event{again}); err != nil {
		t.Fatal(err)
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < int64(2*len(body)) || st.Bytes > int64(2*len(body))+64<<10 {
		t.Errorf("the journal counts %d bytes for two payloads of %d kept", st.Bytes, len(body))
	}
	if err := b.Prune(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := b.c.Keys(ctx, b.p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "BIG") {
			t.Errorf("after the retention dropped the exchange, %s is left", k)
		}
	}
	if n, _ := b.c.DBSize(ctx).Result(); n > 20 {
		t.Errorf("%d keys left: %s", n, fmt.Sprint(keys))
	}
}

// TestRedisBigStepOfDroppedExchangeLeavesNothing: a late big step of an
// exchange the retention dropped is left out, as any late event of it
// is, and its payload is not written apart either (it would stay, filed
// under no exchange kept, until it expired).
func TestRedisBigStepOfDroppedExchangeLeavesNothing(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	ctx := context.Background()
	now := time.Now().UTC()
	if err := b.Apply(ctx, Event{Exchange: "OLD", At: now, Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Prune(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	big := incompressible(2*stagedInline, 1)
	err := b.Apply(ctx, Event{Exchange: "OLD", At: now.Add(time.Minute), Step: &Step{Kind: StepEPSAnswer, Body: big}})
	if !errors.Is(err, ErrGone) {
		t.Fatalf("late step of a dropped exchange: %v, want ErrGone", err)
	}
	keys, _ := b.c.Keys(ctx, b.p+"sb*").Result()
	if len(keys) > 0 {
		t.Errorf("a late step of a dropped exchange left %v", keys)
	}
}
