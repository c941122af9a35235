// Package deadline tells whether a context's deadline has passed, by the
// clock as well as by the context: a read bounded by the context (a Redis
// client with ContextTimeoutEnabled sets the deadline on its connection)
// fails with the network's "i/o timeout" at that very instant, and can
// come back before the context's own timer has marked it done. Code that
// says why a read failed ("did not answer within ...") asks here rather
// than ctx.Err() alone, which under load was still nil.
package deadline

import (
	"context"
	"errors"
	"time"
)

// Passed reports whether ctx's deadline has passed: ctx says it was
// exceeded, or it has a deadline and the clock is at or past it. A ctx
// cancelled before its deadline has not passed it.
func Passed(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}
