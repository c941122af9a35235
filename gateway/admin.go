package gateway

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/outbox"
)

// Admin paths.
const (
	// PathDeadLetters lists the dead letters, newest first.
	PathDeadLetters = "/admin/deadletters"
	// PathQueues reports the length of the inbox and the outbox.
	PathQueues = "/admin/queues"
)

// defaultDeadLetterLimit is how many dead letters a listing shows unless asked.
const defaultDeadLetterLimit = 100

// deadLetters handles GET /admin/deadletters[?limit=N]: the newest dead
// letters as JSON, with their ids, party, attempts and reason, but without
// the messages (which hold patient data): neither the body nor the queue
// entry kept for a resend.
func (s *Server) deadLetters(c *fiber.Ctx) error {
	limit := defaultDeadLetterLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "limit: want a positive whole number")
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
	raw, err := s.store.DeadLetters(ctx, limit)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "dead letters: "+err.Error())
	}
	list := make([]outbox.DeadLetter, 0, len(raw))
	for _, b := range raw {
		dl, err := outbox.DecodeDeadLetter(b)
		if err != nil {
			dl = outbox.DeadLetter{Reason: "unreadable dead letter: " + err.Error()}
		}
		// The inbox entry of a dead letter of processing holds the
		// message again.
		dl.Body, dl.Entry = nil, nil
		list = append(list, dl)
	}
	return c.JSON(fiber.Map{"count": len(list), "deadLetters": list})
}

// queues handles GET /admin/queues: how many messages wait in the inbox
// and the outbox, and how many parties the routing table knows.
func (s *Server) queues(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
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
