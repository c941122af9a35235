package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// redisOps returns the sample counts of porxgate_redis_duration_seconds
// by op.
func redisOps(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "porxgate_redis_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[opLabel(m)] = m.GetHistogram().GetSampleCount()
		}
	}
	return got
}

func opLabel(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "op" {
			return l.GetValue()
		}
	}
	return ""
}

// TestInstrumentRedis drives a real Redis through the store and checks
// that each round trip is timed under the name of what it did: the
// store's scripts by name, a plain command by its name, a transaction
// as one. With --redis-wait-replicas each script goes to Redis with its
// WAIT (two commands sent together): it was timed as "pipeline", so that
// every script of a replicated deployment was, and the dashboard's and
// the deploy guide's view by op (store.claim against the message rate)
// showed nothing but "pipeline".
func TestInstrumentRedis(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T) *store.Redis
	}{
		{"one server", func(t *testing.T) *store.Redis {
			st, _ := redisStore(t)
			return st.(*store.Redis)
		}},
		{"waiting for a replica", func(t *testing.T) *store.Redis {
			master, _ := redistest.StartReplicated(t, 1)
			r, err := store.OpenRedis(store.RedisOptions{URL: master.URL(), WaitReplicas: 1, WaitTimeout: redistest.ReplicaWait}, "gw:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.open(t)
			reg := prometheus.NewRegistry()
			if err := InstrumentRedis(reg, r); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			now := time.Now()
			if ok, err := r.Accept(ctx, "seen:1", time.Minute, store.Item{Queue: "inbox", ID: "m1", Data: []byte("x"), Due: now}); err != nil || !ok {
				t.Fatalf("Accept: %v %v", ok, err)
			}
			l, err := r.Claim(ctx, "inbox", now, time.Minute)
			if err != nil || l == nil {
				t.Fatalf("Claim: %v %v", l, err)
			}
			if err := r.Complete(ctx, l, store.Finish{}); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if _, err := r.MarkSeen(ctx, "seen:2", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := r.CheckWritable(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "gw:metrics", "1", time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got := redisOps(t, reg)
			for _, op := range []string{"store.accept", "store.claim", "store.complete", "store.mark", "set", "transaction"} {
				if got[op] == 0 {
					t.Errorf("no %q round trip timed; got %v", op, got)
				}
			}
			if got["evalsha"] != 0 || got["eval"] != 0 {
				t.Errorf("a store script was timed without its name: %v", got)
			}
		})
	}
}

// TestInstrumentRedisMemoryStore checks that the in-memory store is left
// alone: nothing is registered.
func TestInstrumentRedisMemoryStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := InstrumentRedis(reg, store.NewMemory(nil)); err != nil {
		t.Fatal(err)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("metrics registered for the memory store: %d", len(mfs))
	}
}

// TestInstrumentRedisTwoStores: the store's Redis and the journal's own
// (--journal-redis) are timed in the one histogram, each round trip once
// (the same store given twice is hooked once), and the memory store among
// them is left alone.
func TestInstrumentRedisTwoStores(t *testing.T) {
	st, _ := redisStore(t)
	main := st.(*store.Redis)
	js, _ := redisStore(t)
	own := js.(*store.Redis)
	reg := prometheus.NewRegistry()
	if err := InstrumentRedis(reg, main, own, main, store.NewMemory(nil)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := main.Client().Set(ctx, "gw:a", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := own.Client().Get(ctx, "gw:b").Err(); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
	}
	if got := redisOps(t, reg); got["set"] != 1 || got["get"] != 2 {
		t.Errorf("timed %v, want set 1 (the store's) and get 2 (the journal's)", got)
	}
}

// TestScriptNamesDistinct checks that every Lua script of the store, the
// journal and the cancellation tracker has a name of its own.
func TestScriptNamesDistinct(t *testing.T) {
	seen := map[string]string{}
	n := 0
	for _, m := range []map[string]string{store.ScriptNames(), journal.ScriptNames(), cancels.ScriptNames()} {
		for sha, name := range m {
			n++
			if other, ok := seen[sha]; ok {
				t.Errorf("%s and %s have one SHA1", name, other)
			}
			seen[sha] = name
		}
	}
	if n != 28 {
		t.Errorf("%d named scripts, want 28 (19 store, 2 journal, 7 cancels)", n)
	}
}
