package store

import (
	"context"
	"fmt"
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
