package gateway

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"maps"
	"slices"
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
// the Redis of each of stores (the store, and the journal's own with
// --journal-redis), as seen from the gateway: porxgate_redis_duration_seconds
// by op, which is a script's name for EVALSHA ("store.accept",
// "store.claim", "journal.evict", "cancels.track", …), "pipeline" or
// "transaction" for commands sent together, else the command ("set",
// "mget", …). A script sent with the WAIT for its replicas
// (--redis-wait-replicas) is timed as the script, WAIT included. It
// includes Redis's own queueing, so a slow or overloaded Redis shows here
// before it shows anywhere else. A store that is not Redis is left as it
// is, and one given twice is timed once.
func InstrumentRedis(reg prometheus.Registerer, stores ...store.Store) error {
	var clients []*store.Redis
	for _, st := range stores {
		if r, ok := st.(*store.Redis); ok && !slices.Contains(clients, r) {
			clients = append(clients, r)
		}
	}
	if len(clients) == 0 {
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
	maps.Copy(names, journal.ScriptNames())
	maps.Copy(names, cancels.ScriptNames())
	t := redisTimer{h: h, scripts: make(map[string]prometheus.Observer, len(names)),
		pipeline: h.WithLabelValues("pipeline"), transaction: h.WithLabelValues("transaction")}
	for sha, name := range names {
		t.scripts[sha] = h.WithLabelValues(name)
	}
	for _, r := range clients {
		r.Client().AddHook(t)
	}
	return nil
}

// redisTimer is the go-redis hook behind InstrumentRedis. The series of
// the scripts and of pipelines are looked up once, at start-up; only
// plain commands are looked up by name as they come.
type redisTimer struct {
	h                     *prometheus.HistogramVec
	scripts               map[string]prometheus.Observer // SHA1 → its script's series; read only
	pipeline, transaction prometheus.Observer
}

// DialHook implements redis.Hook (dials are not timed).
func (t redisTimer) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (t redisTimer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		t.series(cmd).Observe(time.Since(start).Seconds())
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (t redisTimer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		o := t.pipeline
		switch {
		case len(cmds) > 0 && cmds[0].Name() == "multi":
			o = t.transaction
		default:
			if s := oneScript(cmds); s != nil {
				o = t.series(s)
			}
		}
		o.Observe(time.Since(start).Seconds())
		return err
	}
}

// oneScript returns the script call of a pipeline that is one script's
// round trip: the script, the queue items the store writes just before it
// (HSET and PEXPIRE each, for an item bigger than it passes as an
// argument) and the WAIT for its replicas (--redis-wait-replicas); nil
// for any other pipeline.
func oneScript(cmds []redis.Cmder) redis.Cmder {
	var script redis.Cmder
	for _, c := range cmds {
		switch c.Name() {
		case "evalsha", "eval":
			if script != nil {
				return nil
			}
			script = c
		case "hset", "pexpire", "wait":
		default:
			return nil
		}
	}
	return script
}

// series is the series cmd is timed in: its script's, or its command's.
func (t redisTimer) series(cmd redis.Cmder) prometheus.Observer {
	name := cmd.Name()
	if args := cmd.Args(); len(args) >= 2 {
		switch name {
		case "evalsha":
			if sha, ok := args[1].(string); ok {
				if o, ok := t.scripts[sha]; ok {
					return o
				}
			}
		case "eval": // a script's first run, before Redis has it cached
			if src, ok := args[1].(string); ok {
				sum := sha1.Sum([]byte(src))
				if o, ok := t.scripts[hex.EncodeToString(sum[:])]; ok {
					return o
				}
			}
		}
	}
	return t.h.WithLabelValues(name)
}
