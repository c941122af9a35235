// Package retry is porxgate's one retry and backoff policy: exponential
// waits, doubling from a first interval up to a ceiling, computed by
// cenkalti/backoff/v5. The EPS client's attempts, the processing retries of
// accepted messages and the polls of pending cancellations all use it.
package retry

import (
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Exponential is a doubling backoff: First after the first failure, twice
// that after the second, and so on, never more than Max.
type Exponential struct {
	// First is the wait after the first failure.
	First time.Duration
	// Max caps every wait; a Max below First caps First too.
	Max time.Duration
}

// New returns the stateful backoff for one run of attempts: each
// NextBackOff is the next wait, without randomization (callers that want
// jitter apply it to the wait).
func (e Exponential) New() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     min(e.First, e.Max),
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         e.Max,
	}
	b.Reset()
	return b
}

// Nth is the wait after the n-th failure (n ≥ 1; smaller n count as 1), for
// callers that keep the attempt count in durable state rather than a
// backoff value in memory.
func (e Exponential) Nth(n int) time.Duration {
	if e.First <= 0 || e.Max <= 0 {
		return max(min(e.First, e.Max), 0)
	}
	b := e.New()
	d := b.NextBackOff()
	for i := 1; i < n && d < e.Max; i++ {
		d = b.NextBackOff()
	}
	return min(d, e.Max)
}
