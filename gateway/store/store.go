package store

import (
	"context"
	"errors"
	"time"
)

// Store is the gateway's durable state.
type Store interface {
	// MarkSeen records key for ttl and reports whether it was new; a key
	// already recorded and not yet expired gives false.
	MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
	// Kind names the backing store ("memory" or "redis") for logs and /readyz.
	Kind() string
}

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("store: closed")
