package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxScriptBatches is how many of the store's script calls (or pipelines
// of them) are in flight to Redis at once before further calls wait and go
// together in one pipeline.
const maxScriptBatches = 4

// maxScriptBatch bounds how many waiting calls one pipeline carries.
const maxScriptBatch = 64

// scriptBatcher runs the store's Lua scripts (redis.Scripter, for
// Script.Run). While fewer than maxScriptBatches calls are in flight a call
// is sent at once, on its own, as it always was. Under load, when the
// inbox and delivery workers and the front door's requests call faster
// than Redis answers, the calls that arrive meanwhile wait and are sent
// together in one pipeline: one write and one read for all of them instead
// of a write and a read (and a connection check) each.
//
// Nothing about a call changes but the connection write it shares: each is
// its own EVALSHA, atomic on its own, with its own reply and error (a
// pipeline is not a transaction: a failed call fails no other); a caller
// still has its reply before it goes on, so one caller's calls stay in
// order, and calls of different callers were never ordered. With
// WaitReplicas a pipeline ends with one WAIT, which covers every write
// before it on the connection, and each call fails as it would alone when
// fewer replicas acknowledged.
type scriptBatcher struct {
	// client sends calls alone (with WAIT when replicated); pipelines come
	// from base.
	client redis.UniversalClient
	base   redis.UniversalClient
	// wait is the replicated client whose WAIT a pipeline ends with
	// (replicas 0: none).
	wait replicatedClient

	mu      sync.Mutex
	running int           // calls or pipelines in flight
	queue   []*scriptCall // calls waiting for a pipeline

	// pipelines counts the pipelines sent (tests).
	pipelines atomic.Int64
}

// scriptCall is one EVAL or EVALSHA.
type scriptCall struct {
	ctx    context.Context
	sha    bool // EVALSHA of script, else EVAL of it
	script string
	keys   []string
	args   []any
	cmd    *redis.Cmd
	// done is closed when cmd has its reply; lead, instead, when this
	// call's goroutine is to send batch (which holds it) as the next
	// pipeline.
	done  chan struct{}
	lead  chan struct{}
	batch []*scriptCall
}

// newScriptBatcher returns the batcher over client (a replicatedClient's
// WAIT is kept).
func newScriptBatcher(client redis.UniversalClient) *scriptBatcher {
	b := &scriptBatcher{client: client, base: client}
	if rc, ok := client.(replicatedClient); ok {
		b.base, b.wait = rc.UniversalClient, rc
	}
	return b
}

// Eval implements redis.Scripter.
func (b *scriptBatcher) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return b.call(&scriptCall{ctx: ctx, script: script, keys: keys, args: args})
}

// EvalSha implements redis.Scripter.
func (b *scriptBatcher) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return b.call(&scriptCall{ctx: ctx, sha: true, script: sha1, keys: keys, args: args})
}

// EvalRO implements redis.Scripter (not batched).
func (b *scriptBatcher) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return b.client.EvalRO(ctx, script, keys, args...)
}

// EvalShaRO implements redis.Scripter (not batched).
func (b *scriptBatcher) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return b.client.EvalShaRO(ctx, sha1, keys, args...)
}

// ScriptExists implements redis.Scripter.
func (b *scriptBatcher) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return b.client.ScriptExists(ctx, hashes...)
}

// ScriptLoad implements redis.Scripter.
func (b *scriptBatcher) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return b.client.ScriptLoad(ctx, script)
}

// call sends c now if fewer than maxScriptBatches are in flight, else
// queues it for the next pipeline, and returns its reply.
func (b *scriptBatcher) call(c *scriptCall) *redis.Cmd {
	b.mu.Lock()
	if b.running < maxScriptBatches {
		b.running++
		b.mu.Unlock()
		b.send([]*scriptCall{c})
		return c.cmd
	}
	c.done, c.lead = make(chan struct{}), make(chan struct{})
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	// A waiting call does not give up on its context: it may be chosen to
	// send the next pipeline, which others wait for. The wait is bounded
	// by the latest deadline of the calls in that pipeline
	// (pipelineContext), or by the client's read and write timeouts when
	// one of them has none.
	select {
	case <-c.done:
	case <-c.lead:
		b.send(c.batch)
	}
	return c.cmd
}

// send sends calls (one alone, or a pipeline), hands their replies over,
// then passes the sending on to the first waiting call with the calls
// waiting then, or counts one fewer in flight.
func (b *scriptBatcher) send(calls []*scriptCall) {
	if len(calls) == 1 {
		c := calls[0]
		if c.sha {
			c.cmd = b.client.EvalSha(c.ctx, c.script, c.keys, c.args...)
		} else {
			c.cmd = b.client.Eval(c.ctx, c.script, c.keys, c.args...)
		}
	} else {
		b.pipeline(calls)
	}
	for _, c := range calls {
		if c.done != nil {
			close(c.done)
		}
	}
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.running--
		b.mu.Unlock()
		return
	}
	n := min(len(b.queue), maxScriptBatch)
	next := b.queue[:n:n]
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil
	}
	b.mu.Unlock()
	lead := next[0]
	lead.batch = next
	close(lead.lead)
}

// pipeline sends calls in one pipeline (then one WAIT when replicated),
// under pipelineContext.
func (b *scriptBatcher) pipeline(calls []*scriptCall) {
	b.pipelines.Add(1)
	ctx, cancel := pipelineContext(calls)
	defer cancel()
	pipe := b.base.Pipeline()
	for _, c := range calls {
		if c.sha {
			c.cmd = pipe.EvalSha(ctx, c.script, c.keys, c.args...)
		} else {
			c.cmd = pipe.Eval(ctx, c.script, c.keys, c.args...)
		}
	}
	var wait *redis.Cmd
	if b.wait.replicas > 0 {
		wait = pipe.Do(ctx, "WAIT", b.wait.replicas, b.wait.timeout.Milliseconds())
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	if wait == nil {
		return
	}
	for _, c := range calls {
		if c.cmd.Err() != nil {
			continue
		}
		if wait.Err() != nil {
			c.cmd.SetErr(fmt.Errorf("redis WAIT %d: %w", b.wait.replicas, wait.Err()))
		} else if n, err := wait.Int64(); err != nil || n < int64(b.wait.replicas) {
			c.cmd.SetErr(fmt.Errorf("%w: %d of %d within %s", ErrNotReplicated, n, b.wait.replicas, b.wait.timeout))
		}
	}
}

// pipelineContext is the context calls are sent under in one pipeline:
// the first call's values without any call's cancellation (the pipeline
// carries every call, and one caller giving up must not fail the
// others), and the latest of their deadlines when every call has one, so
// that a hung Redis holds the pipeline no longer than its most patient
// caller allowed. Before, a pipeline had no deadline at all: on a hung
// Redis its callers waited out the client's read timeouts and retries
// (about 12 s a pipeline, one after another) whatever they had allowed.
func pipelineContext(calls []*scriptCall) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(calls[0].ctx)
	var latest time.Time
	for _, c := range calls {
		d, ok := c.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}
