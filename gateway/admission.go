package gateway

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
)

// NumBusy: the front doors already hold --max-in-flight messages; the
// sender should send the message again (a retryable fault, TMS code 200).
const NumBusy = 910010

// admission bounds the legacy messages the two front doors work on at
// once. A message beyond the bound is refused at once with a retryable
// fault, before it is parsed, instead of waiting in memory for the store
// or the CPU: a burst larger than the gateway can take costs the senders a
// retry, not the gateway its memory (each message in hand holds its body,
// its parse and a store connection), and the messages it does take are
// acknowledged in time.
type admission struct {
	slots chan struct{}
	// shedding is set while messages are being refused, so that the log
	// has one line when refusing starts and one when it ends.
	shedding atomic.Bool
	log      *slog.Logger
	refused  func(c *fiber.Ctx, t Transport)
}

// newAdmission returns an admission of max messages at once; max < 1
// admits everything.
func newAdmission(max int, log *slog.Logger, refused func(c *fiber.Ctx, t Transport)) *admission {
	a := &admission{log: log, refused: refused}
	if max > 0 {
		a.slots = make(chan struct{}, max)
	}
	return a
}

// wrap runs next for a message of transport t when a slot is free, and
// refuses the message otherwise.
func (a *admission) wrap(t Transport, next fiber.Handler) fiber.Handler {
	if a.slots == nil {
		return next
	}
	return func(c *fiber.Ctx) error {
		select {
		case a.slots <- struct{}{}:
		default:
			if !a.shedding.Swap(true) {
				a.log.Warn("front doors busy: messages refused with a retryable fault until one in hand is done",
					"max_in_flight", cap(a.slots))
			}
			if a.refused != nil {
				a.refused(c, t)
			}
			return sendFault(c, fault(ebxml.TMSCodeSystemFailure,
				fmt.Sprintf("%d:the gateway is busy (%d messages in hand); send it again", NumBusy, cap(a.slots))))
		}
		defer func() { <-a.slots }()
		if a.shedding.Swap(false) {
			a.log.Info("front doors taking messages again")
		}
		return next(c)
	}
}
