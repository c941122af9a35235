package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/retry"
)

// maxProcessBackoff caps the wait between processing retries.
const maxProcessBackoff = 15 * time.Minute

// inboxEntry is an accepted ebXML message waiting in the inbox.
type inboxEntry struct {
	// Inbound is the message.
	Inbound Inbound `json:"inbound"`
	// Attempts counts the failed processing attempts.
	Attempts int `json:"attempts,omitempty"`
	// LastError says why the last attempt failed.
	LastError string `json:"lastError,omitempty"`
	// Answered5xx counts EPS's failures of the message running (5xx
	// answers, or none: see Config.PoisonAfter), since First5xxAt.
	Answered5xx int       `json:"answered5xx,omitempty"`
	First5xxAt  time.Time `json:"first5xxAt,omitzero"`
	// Deferrals counts the times it waited because EPS (or the store) was
	// unavailable; only the first is logged at warn.
	Deferrals int `json:"deferrals,omitempty"`
}

// item returns the store item that queues e, due at due. Its id is
// inboxItemID's, like the duplicate-elimination key; an
// ebXML message's item records its sender's party (upper case, as its
// mark does), so that another party's message under the same MessageId is
// told from it while it waits, whether the door queued it or a dead letter
// was resent.
func (e inboxEntry) item(due time.Time) (store.Item, error) {
	head := e
	head.Inbound.Payload = nil
	b, err := outbox.Encode(e, head, e.Inbound.Payload)
	if err != nil {
		return store.Item{}, fmt.Errorf("encode inbox entry %s: %w", e.Inbound.MessageID, err)
	}
	it := store.Item{Queue: inboxQueue, ID: inboxItemID(e.Inbound.Interaction, e.Inbound.MessageID), Data: b, Due: due}
	if e.Inbound.Transport == TransportEbXML {
		it.Party = strings.ToUpper(e.Inbound.FromParty)
	}
	return it, nil
}

// decodeInboxEntry reads an inbox entry as item wrote it (or as JSON
// alone, as porxgate wrote it before).
func decodeInboxEntry(b []byte) (inboxEntry, error) {
	var e inboxEntry
	payload, framed, err := outbox.Unframe(b, &e)
	if err != nil {
		return inboxEntry{}, err
	}
	if framed {
		e.Inbound.Payload = payload
	}
	return e, nil
}

// entryJSON is a queued inbox entry as JSON alone, as a dead letter keeps
// it (nil when unreadable).
func entryJSON(b []byte) json.RawMessage {
	e, err := decodeInboxEntry(b)
	if err != nil {
		return nil
	}
	j, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	return j
}

// processBackoff is the wait after the n-th failed attempt: the retry
// interval doubled n-1 times, at most maxProcessBackoff.
func processBackoff(base time.Duration, n int) time.Duration {
	return retry.Exponential{First: base, Max: maxProcessBackoff}.Nth(n)
}

// processOne claims one accepted message from the inbox, runs it through
// the Processor and queues its answers in the outbox, in the same store
// step that removes it from the inbox. It reports whether to look for the
// next at once: when another message was waiting as this one was claimed
// (store.Lease.More), and then another worker is woken for it too; else
// the worker waits to be woken (by a message accepted) or for its pool's
// poll tick (outbox.Loop). With a store.CompleteClaimer that step claims
// the next message too when another was waiting, which this worker then
// processes: one round trip to the store fewer per message while messages
// wait.
func (g *messaging) processOne(ctx context.Context) bool { return g.processUntil(ctx, ctx) }

// processUntil is processOne in a worker pool that stops when pool is
// done: from then on no next message is claimed with the completion of
// one (a step started before keeps its working context, ctx, for the
// grace period: outbox.Loop).
func (g *messaging) processUntil(pool, ctx context.Context) bool {
	now := g.now()
	l, err := g.store.Claim(ctx, inboxQueue, now, g.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			g.claimFailures.Failed(g.log, inboxQueue, err)
		}
		return false
	}
	g.claimFailures.Succeeded(g.log, inboxQueue)
	if l == nil {
		return false
	}
	for {
		if l.More { // another worker for the next one
			g.wakeInbox()
		}
		next, asked := g.processLease(pool, ctx, l, now)
		if !asked {
			return l.More
		}
		if next == nil { // nothing more due
			return false
		}
		l, now = next, g.now()
	}
}

// processLease is processOne's work on the message claimed (l) at now. It
// returns the next message, claimed as this one was completed, and
// whether it was asked for (claimsNext; not once its pool stops, pool
// done): when it was, a nil next means none was due; when not, the
// caller claims the next itself.
func (g *messaging) processLease(pool, ctx context.Context, l *store.Lease, now time.Time) (next *store.Lease, asked bool) {
	e, err := decodeInboxEntry(l.Data)
	if err != nil {
		// The item's id (inboxEntry.item) still names the message.
		in := Inbound{MessageID: l.ID}
		if interaction, id, ok := strings.Cut(l.ID, ":"); ok {
			in.Interaction, in.MessageID = interaction, id
		}
		g.deadLetter(ctx, l, inboxEntry{Inbound: in}, fmt.Sprintf("unreadable inbox entry: %v", err), now)
		return nil, false
	}
	return g.processEntry(pool, ctx, l, e, now)
}

// processHanded is the inbox handoff's work (outbox.Handoff): a message
// queued already claimed for an idle worker (l), handed with the entry it
// was queued from (decoded, an inboxEntry) by the door that accepted it,
// which is then processed without decoding l's data; handed without one,
// the data is decoded as a claimed message's is. There is no next message
// to claim (Lease.More is false).
func (g *messaging) processHanded(ctx context.Context, l *store.Lease, decoded any) {
	if e, ok := decoded.(inboxEntry); ok {
		g.processEntry(ctx, ctx, l, e, g.now())
		return
	}
	g.processLease(ctx, ctx, l, g.now())
}

// processEntry is processLease once the entry l holds (e) is read.
func (g *messaging) processEntry(pool, ctx context.Context, l *store.Lease, e inboxEntry, now time.Time) (next *store.Lease, asked bool) {
	log := lazyInboundLog(g.log, &e.Inbound)
	stop := outbox.Hold(ctx, g.store, l, g.cfg.Lease, g.now)
	start := time.Now()
	out, perr := g.safeProcess(withDeferrals(withCorrelation(ctx, &e.Inbound), e.Deferrals), &e.Inbound)
	stop()
	now = g.now()
	sctx, cancel := storeCtx(ctx)
	defer cancel()

	var f store.Finish
	var queued []outbox.Delivery // what f.Enqueue's items are made from
	if perr == nil {
		f.Enqueue, queued, perr = g.outcomeItems(&e.Inbound, out, now)
		perr = Permanent(perr) // an answer that cannot be built will not build next time either
	}
	if perr != nil {
		if ctx.Err() != nil { // stopped in mid-work: try again at once, not counted
			_ = g.store.Retry(sctx, l, l.Data, now)
			return nil, false
		}
		if IsDeferred(perr) && !IsPermanent(perr) {
			if reason, poisoned := g.poisoned(&e, perr, now); poisoned {
				log().Error("message goes to the dead letters: EPS fails it (5xx or no answer) every time while it answers others", "answers_5xx", e.Answered5xx,
					"since", e.First5xxAt.UTC().Format(time.RFC3339), "err", perr)
				g.deadLetter(ctx, l, e, reason, now)
				return nil, false
			}
			g.defer_(sctx, log, l, e, perr, now)
			return nil, false
		}
		e.Attempts++
		e.LastError = perr.Error()
		if IsPermanent(perr) || e.Attempts > g.cfg.ProcessRetries {
			reason := fmt.Sprintf("processing failed after %d attempts: %v", e.Attempts, perr)
			if IsPermanent(perr) {
				reason = permanentReason(perr)
			}
			g.deadLetterTold(ctx, l, e, reason, toldOf(perr), now)
			return nil, false
		}
		next := now.Add(processBackoff(g.cfg.ProcessRetryInterval, e.Attempts))
		it, err := e.item(next)
		if err == nil {
			err = g.store.Retry(sctx, l, it.Data, next)
		}
		if err != nil {
			log().Warn("processing failed and could not be rescheduled; retried when the lease runs out", "attempts", e.Attempts, "err", err)
			return nil, false
		}
		log().Warn("processing failed; will retry", "attempts", e.Attempts, "next", next.UTC().Format(time.RFC3339), "err", perr)
		g.metrics.processed.WithLabelValues("retry").Inc()
		return nil, false
	}
	asked = g.claimsNext(pool, l)
	handed, next, err := g.complete(sctx, l, f, queued, now, asked)
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			log().Warn("processed, but another worker took the message over; its answers are left to that worker", "err", err)
		} else {
			log().Error("processed, but the answers could not be stored; processed again when the lease runs out", "err", err)
		}
		return nil, false
	}
	if len(f.Enqueue) > 1 || len(f.Enqueue) == 1 && !handed {
		g.delivery.Wake() // answers not handed to a delivery worker wait in the outbox
	}
	if g.log.Enabled(ctx, slog.LevelInfo) { // the outcome's fields cost a little to gather
		log().Info("processed", append(outcomeArgs(out), "answers", len(f.Enqueue), "attempts", e.Attempts+1,
			"duration_ms", time.Since(start).Milliseconds(), "since_received_ms", sinceMS(e.Inbound.ReceivedAt, now))...)
	}
	g.metrics.processed.WithLabelValues("done").Inc()
	g.metrics.exchange(e.Inbound.Interaction, exchangeOutcome(out), e.Inbound.ReceivedAt, now)
	g.answered.note(e.Inbound.Interaction, now)
	return next, asked
}

// claimsNext reports whether the step that completes l claims the next
// message of the inbox too (store.CompleteClaimer): when another was due
// as l was claimed, and the worker's pool is not stopping (pool done).
func (g *messaging) claimsNext(pool context.Context, l *store.Lease) bool {
	_, ok := g.store.(store.CompleteClaimer)
	return ok && l.More && pool.Err() == nil
}

// complete completes a processed message, queueing its answers (f, made
// from the deliveries queued, in order). When a delivery worker is idle
// the first answer is queued already claimed for it and handed to it with
// its delivery (outbox.Handoff.GiveDecoded), so that it neither claims it
// from the store nor decodes it; handed says whether it was. With claim
// (claimsNext) the same step claims the next message of the inbox at now,
// returned as next.
func (g *messaging) complete(ctx context.Context, l *store.Lease, f store.Finish, queued []outbox.Delivery, now time.Time, claim bool) (handed bool, next *store.Lease, err error) {
	h := g.delivery.Handoff()
	if len(f.Enqueue) == 0 || !h.Reserve() {
		next, err = g.finish(ctx, l, f, now, claim)
		return false, next, err
	}
	// The reservation is given (or given back) whatever happens, a panic
	// included: the delivery worker reserved waits for it.
	given := false
	defer func() {
		if !given {
			h.Give(nil)
		}
	}()
	held := slices.Clone(f.Enqueue) // the caller's items stay as queued unclaimed
	held[0].Token, held[0].Due = ids.NewUUID(), now.Add(g.cfg.Lease)
	fh := f // all of f (a dead letter and its head included), its first item held
	fh.Enqueue = held
	next, err = g.finish(ctx, l, fh, now, claim)
	given = true
	if err == nil {
		h.GiveDecoded(held[0].HeldLease(), queued[0])
		return true, next, nil
	}
	h.Give(nil)
	if errors.Is(err, store.ErrHeldQueued) { // an answer id taken: queue it as usual
		next, err = g.finish(ctx, l, f, now, claim)
	}
	return false, next, err
}

// finish completes l, writing f; with claim it claims the next message of
// the inbox at now in the same step (store.CompleteClaimer).
func (g *messaging) finish(ctx context.Context, l *store.Lease, f store.Finish, now time.Time, claim bool) (*store.Lease, error) {
	if cc, ok := g.store.(store.CompleteClaimer); ok && claim {
		return cc.CompleteClaim(ctx, l, f, now, g.cfg.Lease)
	}
	return nil, g.store.Complete(ctx, l, f)
}

// poisoned counts an EPS failure of e (perr, deferred: a 5xx answer, or
// none at all, after the upstream client's retries) and says whether e has
// become a poison message (Config.PoisonAfter): failed PoisonAfter times
// running, the first at least PoisonMinAge ago, while EPS answered another
// message of its interaction since then (so EPS is not down for all). A
// deferral for any other reason (an open breaker, the store) leaves the
// count as it is. A message whose every call has its connection reset or
// times out while others are answered (a proxy or EPS itself failing on
// it) counts too: before, it waited for ever, an EPS call every few
// seconds, its sender never answered.
func (g *messaging) poisoned(e *inboxEntry, perr error, now time.Time) (string, bool) {
	if !upstreamFailedMessage(perr) {
		return "", false
	}
	if e.Answered5xx == 0 {
		e.First5xxAt = now
	}
	e.Answered5xx++
	after := g.cfg.PoisonAfter
	if after <= 0 || e.Answered5xx < after || now.Sub(e.First5xxAt) < g.cfg.PoisonMinAge ||
		!g.answered.since(e.Inbound.Interaction, e.First5xxAt) {
		return "", false
	}
	return fmt.Sprintf("EPS failed the message (a 5xx answer, or none) %d times running since %s while it answered other %s messages: %v",
		e.Answered5xx, e.First5xxAt.UTC().Format(time.RFC3339), e.Inbound.Interaction, perr), true
}

// defer_ puts a message back in the inbox without counting an attempt: the
// upstream (or the store) is unavailable, not the message at fault. It is
// tried again after the breaker's open period (when the breaker next lets
// a probe through), at most the retry interval, so that the inbox drains
// within seconds of EPS recovering; but not before the time EPS's last
// answer asked for with its Retry-After (a 429 or 503 whose wait the
// upstream client could not take within the call: upstream.NotBefore).
func (g *messaging) defer_(ctx context.Context, log func() *slog.Logger, l *store.Lease, e inboxEntry, perr error, now time.Time) {
	e.LastError = perr.Error()
	e.Deferrals++
	wait := g.cfg.ProcessRetryInterval
	if g.cfg.BreakerOpen > 0 {
		wait = min(wait, g.cfg.BreakerOpen)
	}
	if nb := upstream.NotBefore(perr); !nb.IsZero() {
		wait = max(wait, time.Until(nb))
	}
	next := now.Add(wait)
	it, err := e.item(next)
	if err == nil {
		err = g.store.Retry(ctx, l, it.Data, next)
	}
	if err != nil {
		log().Warn("upstream unavailable and the message could not be rescheduled; retried when the lease runs out", "err", err)
		return
	}
	// A message waits out an EPS outage with a retry every few seconds:
	// the first deferral is its warn line, the later ones are debug (the
	// breaker's state changes and the queue depth tell the outage).
	level := slog.LevelWarn
	if e.Deferrals > 1 {
		level = slog.LevelDebug
	}
	if g.log.Enabled(ctx, level) {
		log().Log(ctx, level, "upstream unavailable; message waits in the store", "deferrals", e.Deferrals,
			"next", next.UTC().Format(time.RFC3339), "err", perr)
	}
	g.metrics.processed.WithLabelValues("deferred").Inc()
}

// safeProcess calls the Processor, turning a panic into a permanent error.
func (g *messaging) safeProcess(ctx context.Context, in *Inbound) (out *Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("processor panicked: %v", r))
		}
	}()
	return g.proc.Process(ctx, in)
}

// addressing returns how async messages answering in are addressed: back
// to the sender, with the CPA id of its route when it has one.
func (g *messaging) addressing(in *Inbound) outbox.Addressing {
	cpa := in.CPAID
	if rt, ok := g.routes.Lookup(in.FromParty); ok && rt.CPAID != "" {
		cpa = rt.CPAID
	}
	return outbox.Addressing{
		OurParty: in.ToParty, TheirParty: in.FromParty, CPAID: cpa,
		ConversationID: in.ConversationID, RefToMessageID: in.MessageID,
	}
}

// outcomeItems builds the outbox items of an ebXML message's outcome: one
// async message per answer (the Reply too, if set) and an async
// eb:MessageError for a refusal; each item's delivery beside it.
func (g *messaging) outcomeItems(in *Inbound, out *Outcome, now time.Time) ([]store.Item, []outbox.Delivery, error) {
	if out == nil {
		return nil, nil, nil
	}
	addr := g.addressing(in)
	answers := out.Answers
	if out.Reply != nil {
		answers = append(answers[:len(answers):len(answers)], *out.Reply)
	}
	var ds []outbox.Delivery
	for _, a := range answers {
		d, err := outbox.NewAnswer(addr, a.Interaction, a.Payload, g.newID(), now)
		if err != nil {
			return nil, nil, err
		}
		d.Released = a.Released
		ds = append(ds, d)
	}
	me := out.MessageError
	if me == nil && out.Fault != nil {
		me = ebxml.NewMessageError(ebxml.CodeUnknown, 0, faultText(out.Fault))
	}
	if me != nil {
		d, err := outbox.NewMessageError(addr, g.newID(), now, me)
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, d)
	}
	items := make([]store.Item, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		d.TraceParent = in.TraceParent // each delivery attempt is a span of the exchange
		d.RequestInteraction = in.Interaction
		it, err := d.Item(now)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
	}
	return items, ds, nil
}

// faultText flattens a SOAP fault's errors into one description.
func faultText(f *ebxml.SOAPFault) string {
	if len(f.Errors) == 0 {
		return f.FaultString
	}
	e := f.Errors[0]
	return e.Code + ":" + e.Description
}

// deadLetter removes a leased inbox entry and records it as a dead letter;
// its sender gets the MessageError NumNotProcessed.
func (g *messaging) deadLetter(ctx context.Context, l *store.Lease, e inboxEntry, reason string, now time.Time) {
	g.deadLetterTold(ctx, l, e, reason, nil, now)
}

// deadLetterTold is deadLetter with the answer the sender is told by in
// place of the MessageError (PermanentTold); nil: the MessageError.
func (g *messaging) deadLetterTold(ctx context.Context, l *store.Lease, e inboxEntry, reason string, answer *Answer, now time.Time) {
	in := e.Inbound
	dl := outbox.DeadLetter{
		At: now, Stage: outbox.StageProcessing, MessageID: in.MessageID, ConversationID: in.ConversationID,
		Interaction: in.Interaction, Party: in.FromParty, Attempts: e.Attempts, Reason: reason,
		ContentType: "application/xml", Body: in.Payload, Entry: entryJSON(l.Data),
	}
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	log := inboundLog(g.log, &in)
	if n, ok := underlying[DeadLetterNoter](g.proc); ok {
		if err := n.NoteDeadLetter(sctx, &in); err != nil {
			log.Warn("could not move to the dead letters (what it leaves owed could not be noted); tried again when the lease runs out", "reason", reason, "err", err)
			return
		}
	}
	// The sender was acknowledged: it is told, in the same store step, that
	// the message was not processed (an async eb:MessageError referring to
	// it, or the answer Spine refuses such a message with), never left to
	// wait for an answer that will not come.
	f := dl.Finish()
	var told []byte // what the sender gets, for the journal
	if in.MessageID != "" && in.FromParty != "" {
		var d outbox.Delivery
		var err error
		if answer != nil {
			d, err = outbox.NewAnswer(g.addressing(&in), answer.Interaction, answer.Payload, g.newID(), now)
		} else {
			d, err = outbox.NewMessageError(g.addressing(&in), g.newID(), now, notProcessed(reason))
		}
		if err == nil {
			var it store.Item
			d.TraceParent, d.RequestInteraction = in.TraceParent, in.Interaction
			if it, err = d.Item(now); err == nil {
				f.Enqueue, told = append(f.Enqueue, it), d.Body
			}
		}
		if err != nil {
			log.Warn("the sender cannot be told its message was not processed", "err", err)
		}
	}
	if err := g.store.Complete(sctx, l, f); err != nil {
		if !errors.Is(err, store.ErrLeaseLost) {
			log.Warn("could not move to the dead letters; tried again when the lease runs out", "reason", reason, "err", err)
		}
		return
	}
	if len(f.Enqueue) > 0 {
		g.delivery.Wake()
	}
	if answer != nil {
		log.Error("not processed: moved to the dead letters; the sender gets the refusal Spine answers such a message with", "outcome", OutcomeDeadLetter,
			"outcome_text", "not processed", "answer", answer.Interaction, "attempts", e.Attempts, "reason", reason)
	} else {
		log.Error("not processed: moved to the dead letters; the sender gets a MessageError", "outcome", OutcomeDeadLetter,
			"outcome_code", strconv.Itoa(NumNotProcessed), "outcome_text", "not processed", "attempts", e.Attempts, "reason", reason)
	}
	g.journalDeadLetter(&in, reason, told, answer)
	g.compareDeadLettered(ctx, &in, reason)
	g.metrics.processed.WithLabelValues("dead_letter").Inc()
	g.metrics.exchange(in.Interaction, OutcomeDeadLetter, in.ReceivedAt, g.now())
}

// sinceMS is the milliseconds from t (a message's acceptance) to now, 0
// when t is not known.
func sinceMS(t, now time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t), 0).Milliseconds()
}

// truncate shortens s to at most n bytes (on a rune boundary), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// storeCtx returns a context for recording an outcome: ctx, or a short one
// of its own when ctx is already cancelled (the worker is stopping).
func storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// answeredLog keeps, per interaction, when this replica last had a message
// processed through to its answer: the evidence that EPS answers that
// interaction, which poisoned asks for before blaming one message.
type answeredLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// note records that a message of interaction was processed at t.
func (a *answeredLog) note(interaction string, t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last = make(map[string]time.Time)
	}
	if t.After(a.last[interaction]) {
		a.last[interaction] = t
	}
}

// since reports whether a message of interaction was processed after t.
func (a *answeredLog) since(interaction string, t time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last[interaction].After(t)
}

// permanentReason is the dead-letter reason of a message whose processing
// failed permanently with err.
func permanentReason(err error) string {
	return fmt.Sprintf("processing failed permanently: %v", err)
}

// notProcessed is the eb:MessageError the sender of an acknowledged
// message gets when it goes to the dead letters for reason.
func notProcessed(reason string) *ebxml.MessageError {
	return ebxml.NewMessageError(ebxml.CodeUnknown, NumNotProcessed, "the message could not be processed and was not passed on: "+truncate(reason, 300))
}
