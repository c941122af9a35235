package gateway

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
)

// redisBuckets span a loopback round trip (about 50 µs) to a Redis that
// has stalled for a second.
var redisBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

// InstrumentRedis times every command and pipeline the gateway sends to
// st's Redis, as seen from the gateway: porxgate_redis_duration_seconds
// by op, which is a script's name for EVALSHA ("store.accept",
// "store.claim", "journal.evict", "cancels.track", …), "pipeline" or
// "transaction" for commands sent together, else the command ("set",
// "mget", …). It includes Redis's own queueing, so a slow or overloaded
// Redis shows here before it shows anywhere else. A store that is not
// Redis is left as it is.
func InstrumentRedis(st store.Store, reg prometheus.Registerer) error {
	r, ok := st.(*store.Redis)
	if !ok {
		return nil
	}
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "porxgate_redis_duration_seconds",
		Help:    "Round trip of each Redis command or pipeline the gateway sends, from the gateway, by op: the Lua script's name for EVALSHA (store.accept, store.claim, ...), pipeline, transaction, or the command.",
		Buckets: redisBuckets,
	}, []string{"op"})
	if err := reg.Register(h); err != nil {
		return err
	}
	names := store.ScriptNames()
	for _, m := range []map[string]string{journal.ScriptNames(), cancels.ScriptNames()} {
		for sha, name := range m {
			names[sha] = name
		}
	}
	r.Client().AddHook(redisTimer{h: h, scripts: names})
	return nil
}

// redisTimer is the go-redis hook behind InstrumentRedis.
type redisTimer struct {
	h       *prometheus.HistogramVec
	scripts map[string]string // SHA1 → name; read only
}

// DialHook implements redis.Hook (dials are not timed).
func (t redisTimer) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (t redisTimer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		t.h.WithLabelValues(t.op(cmd)).Observe(time.Since(start).Seconds())
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (t redisTimer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		op := "pipeline"
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			op = "transaction"
		}
		t.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
		return err
	}
}

// op names what cmd did: a script's name, or the command.
func (t redisTimer) op(cmd redis.Cmder) string {
	name := cmd.Name()
	args := cmd.Args()
	if len(args) < 2 {
		return name
	}
	switch name {
	case "evalsha":
		if sha, ok := args[1].(string); ok {
			if n, ok := t.scripts[sha]; ok {
				return n
			}
		}
	case "eval": // a script's first run, before Redis has it cached
		if src, ok := args[1].(string); ok {
			sum := sha1.Sum([]byte(src))
			if n, ok := t.scripts[hex.EncodeToString(sum[:])]; ok {
				return n
			}
		}
	}
	return name
}
