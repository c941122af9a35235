// Package deadlinetest gives tests a context caught between its deadline
// and its timer: what a read bounded by it sees when it fails at the
// deadline and returns before the context is marked done (deadline.Passed).
package deadlinetest

import (
	"context"
	"time"
)

// timerLate is a context whose deadline is at, whose timer never fires:
// Done stays open and Err nil, whatever the clock says.
type timerLate struct {
	context.Context
	at time.Time
}

// Deadline implements context.Context.
func (c timerLate) Deadline() (time.Time, bool) { return c.at, true }

// TimerLate returns a context with deadline at whose timer never fires
// (Done open, Err nil), as a context is between its deadline and its
// timer's goroutine running. It carries no values.
func TimerLate(at time.Time) context.Context {
	return timerLate{context.Background(), at}
}
