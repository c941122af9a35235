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
	// running is closed when the reading in flight ends; nil when none is.
	running chan struct{}
}

// get returns the last reading when it was taken less than every before
// now(), waits for the reading in flight when there is one, or reads
// (read, given the time it reads at) and keeps the result. A caller whose
// ctx ends while it waits gets ctx's error.
func (c *shared[T]) get(ctx context.Context, now func() time.Time, every time.Duration, read func(context.Context, time.Time) T) (T, error) {
	c.mu.Lock()
	for {
		at := now()
		if c.running == nil && !c.at.IsZero() && !at.Before(c.at) && at.Sub(c.at) < every {
			v := c.last
			c.mu.Unlock()
			return v, nil
		}
		if ch := c.running; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				var zero T
				return zero, fmt.Errorf("waiting for the reading in flight: %w", ctx.Err())
			}
			c.mu.Lock()
			continue
		}
		ch := make(chan struct{})
		c.running = ch
		c.mu.Unlock()
		v := read(ctx, at)
		c.mu.Lock()
		c.last, c.at, c.running = v, at, nil
		close(ch)
		c.mu.Unlock()
		return v, nil
	}
}
