package upstream

import (
	"context"
	"errors"
)

// ErrRetriesStopped: the caller's stop signal (StopRetriesOn) ended a
// call before an attempt: none was started after it.
var ErrRetriesStopped = errors.New("upstream call stopped by its caller before another attempt")

// stopKey carries a call's stop signal in a context.
type stopKey struct{}

// StopRetriesOn returns a context whose upstream calls start no attempt
// once stop is closed: a call waiting to retry (its backoff, or a
// Retry-After) gives up at once with ErrRetriesStopped and its last
// attempt's outcome, one not yet started is not sent. An attempt in flight
// is not cut short: its answer is returned as before. A nil stop never
// stops.
func StopRetriesOn(ctx context.Context, stop <-chan struct{}) context.Context {
	if stop == nil {
		return ctx
	}
	return context.WithValue(ctx, stopKey{}, stop)
}

// retryStopOf returns the stop signal StopRetriesOn set, nil for none.
func retryStopOf(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return stop
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}
