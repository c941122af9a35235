// Package stopqueue is a bounded queue that can be closed to new items: a
// Put never blocks (a full queue refuses), and once Close has taken what
// was left nothing more is queued, so a consumer that stops can account
// for every item (write it, or count it dropped) without one arriving
// after its last look. The journal's writer and comparison mode's shadow
// workers use it.
package stopqueue

import "sync"

// Queue is a bounded queue of T; the zero value is not usable (New).
type Queue[T any] struct {
	ch chan T
	// mu guards closed: Put holds it shared while it queues, Close
	// exclusively as it closes.
	mu     sync.RWMutex
	closed bool
}

// New returns a queue of at most n items.
func New[T any](n int) *Queue[T] { return &Queue[T]{ch: make(chan T, n)} }

// Outcome of a Put.
const (
	// Queued: the item is in the queue.
	Queued = iota
	// Full: the queue is full; the item was not queued.
	Full
	// Closed: the queue is closed; the item was not queued.
	Closed
)

// Put queues v without waiting and says whether it was: Queued, Full or
// Closed.
func (q *Queue[T]) Put(v T) int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return Closed
	}
	select {
	case q.ch <- v:
		return Queued
	default:
		return Full
	}
}

// C is the channel items are taken from.
func (q *Queue[T]) C() <-chan T { return q.ch }

// Len is how many items are queued.
func (q *Queue[T]) Len() int { return len(q.ch) }

// Close refuses further items and returns those still queued, oldest
// first.
func (q *Queue[T]) Close() []T {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	var left []T
	for {
		select {
		case v := <-q.ch:
			left = append(left, v)
		default:
			return left
		}
	}
}
