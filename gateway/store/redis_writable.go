package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrFull is returned by CheckWritable when Redis refuses writes because
// it has reached its memory limit (maxmemory with the noeviction policy
// porxgate requires): it answers PING, and refuses every message.
var ErrFull = errors.New("redis is full: it refuses writes at its memory limit (maxmemory)")

// writableProbeTTL is how long CheckWritable's probe key lives.
const writableProbeTTL = 10 * time.Second

// CheckWritable reports whether Redis takes a write: it sets a short-lived
// probe key. PING answers while Redis refuses every write — full at its
// memory limit (ErrFull, with Redis's OOM error), a replica written to by
// mistake (READONLY), too few replicas for min-replicas-to-write
// (NOREPLICAS), a user without write permission (NOPERM) — and every
// message is then refused.
func (r *Redis) CheckWritable(ctx context.Context) error {
	err := r.client.Set(ctx, r.prefix+"probe:writable", "1", writableProbeTTL).Err()
	switch {
	case err == nil:
		return nil
	case strings.HasPrefix(err.Error(), "OOM "):
		return fmt.Errorf("%w: %w", ErrFull, err)
	default:
		return fmt.Errorf("redis write probe: %w", err)
	}
}
