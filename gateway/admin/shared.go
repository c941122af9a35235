package admin

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// shared keeps the last reading of a figure costly to read, and runs at
// most one reading at a time: every poller of the live state shares it.
type shared[T any] struct {
	mu   sync.Mutex
	last T
	at   time.Time
	// running is the reading in flight; nil when none is.
	running *reading[T]
}

// reading is one reading in flight: done is closed once v holds it.
type reading[T any] struct {
	done chan struct{}
	v    T
}

// get returns the last reading when it was taken less than every before
// now(), or else the reading in flight, starting one when none is: read,
// given the time it reads at, and kept as the last reading.
//
// A reading is every poller's, so it is not the caller's to end: it runs
// with a context of its own (ctx's values, not its end) bounded by
// timeout, in a goroutine that ends with it. Read with the caller's
// context, a reading started by a poll that had spent its time elsewhere
// (or that gave up meanwhile) failed, and the failure was kept and shown
// to every poller until the next. A caller whose ctx ends while it waits
// gets ctx's error; the reading goes on for the next.
func (c *shared[T]) get(ctx context.Context, now func() time.Time, every, timeout time.Duration, read func(context.Context, time.Time) T) (T, error) {
	c.mu.Lock()
	at := now()
	if c.running == nil && !c.at.IsZero() && !at.Before(c.at) && at.Sub(c.at) < every {
		v := c.last
		c.mu.Unlock()
		return v, nil
	}
	r := c.running
	if r == nil {
		r = &reading[T]{done: make(chan struct{})}
		c.running = r
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		go func() {
			defer cancel()
			v := read(rctx, at)
			c.mu.Lock()
			r.v = v
			c.last, c.at, c.running = v, at, nil
			close(r.done)
			c.mu.Unlock()
		}()
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.v, nil
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for the reading in flight: %w", ctx.Err())
	}
}
