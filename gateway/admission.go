package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
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
//
// One sender (its client certificate under mutual TLS, else its address)
// may hold at most perClient of the slots: a sender flooding the doors is
// refused beyond that, and the rest stay open to the others, who would
// otherwise find them full nearly every time they send.
//
// Its early handler refuses before a body is read (early).
type admission struct {
	slots     chan struct{}
	perClient int
	mu        sync.Mutex
	held      map[string]int // slots held, by sender (clientKey)
	// shedding is set while messages are being refused, so that the log
	// has one line when refusing starts and one when it ends; clientShed
	// is the sender refused for its share, likewise ("" when none).
	shedding   atomic.Bool
	clientShed string
	log        *slog.Logger
	// refused counts a message refused for reason (one of the refused*
	// constants below).
	refused func(c *fiber.Ctx, t Transport, reason string)
	// queue bounds how far behind the inbox workers the ebXML door takes
	// new messages (Config.MaxQueueWait); nil: no bound.
	queue *queueBound
	// gc refuses messages, before their bodies are read, while the
	// collector takes too much of the CPU near the memory limit
	// (Config.MaxGCCPUPercent); nil: never.
	gc *gcPressure
}

// Why the doors refused a message as busy
// (porxgate_admission_refusals_total's reason label).
const (
	// refusedInFlight: --max-in-flight messages were in hand.
	refusedInFlight = "in_flight"
	// refusedPerClient: its sender held its share of them.
	refusedPerClient = "per_client"
	// refusedQueueWait: the inbox workers were more than --max-queue-wait
	// behind.
	refusedQueueWait = "queue_wait"
	// refusedGC: the collector took more than --max-gc-cpu-percent of the
	// CPU near the memory limit.
	refusedGC = "gc"
)

// newAdmission returns an admission of max messages at once, perClient of
// them from one sender; max < 1 admits everything, perClient < 1 or at
// least max bounds no sender more than the doors.
func newAdmission(max, perClient int, log *slog.Logger, refused func(c *fiber.Ctx, t Transport, reason string)) *admission {
	a := &admission{log: log, refused: refused}
	if max > 0 {
		a.slots = make(chan struct{}, max)
		if perClient > 0 && perClient < max {
			a.perClient, a.held = perClient, map[string]int{}
		}
	}
	return a
}

// wrap runs next for a message of transport t when a slot is free, and
// the sender holds fewer than its share, and refuses the message
// otherwise.
func (a *admission) wrap(t Transport, next fiber.Handler) fiber.Handler {
	if a.slots == nil {
		return next
	}
	return func(c *fiber.Ctx) error {
		key := ""
		if a.held != nil {
			key = clientKey(c)
			if !a.take(key) {
				return a.refuse(c, t, refusedPerClient, a.perClientText())
			}
			defer a.give(key)
		}
		select {
		case a.slots <- struct{}{}:
		default:
			return a.refuseFull(c, t)
		}
		defer func() { <-a.slots }()
		if a.shedding.Swap(false) {
			a.log.Info("front doors taking messages again")
		}
		return next(c)
	}
}

// early is the front doors' first handler, before the body is read
// (readFrontBody): while every slot is taken, or the sender holds its
// share of them, or the collector takes too much of the CPU near the
// memory limit (gcPressure), a message is refused with the retryable busy
// fault before its body is read, let alone parsed. Refused after reading,
// as before, each refusal cost its body's buffer, and under an offered
// load past capacity the refusals' garbage fed the collector that had
// made the gateway slow: the messages in hand were processed more slowly
// still. The body the refusal leaves unread is thrown away as it arrives
// (fasthttp reads up to 256 KiB of it through a shared buffer and keeps
// the connection); a connection that may close with it unread (a body
// larger, or of no stated length) is marked to close gently
// (unreadRefusal).
//
// A duplicate of a message taken is refused too, as its MessageId is in
// the body: its sender sends it again, and once the pressure eases it is
// acknowledged again, not taken twice. A message refused by the slots'
// bound after its body was read (a slot taken meanwhile) is refused by
// wrap as before.
func (a *admission) early(t Transport) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if a.slots != nil && len(a.slots) == cap(a.slots) {
			unreadRefusal(c)
			return a.refuseFull(c, t)
		}
		if a.held != nil && a.holdsShare(clientKey(c)) {
			unreadRefusal(c)
			return a.refuse(c, t, refusedPerClient, a.perClientText())
		}
		if share, over := a.gc.over(time.Now()); over {
			unreadRefusal(c)
			return a.refuse(c, t, refusedGC, fmt.Sprintf("%d:the gateway is busy (its memory is near its limit, the collector taking %.0f %% of its CPU); send it again",
				NumBusy, share*100))
		}
		return c.Next()
	}
}

// unreadRefusalBytes is the most of a body refused unread that fasthttp
// reads and throws away to keep its connection
// (maxUnreadStreamBodySize in fasthttp's server).
const unreadRefusalBytes = 256 << 10

// unreadRefusal readies c's connection for a refusal sent before its
// body is read: with a body of no stated length, or longer than fasthttp
// throws away, the connection may close with the body unread, and is
// then closed gently (refusedUnread), so that the refusal reaches its
// sender.
func unreadRefusal(c *fiber.Ctx) {
	if n := c.Request().Header.ContentLength(); n < 0 || n > unreadRefusalBytes {
		refusedUnread(c)
	}
}

// refuseFull refuses a message because every slot is taken.
func (a *admission) refuseFull(c *fiber.Ctx, t Transport) error {
	if !a.shedding.Swap(true) {
		a.log.Warn("front doors busy: messages refused with a retryable fault until one in hand is done",
			"max_in_flight", cap(a.slots))
	}
	return a.refuse(c, t, refusedInFlight, fmt.Sprintf("%d:the gateway is busy (%d messages in hand); send it again", NumBusy, cap(a.slots)))
}

// refuse answers the message with the retryable busy fault text, counted
// as refused for reason.
func (a *admission) refuse(c *fiber.Ctx, t Transport, reason, text string) error {
	if a.refused != nil {
		a.refused(c, t, reason)
	}
	return sendFault(c, fault(ebxml.TMSCodeSystemFailure, text))
}

// take counts a slot for the sender key, unless it holds its share
// already (logged when its refusals start).
func (a *admission) take(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sharesHeld(key) {
		return false
	}
	a.held[key]++
	return true
}

// holdsShare says whether the sender key holds its share of the slots
// already (a look, for early: take decides), logged as take logs it.
func (a *admission) holdsShare(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sharesHeld(key)
}

// sharesHeld says whether the sender key holds its share of the slots,
// with a.mu held, and logs when its refusals start.
func (a *admission) sharesHeld(key string) bool {
	if a.held[key] < a.perClient {
		return false
	}
	if a.clientShed != key {
		a.clientShed = key
		a.log.Warn("a sender holds its share of the front doors: its further messages refused with a retryable fault until one in hand is done",
			"sender", clientDescription(key), "max_in_flight_per_client", a.perClient)
	}
	return true
}

// perClientText is the busy fault's text for a sender holding its share.
func (a *admission) perClientText() string {
	return fmt.Sprintf("%d:the gateway is busy (this sender has %d messages in hand); send it again", NumBusy, a.perClient)
}

// give returns a slot of the sender key.
func (a *admission) give(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held[key]--; a.held[key] <= 0 {
		delete(a.held, key)
		if a.clientShed == key {
			a.clientShed = ""
		}
	}
}

// clientKey names the sender of c: its client certificate under mutual
// TLS (whatever address it comes from, a load balancer's included), else
// its IP address.
func clientKey(c *fiber.Ctx) string {
	if cs := c.Context().TLSConnectionState(); cs != nil && len(cs.PeerCertificates) > 0 {
		return "cert:" + cs.PeerCertificates[0].Subject.CommonName + "\x00" + string(cs.PeerCertificates[0].Raw)
	}
	return "ip:" + c.Context().RemoteIP().String()
}

// clientDescription is clientKey for a log: the certificate's common name
// or the address.
func clientDescription(key string) string {
	if rest, ok := strings.CutPrefix(key, "cert:"); ok {
		cn, _, _ := strings.Cut(rest, "\x00")
		return "certificate " + cn
	}
	return strings.TrimPrefix(key, "ip:")
}

// queueWaiter is a store that says how far a queue's workers are behind
// (store.Redis, store.Memory).
type queueWaiter interface {
	QueueWait(ctx context.Context, queue string, now time.Time) (time.Duration, error)
}

// queueWaitFresh is how long a reading of the inbox's wait serves the
// ebXML door before it is read again: one store round trip a tenth of a
// second, whatever the rate of messages.
const queueWaitFresh = 100 * time.Millisecond

// queueBound keeps the ebXML door from acknowledging messages into a
// backlog (Config.MaxQueueWait): while the inbox's workers are behind by
// more than max, new messages are refused with the retryable busy fault.
// Before, the door took every message as fast as it could parse it, and
// under a load it took faster than the workers processed (a closed loop
// of senders against the built-in simulator) the inbox only grew: each
// message acknowledged waited longer than the last for its answer.
type queueBound struct {
	max time.Duration
	st  queueWaiter
	// now is the clock the inbox's due times are written with (the
	// messaging clock, WithClock).
	now func() time.Time
	log *slog.Logger
	// gauge shows each reading (porxgate_inbox_wait_seconds); nil: none.
	gauge prometheus.Gauge

	mu sync.Mutex
	// read is when wait was last read (or is being read), wait what was
	// read.
	read time.Time
	wait time.Duration
	// behind is set while messages are refused, for one log line when
	// refusing starts and one when it ends.
	behind atomic.Bool
}

// newQueueBound returns the bound of max on st's inbox, whose due times
// are of the clock now; nil (no bound) when max is not positive or st
// cannot say how far behind it is.
func newQueueBound(max time.Duration, st store.Store, now func() time.Time, log *slog.Logger, gauge prometheus.Gauge) *queueBound {
	qw, ok := st.(queueWaiter)
	if max <= 0 || !ok {
		return nil
	}
	return &queueBound{max: max, st: qw, now: now, log: log, gauge: gauge}
}

// over returns how long a message ready for an inbox worker has waited,
// read at most queueWaitFresh ago, and whether that is past the bound. A
// reading that fails leaves the last one standing (the store failing, the
// message is refused for that when it is taken).
func (b *queueBound) over(ctx context.Context) (time.Duration, bool) {
	if b == nil {
		return 0, false
	}
	now := time.Now()
	b.mu.Lock()
	wait, stale := b.wait, now.Sub(b.read) >= queueWaitFresh
	if stale {
		b.read = now // one reader at a time; the others take the last reading
	}
	b.mu.Unlock()
	if stale {
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		w, err := b.st.QueueWait(rctx, inboxQueue, b.now())
		cancel()
		if err == nil {
			wait = w
			b.mu.Lock()
			b.wait = w
			b.mu.Unlock()
			if b.gauge != nil {
				b.gauge.Set(w.Seconds())
			}
		}
	}
	over := wait > b.max
	switch {
	case over && !b.behind.Swap(true):
		b.log.Warn("inbox workers behind: new ebXML messages refused with a retryable fault until they catch up",
			"queue_wait_ms", wait.Milliseconds(), "max_queue_wait_ms", b.max.Milliseconds())
	case !over && b.behind.Swap(false):
		b.log.Info("inbox workers caught up: ebXML messages taken again", "queue_wait_ms", wait.Milliseconds())
	}
	return wait, over
}

// refuseBehind refuses a new ebXML message while the inbox workers are
// wait behind: the retryable busy fault, counted as busy.
func (a *admission) refuseBehind(c *fiber.Ctx, wait time.Duration) error {
	return a.refuse(c, TransportEbXML, refusedQueueWait, fmt.Sprintf("%d:the gateway is busy (messages accepted wait %s for processing); send it again",
		NumBusy, wait.Round(100*time.Millisecond)))
}
