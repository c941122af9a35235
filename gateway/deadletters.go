package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// Dead-letter admin paths: one dead letter with its message, and resending.
const (
	// PathDeadLetterItem shows one dead letter, message included:
	// GET /admin/deadletters/item?id=<stage>:<MessageId>.
	PathDeadLetterItem = "/admin/deadletters/item"
	// PathDeadLetterResend resends dead letters: POST with a JSON body
	// {"id": "<stage>:<MessageId>"} for one, or {"party": "<party key>"} for
	// every dead letter of a party.
	PathDeadLetterResend = "/admin/deadletters/resend"
)

// registerDeadLetterAdmin adds the dead-letter routes beside the other
// admin routes.
func (s *Server) registerDeadLetterAdmin(r fiber.Router) {
	r.Get(strings.TrimPrefix(PathDeadLetterItem, "/admin"), s.deadLetterItem)
	r.Post(strings.TrimPrefix(PathDeadLetterResend, "/admin"), s.resendDeadLetters)
}

// deadLetterItem handles GET PathDeadLetterItem?id=...: the dead letter with
// its reason and message (patient data: the admin listener guards it).
func (s *Server) deadLetterItem(c *fiber.Ctx) error {
	id := c.Query("id")
	if id == "" {
		return fiber.NewError(fiber.StatusBadRequest, "id: want <stage>:<MessageId>, as GET "+PathDeadLetters+" lists them")
	}
	ctx := c.UserContext() // bounded by the admin listener (admin.Deps.Mount)
	var found *outbox.DeadLetter
	err := eachDeadLetter(ctx, s.store, func(dl outbox.DeadLetter) bool { return dl.ID == id }, func(b []byte, dl outbox.DeadLetter) (bool, bool, error) {
		if b == nil {
			return false, false, nil // moved meanwhile: another may be it
		}
		found = &dl
		return false, true, nil
	})
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "dead letters: "+err.Error())
	}
	if found == nil {
		return fiber.NewError(fiber.StatusNotFound, "no dead letter "+id)
	}
	found.Entry = nil
	return c.JSON(found)
}

// resendRequest is the body of POST PathDeadLetterResend: ID or Party.
// With ID, At (optional) is when the dead letter was given up on, as the
// list showed it: a dead letter of that id given up on at another time
// (resent meanwhile, from another tab say, and given up on again) is not
// resent, as it is not the one the operator looked at.
type resendRequest struct {
	ID    string     `json:"id"`
	At    *time.Time `json:"at,omitempty"`
	Party string     `json:"party"`
}

// ResendResult says what a resend did.
type ResendResult struct {
	// Resent are the ids of the dead letters queued again.
	Resent []string `json:"resent"`
	// Skipped are the matching dead letters that could not be resent, by id, with why.
	Skipped map[string]string `json:"skipped,omitempty"`
}

// maxResendBody bounds a resend request's body once decoded: it is a
// small JSON object.
const maxResendBody = 64 << 10

// resendDeadLetters handles POST PathDeadLetterResend.
func (s *Server) resendDeadLetters(c *fiber.Ctx) error {
	var req resendRequest
	// Read as the front doors read a body (never Fiber's c.Body, which
	// decodes gzip and deflate without a bound).
	body, berr := frontBody(c, maxResendBody)
	if berr != nil {
		code := fiber.StatusBadRequest
		if berr.tooLarge {
			code = fiber.StatusRequestEntityTooLarge
		}
		return fiber.NewError(code, berr.Error())
	}
	if err := json.Unmarshal(body, &req); err != nil || (req.ID == "") == (req.Party == "") {
		return fiber.NewError(fiber.StatusBadRequest, `want {"id": "<stage>:<MessageId>"} or {"party": "<party key>"}`)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 30*time.Second)
	defer cancel()
	match := func(dl outbox.DeadLetter) bool { return dl.Party == req.Party }
	if req.ID != "" {
		match = func(dl outbox.DeadLetter) bool { return dl.ID == req.ID }
	}
	var unlike func(outbox.DeadLetter) string
	if req.At != nil {
		unlike = func(dl outbox.DeadLetter) string {
			if dl.At.Equal(*req.At) {
				return ""
			}
			return fmt.Sprintf("given up on again at %s since it was listed (at %s): resent meanwhile, and failed again; look at its reason, then resend it",
				dl.At.UTC().Format(time.RFC3339Nano), req.At.UTC().Format(time.RFC3339Nano))
		}
	}
	res, err := s.msg.resend(ctx, match, unlike)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "resend: "+err.Error())
	}
	if req.ID != "" && len(res.Resent) == 0 && len(res.Skipped) == 0 {
		return fiber.NewError(fiber.StatusNotFound, "no dead letter "+req.ID)
	}
	if len(res.Resent) == 0 && len(res.Skipped) > 0 {
		// Nothing was resent: not a success. Answered 200, the page said
		// "resent" and `porxgate deadletters resend` exited 0 for a dead
		// letter that cannot be resent, or that another operator resent
		// at the same moment.
		return c.Status(fiber.StatusConflict).JSON(res)
	}
	return c.JSON(res)
}

// resend queues again every dead letter that match accepts: a delivery as
// the same message (same eb:MessageId: the receiver takes it once), an
// inbound message back into the inbox (the EPS processor's outcome record
// keeps EPS from being asked twice). Each is taken off the dead-letter list
// in the same store step as it is queued, so it is resent at most once.
// unlike, when not nil, says why a matching dead letter (read whole) is
// not the one the operator listed, "" when it is; such a one is skipped.
func (g *messaging) resend(ctx context.Context, match func(outbox.DeadLetter) bool, unlike func(outbox.DeadLetter) string) (ResendResult, error) {
	res := ResendResult{Resent: []string{}, Skipped: map[string]string{}}
	now := g.now()
	var inbox, deliveries bool
	err := eachDeadLetter(ctx, g.store, match, func(b []byte, dl outbox.DeadLetter) (bool, bool, error) {
		if b == nil {
			if !slices.Contains(res.Resent, dl.ID) {
				res.Skipped[dl.ID] = "no longer where it was listed: resent by someone else meanwhile, or the list changed; list the dead letters again"
			}
			return false, false, nil
		}
		if unlike != nil {
			if why := unlike(dl); why != "" {
				res.Skipped[dl.ID] = why
				return false, false, nil
			}
		}
		it, err := g.redoItem(dl, now)
		if err != nil {
			res.Skipped[dl.ID] = err.Error()
			return false, false, nil
		}
		ok, err := g.store.Requeue(ctx, b, it)
		if err != nil {
			return false, false, fmt.Errorf("resend %s: %w", dl.ID, err)
		}
		if !ok {
			res.Skipped[dl.ID] = "resent by someone else meanwhile"
			return false, false, nil
		}
		delete(res.Skipped, dl.ID)
		res.Resent = append(res.Resent, dl.ID)
		inbox = inbox || it.Queue == inboxQueue
		deliveries = deliveries || it.Queue == outbox.Queue
		g.log.Info("dead letter resent by an operator", "id", dl.ID, "party", dl.Party, "interaction", dl.Interaction, "reason_was", dl.Reason)
		return true, false, nil
	})
	if err != nil {
		return res, err
	}
	if inbox {
		g.wakeInbox()
	}
	if deliveries {
		g.delivery.Wake()
	}
	if len(res.Skipped) == 0 {
		res.Skipped = nil
	}
	return res, nil
}

// redoItem is the queue item that resends dl.
func (g *messaging) redoItem(dl outbox.DeadLetter, now time.Time) (store.Item, error) {
	switch dl.Stage {
	case outbox.StageDelivery:
		d, err := dl.Redelivery(now)
		if err != nil {
			return store.Item{}, err
		}
		return d.Item(now)
	case outbox.StageProcessing:
		if len(dl.Entry) == 0 {
			return store.Item{}, errors.New("kept without its inbox entry (dead-lettered by an older porxgate)")
		}
		var e inboxEntry
		if err := json.Unmarshal(dl.Entry, &e); err != nil || e.Inbound.MessageID == "" {
			return store.Item{}, fmt.Errorf("inbox entry unreadable: %v", err)
		}
		// Resent, it starts afresh: its attempts, and the 5xx answers that
		// made it a poison message (PoisonAfter counts from the resend).
		e.Attempts, e.LastError = 0, ""
		e.Answered5xx, e.First5xxAt = 0, time.Time{}
		return e.item(now)
	}
	return store.Item{}, fmt.Errorf("unknown stage %q", dl.Stage)
}

// deadLetterPageSize is how many dead letters a look through the list
// reads at a time: a full list (store.DeadLetterCap entries, each with its
// message) is never held whole.
const deadLetterPageSize = 100

// eachDeadLetter calls fn with each dead letter that match accepts,
// newest first, whole (raw, and decoded), until fn says stop or the list
// ends. match sees each as a listing does (readDeadLetters: from the
// head it is kept with, a page at a time), so that only the dead letters
// fn is given are read whole: finding one among many no longer reads
// every message before it. fn reports whether it took the dead letter
// off the list (the later ones then move up one place, and the next page
// starts one earlier so that none is skipped). A dead letter added
// meanwhile moves the others down, so one may be seen twice (callers
// ignore a second sight); one that is no longer where its head was, nor
// next to it, is given to fn with raw nil.
func eachDeadLetter(ctx context.Context, st store.Store, match func(outbox.DeadLetter) bool, fn func(raw []byte, dl outbox.DeadLetter) (removed, stop bool, err error)) error {
	offset := 0
	for pages := 0; pages <= 2*store.DeadLetterCap/deadLetterPageSize; pages++ {
		var listed []outbox.DeadLetter
		var ok []bool
		n, err := readDeadLetters(ctx, st, offset, deadLetterPageSize, func(dl outbox.DeadLetter, err error) {
			listed, ok = append(listed, dl), append(ok, err == nil)
		})
		if err != nil {
			return err
		}
		removed := 0
		for k, dl := range listed {
			if !ok[k] || !match(dl) {
				continue
			}
			raw, whole, err := deadLetterAt(ctx, st, offset+k-removed, dl)
			if err != nil {
				return err
			}
			gone, stop, err := fn(raw, whole)
			if err != nil || stop {
				return err
			}
			if gone {
				removed++
			}
		}
		if n < deadLetterPageSize {
			return nil
		}
		offset += n - removed
	}
	return nil
}

// deadLetterAt reads whole the dead letter listed as dl at pos: there,
// or one place either side (the list changed since it was listed); raw
// nil and dl when it is not found.
func deadLetterAt(ctx context.Context, st store.Store, pos int, dl outbox.DeadLetter) ([]byte, outbox.DeadLetter, error) {
	for _, at := range []int{pos, pos + 1, pos - 1} {
		if at < 0 {
			continue
		}
		raw, err := st.DeadLetterPage(ctx, at, 1)
		if err != nil {
			return nil, dl, err
		}
		if len(raw) == 0 {
			continue
		}
		if whole, err := outbox.DecodeDeadLetter(raw[0]); err == nil && whole.ID == dl.ID && whole.At.Equal(dl.At) && whole.Reason == dl.Reason {
			return raw[0], whole, nil
		}
	}
	return nil, dl, nil
}

// DeadLetterItemURL returns the admin URL of one dead letter under base.
func DeadLetterItemURL(base, id string) string {
	return base + PathDeadLetterItem + "?id=" + url.QueryEscape(id)
}
