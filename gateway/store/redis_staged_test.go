package store

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// scriptArgs watches a Redis client for the most bytes of keys and
// arguments one script call (EVAL, EVALSHA, alone or in a pipeline)
// carried.
type scriptArgs struct {
	mu   sync.Mutex
	most int
}

func (s *scriptArgs) note(cmd redis.Cmder) {
	if name := cmd.Name(); name != "evalsha" && name != "eval" {
		return
	}
	n := redistest.ArgBytes(cmd.Args()[2:]) // after the script or its SHA
	s.mu.Lock()
	s.most = max(s.most, n)
	s.mu.Unlock()
}

// DialHook implements redis.Hook.
func (s *scriptArgs) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (s *scriptArgs) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		s.note(cmd)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (s *scriptArgs) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			s.note(c)
		}
		return next(ctx, cmds)
	}
}

// stagedKeys lists the items written before a script that are still there.
func stagedKeys(t *testing.T, r *Redis) []string {
	t.Helper()
	keys, err := r.client.Keys(context.Background(), r.prefix+"q:*:staged:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestBigItemsStayOutOfTheScripts: a queue item's data went into Redis as
// an argument of the script that queues it (the front door's accept, an
// inbox worker's complete with the answer), and Redis's Lua hashes every
// byte of a script's arguments before the script starts: an inbox entry
// (about 18 KB) cost about 126,000 of Redis's instructions in that loop
// alone. An item bigger than stagedItemMin is now written, whole, just
// before the script in the same pipeline, and the script renames it into
// place (or deletes it when it queues nothing): the script carries only
// its name, the item's hash is as it was (data, token, party) and does not
// expire, and nothing written before a script is left behind, whatever
// the script answered. A script that finds such an item gone writes
// nothing and fails.
func TestBigItemsStayOutOfTheScripts(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "staged:")
	var args scriptArgs
	r.client.AddHook(&args)
	ctx := context.Background()
	now := time.Now()
	big := bytes.Repeat([]byte("<entry/>"), 18<<10/8)

	it := Item{Queue: "inbox", ID: "M1", Data: big, Due: now.Add(time.Minute), Token: "handed", Party: "P1"}
	a, err := r.AcceptFrom(ctx, "ebxml:M1", "P1", time.Hour, it)
	if err != nil || !a.Fresh {
		t.Fatalf("accept: %+v, %v", a, err)
	}
	if args.most > 4<<10 {
		t.Errorf("accepting an item of %d bytes, a script carried %d bytes", len(big), args.most)
	}
	h, err := r.client.HGetAll(ctx, r.itemPrefix("inbox")+"M1").Result()
	if err != nil || h["data"] != string(big) || h["token"] != "handed" || h["party"] != "P1" || len(h) != 3 {
		t.Fatalf("item hash: %d fields, data %d bytes, token %q, party %q, %v", len(h), len(h["data"]), h["token"], h["party"], err)
	}
	if ttl, _ := r.client.PTTL(ctx, r.itemPrefix("inbox")+"M1").Result(); ttl != -1 {
		t.Errorf("the item expires (PTTL %v): renamed from what was written before the script, it kept that expiry", ttl)
	}

	// The same message again (another call): a duplicate, nothing left.
	dup := it
	dup.Data, dup.Token = bytes.Repeat([]byte("x"), 4<<10), "other"
	if a, err := r.AcceptFrom(ctx, "ebxml:M1", "P1", time.Hour, dup); err != nil || a.Fresh {
		t.Fatalf("duplicate: %+v, %v", a, err)
	}
	if d, _ := r.client.HGet(ctx, r.itemPrefix("inbox")+"M1", "data").Result(); d != string(big) {
		t.Errorf("a duplicate changed the item's data")
	}
	if k := stagedKeys(t, r); len(k) > 0 {
		t.Errorf("after a duplicate: %v left", k)
	}

	// Completed with a big answer queued: the answer is whole, nothing left.
	l := &Lease{Queue: "inbox", ID: "M1", Token: "handed"}
	answer := Item{Queue: "outbox", ID: "A1", Data: bytes.Repeat([]byte("a"), 3<<10), Due: now}
	args.most = 0
	if err := r.Complete(ctx, l, Finish{Enqueue: []Item{answer}}); err != nil {
		t.Fatal(err)
	}
	if args.most > 4<<10 {
		t.Errorf("completing with an answer of %d bytes, a script carried %d bytes", len(answer.Data), args.most)
	}
	next, err := r.Claim(ctx, "outbox", now, time.Minute)
	if err != nil || next == nil || !bytes.Equal(next.Data, answer.Data) {
		t.Fatalf("answer claimed: %+v, %v", next, err)
	}
	// A lease lost: nothing queued, nothing left.
	if err := r.Complete(ctx, &Lease{Queue: "outbox", ID: "A1", Token: "not-it"}, Finish{Enqueue: []Item{answer}}); err == nil {
		t.Fatal("a Complete under a lost lease succeeded")
	}
	if k := stagedKeys(t, r); len(k) > 0 {
		t.Errorf("after a lost lease: %v left", k)
	}

	// The item written before the script is gone (it expired, or never
	// arrived): the script fails and writes nothing, not even the mark.
	keys := []string{r.prefix + "seen:ebxml:M2", r.dueKey("inbox"), r.itemPrefix("inbox") + "M2"}
	err = acceptScript.Run(ctx, r.scripts, keys, "60000", seenMarkOf(""), "", "M2", "", ms(now), "", "", r.prefix+"q:inbox:staged:gone").Err()
	if err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("accept with its item gone: %v, want it refused", err)
	}
	if n, _ := r.client.Exists(ctx, keys[0], keys[2]).Result(); n != 0 {
		t.Errorf("accept with its item gone wrote %d of the mark and the item", n)
	}
}
