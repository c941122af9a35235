package store

import (
	"context"
	"fmt"
	"time"
)

// DeadLetterLen returns how many dead letters the store keeps (LLEN).
func (r *Redis) DeadLetterLen(ctx context.Context) (int, error) {
	n, err := r.client.LLen(ctx, r.deadKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("redis dead letter count: %w", err)
	}
	return int(n), nil
}

// DeadLetterLen returns how many dead letters the store keeps.
func (m *Memory) DeadLetterLen(_ context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	return len(m.dead), nil
}

// QueueWait returns how long the item of queue due earliest, and not held
// under a lease, has been due at now: how far the queue's workers are
// behind (0 when nothing is due). A held item is scored at its lease's
// end (claimScript), so only one whose lease has run out counts, as one
// waiting for a worker again. One ZRANGE of the due set.
func (r *Redis) QueueWait(ctx context.Context, queue string, now time.Time) (time.Duration, error) {
	zs, err := r.client.ZRangeWithScores(ctx, r.dueKey(queue), 0, 0).Result()
	if err != nil {
		return 0, fmt.Errorf("redis queue wait %s: %w", queue, err)
	}
	if len(zs) == 0 {
		return 0, nil
	}
	return dueFor(now, int64(zs[0].Score)), nil
}

// QueueWait returns how long the item of queue due earliest, and not held
// under a lease, has been due at now (0 when nothing is due), as Redis's.
func (m *Memory) QueueWait(_ context.Context, queue string, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	var wait time.Duration
	for _, it := range m.queues[queue] {
		wait = max(wait, dueFor(now, it.due))
	}
	return wait, nil
}

// dueFor is how long an item due at dueMs (Unix milliseconds) has been
// due at now; 0 when it is not due yet.
func dueFor(now time.Time, dueMs int64) time.Duration {
	return max(now.Sub(time.UnixMilli(dueMs)), 0)
}
