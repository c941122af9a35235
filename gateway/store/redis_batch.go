package store

import (
	"context"
	"fmt"
	"slices"
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
// order, and calls of different callers were never ordered (a caller
// that gave up on a reply, its context done, has no order with the call
// it gave up on, as with any call whose reply is lost). With
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
	// pre are the items written just before the script, in the same
	// pipeline (stagedItem).
	pre []stagedItem
	cmd *redis.Cmd
	// done is closed when cmd has its reply; lead, instead, when this
	// call's goroutine is to send batch (which holds it first; set under
	// the batcher's mu) as the next pipeline.
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

// with returns the Scripter whose calls write the items pre just before
// the script, in the same pipeline: b itself when there are none.
func (b *scriptBatcher) with(pre []stagedItem) redis.Scripter {
	if len(pre) == 0 {
		return b
	}
	return stagedScripter{b: b, pre: pre}
}

// stagedScripter is a scriptBatcher whose script calls write items before
// the script (scriptBatcher.with). A call is sent as a pipeline, the items
// first, even alone, so that the client sending it again after a broken
// connection (MaxRetries) sends the items again too; Script.Run's EVAL
// after NOSCRIPT writes them again as well.
type stagedScripter struct {
	b   *scriptBatcher
	pre []stagedItem
}

// Eval implements redis.Scripter.
func (s stagedScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.b.call(&scriptCall{ctx: ctx, script: script, keys: keys, args: args, pre: s.pre})
}

// EvalSha implements redis.Scripter.
func (s stagedScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.b.call(&scriptCall{ctx: ctx, sha: true, script: sha1, keys: keys, args: args, pre: s.pre})
}

// EvalRO implements redis.Scripter (read-only scripts queue nothing).
func (s stagedScripter) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return s.b.EvalRO(ctx, script, keys, args...)
}

// EvalShaRO implements redis.Scripter (read-only scripts queue nothing).
func (s stagedScripter) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return s.b.EvalShaRO(ctx, sha1, keys, args...)
}

// ScriptExists implements redis.Scripter.
func (s stagedScripter) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return s.b.ScriptExists(ctx, hashes...)
}

// ScriptLoad implements redis.Scripter.
func (s stagedScripter) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return s.b.ScriptLoad(ctx, script)
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
// queues it for the next pipeline, and returns its reply. A queued call
// gives up at its own context's end, as a call sent alone does: while it
// waits it is withdrawn and never sent; once in a pipeline, its caller
// stops waiting for the reply (the script may still run, as one whose
// answer is lost on the way). Before, it waited for the calls ahead of
// it, whatever its caller had allowed: on a hung Redis an Accept given
// 300 ms waited 5 s (20 s on a Cluster) behind the idle workers' claims,
// which set no deadline.
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
	select {
	case <-c.done:
		return c.cmd
	case <-c.lead:
		// Chosen to send the next pipeline: it goes on its own, so that
		// this caller, as each other in it, waits no longer than it
		// allows. The pipeline is bounded by pipelineContext.
		go b.send(c.batch)
	case <-c.ctx.Done():
		if b.withdraw(c) {
			return gaveUp(c)
		}
	}
	select {
	case <-c.done:
		return c.cmd
	case <-c.ctx.Done():
		return gaveUp(c)
	}
}

// withdraw takes c, whose caller has given up, out of the calls waiting;
// when it had been chosen to send the next pipeline, that pipeline goes
// without it. It reports whether c will not be sent; false when c is in a
// pipeline another call sends.
func (b *scriptBatcher) withdraw(c *scriptCall) bool {
	b.mu.Lock()
	if i := slices.Index(b.queue, c); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
		b.mu.Unlock()
		return true
	}
	batch := c.batch // set under mu when c was chosen (next)
	b.mu.Unlock()
	if batch == nil {
		return false
	}
	<-c.lead
	go b.send(batch[1:]) // c is batch[0]
	return true
}

// gaveUp is the reply of a call whose caller gave up before its reply came.
func gaveUp(c *scriptCall) *redis.Cmd {
	cmd := redis.NewCmd(c.ctx)
	cmd.SetErr(fmt.Errorf("redis script: no reply within the caller's time: %w", context.Cause(c.ctx)))
	return cmd
}

// send sends calls (one alone, or a pipeline; none when the one chosen to
// send them was alone and withdrew), then passes the sending on to the
// first waiting call with the calls waiting then, or counts one fewer in
// flight, and only then hands the replies over: a caller that has its
// reply finds the batcher's count up to date.
func (b *scriptBatcher) send(calls []*scriptCall) {
	switch len(calls) {
	case 0:
	case 1:
		c := calls[0]
		if len(c.pre) > 0 {
			b.pipeline(calls, false)
			break
		}
		if c.sha {
			c.cmd = b.client.EvalSha(c.ctx, c.script, c.keys, c.args...)
		} else {
			c.cmd = b.client.Eval(c.ctx, c.script, c.keys, c.args...)
		}
	default:
		b.pipeline(calls, true)
	}
	lead := b.next()
	for _, c := range calls {
		if c.done != nil {
			close(c.done)
		}
	}
	if lead != nil {
		close(lead.lead)
	}
}

// next chooses the call to send the calls waiting (up to maxScriptBatch)
// as the next pipeline, its batch set; nil, and one fewer in flight, when
// none waits.
func (b *scriptBatcher) next() *scriptCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nextLocked()
}

// nextLocked is next for a caller that holds mu.
func (b *scriptBatcher) nextLocked() *scriptCall {
	if len(b.queue) == 0 {
		b.running--
		return nil
	}
	n := min(len(b.queue), maxScriptBatch)
	next := b.queue[:n:n]
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil
	}
	next[0].batch = next
	return next[0]
}

// pipeline sends calls in one pipeline (then one WAIT when replicated),
// under pipelineContext, each call's items written before it
// (stagedItem); batched says whether it counts in pipelines (not a call
// sent alone with its items).
func (b *scriptBatcher) pipeline(calls []*scriptCall, batched bool) {
	if batched {
		b.pipelines.Add(1)
	}
	ctx, cancel := pipelineContext(calls)
	defer cancel()
	pipe := b.base.Pipeline()
	for _, c := range calls {
		for _, it := range c.pre {
			if it.party != "" {
				pipe.HSet(ctx, it.key, "data", it.data, "token", it.token, "party", it.party)
			} else {
				pipe.HSet(ctx, it.key, "data", it.data, "token", it.token)
			}
			pipe.PExpire(ctx, it.key, stagedTTL)
		}
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
