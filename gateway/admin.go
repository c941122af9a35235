package gateway

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// Admin paths.
const (
	// PathDeadLetters lists the dead letters, newest first.
	PathDeadLetters = "/admin/deadletters"
	// PathQueues reports the length of the inbox and the outbox.
	PathQueues = "/admin/queues"
)

// defaultDeadLetterLimit is how many dead letters a listing shows unless
// asked; maxDeadLetterLimit is the most it shows (offset pages on).
const (
	defaultDeadLetterLimit = 100
	maxDeadLetterLimit     = 1000
)

// deadLetters handles GET /admin/deadletters[?limit=N][&offset=K]: up to
// N dead letters (1 to maxDeadLetterLimit, default 100), newest first,
// after the newest K, as JSON with their ids, party, attempts and reason,
// but without the messages (which hold patient data): neither the body
// nor the queue entry kept for a resend. The list is read a page at a
// time, from the head each dead letter is kept with (readDeadLetters),
// not the message it keeps; total is how many the
// store keeps, when it counts them, and next the offset of the next page
// when there are more.
func (s *Server) deadLetters(c *fiber.Ctx) error {
	limit, offset := defaultDeadLetterLimit, 0
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &limit, 1, maxDeadLetterLimit}, {"offset", &offset, 0, store.DeadLetterCap}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < p.min || n > p.max {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("%s: want a whole number from %d to %d", p.name, p.min, p.max))
		}
		*p.dst = n
	}
	ctx := c.UserContext() // bounded by the admin listener (admin.Deps.Mount)
	list := make([]outbox.DeadLetter, 0, min(limit, deadLetterPageSize))
	more := true
	for read := 0; read < limit && more; {
		want := min(deadLetterPageSize, limit-read)
		n, err := readDeadLetters(ctx, s.store, offset+read, want, func(dl outbox.DeadLetter, err error) {
			if err != nil {
				dl = outbox.DeadLetter{Reason: "unreadable dead letter: " + err.Error()}
			}
			list = append(list, dl)
		})
		if err != nil {
			return fiber.NewError(fiber.StatusServiceUnavailable, "dead letters: "+err.Error())
		}
		read += n
		more = n == want
	}
	answer := fiber.Map{"count": len(list), "offset": offset, "deadLetters": list}
	if more {
		// A full last page: is there one more after it?
		n, err := readDeadLetters(ctx, s.store, offset+len(list), 1, func(outbox.DeadLetter, error) {})
		if err != nil {
			return fiber.NewError(fiber.StatusServiceUnavailable, "dead letters: "+err.Error())
		}
		more = n > 0
	}
	if more {
		answer["next"] = offset + len(list)
	}
	if dc, ok := s.store.(deadLetterCounter); ok {
		if n, err := dc.DeadLetterLen(ctx); err == nil {
			answer["total"] = n
		}
	}
	return c.JSON(answer)
}

// queues handles GET /admin/queues: how many messages wait in the inbox
// and the outbox, and how many parties the routing table knows.
func (s *Server) queues(c *fiber.Ctx) error {
	ctx := c.UserContext() // bounded by the admin listener (admin.Deps.Mount)
	in, err := s.store.QueueLen(ctx, inboxQueue)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "queues: "+err.Error())
	}
	out, err := s.store.QueueLen(ctx, outbox.Queue)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "queues: "+err.Error())
	}
	return c.JSON(fiber.Map{
		"inbox": in, "outbox": out, "store": s.store.Kind(),
		"routes": fiber.Map{"configured": s.msg.routes.Configured(), "parties": s.msg.routes.Len()},
	})
}
