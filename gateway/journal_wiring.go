package gateway

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// WithJournal records every exchange in j: the legacy request and the
// answers (through a Processor decorator), each delivery's outcome, and —
// with no routing table — keeps async answers for their party in the
// journal instead of dead-lettering them. nil: no journal.
func WithJournal(j *journal.Journal) Option { return func(o *options) { o.journal = j } }

// OpenJournalStore returns the store the journal is to be kept in: the
// journal's own Redis with --journal-redis (close it when done), else st
// itself, with a close that does nothing. A journal Redis that does not
// answer a PING within 5 s is warned of, not refused: the journal is no
// reason to hold messages up, and its writer drops (and counts) what it
// cannot write until that Redis answers.
func OpenJournalStore(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (store.Store, func() error, error) {
	o, ok := cfg.JournalRedisOptions() // Validate refuses it with a journal in memory or off
	if !ok {
		return st, func() error { return nil }, nil
	}
	r, err := store.OpenRedis(o, store.DefaultPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("journal redis: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pingUntilDone(pctx, r); err != nil && ctx.Err() == nil {
		log.Warn("the journal's Redis (--journal-redis) does not answer: journal events are dropped until it does (porxgate_journal_dropped_total)",
			"journal_redis", redacted(cfg.Journal.Redis), "err", err)
	}
	return r, r.Close, nil
}

// OpenJournal opens the journal the configuration names over st, the
// store OpenJournalStore returned (Redis when it is Redis, unless memory
// is asked for); nil when the journal is off. Run its writer with
// Journal.Run.
func OpenJournal(cfg Config, st store.Store, m *Metrics, log *slog.Logger) *journal.Journal {
	ret := journal.Retention{MaxAge: cfg.Journal.MaxAge, MaxBytes: int64(cfg.Journal.MaxBytes)}
	var b journal.Backend
	switch cfg.Journal.Backend {
	case "off":
		return nil
	case "memory":
		b = journal.NewMemory(ret)
	default:
		if r, ok := st.(*store.Redis); ok {
			b = journal.NewRedis(r.Client(), r.Prefix(), ret, journal.Uncompressed(!cfg.Journal.Compress))
		} else {
			b = journal.NewMemory(ret)
		}
	}
	return journal.New(b, journal.Options{Queue: cfg.Journal.Queue, QueueBytes: journalQueueBytes(debug.SetMemoryLimit(-1)),
		Registry: m.Registry, Log: log.With("component", "journal"), RequestBody: upstream.RequestBody})
}

// journalQueueBytes bounds what the journal's queue may hold under the
// runtime's soft memory limit (debug.SetMemoryLimit; math.MaxInt64 for
// none): an eighth of it, at most journal.DefaultQueueBytes and at least
// 1 MiB. Each message puts about 25 KB of payloads on the queue; at 2,000
// messages a second an eighth of the default 100 MiB holds about 250 ms
// of them, where the writer drains a batch in tens of milliseconds. The
// default alone let a writer fallen behind hold 32 MiB, a third of the
// limit: the collector then ran more often over more live memory, which
// slowed the writer further (about 22 MB of the 66 MB live in an
// overloaded run were the journal's).
func journalQueueBytes(memoryLimit int64) int64 {
	return min(journal.DefaultQueueBytes, max(memoryLimit/8, 1<<20))
}

// journalHooks wires o.journal, when set, into the processor and the
// delivery worker's configuration.
func journalHooks(o *options, wc *outbox.WorkerConfig) {
	j := o.journal
	if j == nil {
		return
	}
	o.processor = journalProcessor{next: o.processor, j: j}
	wc.Report = func(d outbox.Delivery, result, detail string) {
		if result == outbox.ResultKept {
			return // keptAnswer recorded it
		}
		step := &journal.Step{Kind: journal.StepDelivery, Interaction: d.Interaction,
			Title: deliveryTitle(d, result), Note: detail,
			Headers: map[string]string{"eb:MessageId": d.MessageID, "party": d.Party, "attempts": fmt.Sprint(d.Attempts)}}
		if result != outbox.ResultRetry && onlyDelivered(d) {
			step.Body, step.ContentType = answerPayload(d)
		}
		j.Record(journal.Event{Exchange: d.RefToMessageID, IDs: journal.IDs{MessageIDs: []string{d.MessageID}},
			Delivered: result == outbox.ResultDelivered && d.Kind == outbox.KindAnswer, Step: step})
		if result == outbox.ResultDeadLetter && d.Kind == outbox.KindAnswer {
			j.Record(journal.Event{Exchange: d.RefToMessageID, Outcome: &journal.Outcome{Result: journal.OutcomeDeadLetter,
				Text: "the answer could not be delivered: " + detail}})
		}
	}
	wc.Keep = func(ctx context.Context, d outbox.Delivery) error { return keptAnswer(ctx, j, d) }
}

// keptAnswer writes an answer kept for its party (no routing table) into
// the journal at once, with its HL7 payload: an error leaves it to the
// dead letters, so nothing is lost.
func keptAnswer(ctx context.Context, j *journal.Journal, d outbox.Delivery) error {
	body, ct := answerPayload(d)
	return j.RecordNow(ctx, journal.Event{Exchange: d.RefToMessageID, IDs: journal.IDs{MessageIDs: []string{d.MessageID}},
		Step: &journal.Step{Kind: journal.StepDelivery, Interaction: d.Interaction, Title: deliveryTitle(d, outbox.ResultKept),
			Note:        "no routing table is configured (--routes): kept here for party " + d.Party,
			Headers:     map[string]string{"eb:MessageId": d.MessageID, "party": d.Party, "kind": string(d.Kind)},
			ContentType: ct, Body: body}})
}

// answerPayload is the HL7 payload of a delivery and its media type (the
// delivery as it is when it cannot be read).
func answerPayload(d outbox.Delivery) (body, contentType string) {
	if m, err := ebxml.ParseRequest(d.ContentType, d.SOAPAction, d.Body); err == nil && m.Payload != nil {
		return string(m.Payload.Body), m.Payload.ContentType
	}
	return string(d.Body), d.ContentType
}

// onlyDelivered reports whether d is an answer the journal sees only as
// it is delivered: a Subsequent Cancel Response, made when a pending
// cancellation resolves, not by the processing the journal records (whose
// answers are its v3-answer steps). Its delivery, or its dead letter,
// carries its payload, from which the journal reads the exchange's
// outcome, and the page shows it among the answers.
func onlyDelivered(d outbox.Delivery) bool {
	canon, _, err := v3.Canonical(d.Interaction)
	return d.Kind == outbox.KindAnswer && err == nil && canon == v3.SubsequentCancelResponse
}

// journalDeadLetter records that processing gave up on a message and, when
// its sender is told so, what it is sent (told, the delivery's body): the
// MessageError (910009), or answer (PermanentTold).
func (g *messaging) journalDeadLetter(in *Inbound, reason string, told []byte, answer *Answer) {
	out := &journal.Outcome{Result: journal.OutcomeDeadLetter, Text: reason}
	if told != nil && answer == nil {
		out.Code = strconv.Itoa(NumNotProcessed)
	}
	g.journal.Record(journal.Event{Exchange: in.MessageID, Interaction: in.Interaction, Party: partyOf(in),
		Step: &journal.Step{Kind: journal.StepFault, Title: "moved to the dead letters", Note: reason}, Outcome: out})
	if told != nil {
		title := "ebXML MessageError " + strconv.Itoa(NumNotProcessed) + " queued for " + in.FromParty + ": not processed"
		if answer != nil {
			title = answer.Interaction + " queued for " + in.FromParty + ": not processed"
		}
		g.journal.Record(journal.Event{Exchange: in.MessageID, Step: &journal.Step{Kind: journal.StepFault,
			Title: title, ContentType: xmlContentType, Body: string(told)}})
	}
}

// deliveryTitle words a delivery result.
func deliveryTitle(d outbox.Delivery, result string) string {
	switch result {
	case outbox.ResultDelivered:
		return fmt.Sprintf("%s delivered to %s", d.Kind, d.Party)
	case outbox.ResultRetry:
		return fmt.Sprintf("%s delivery to %s failed; will retry", d.Kind, d.Party)
	case outbox.ResultDeadLetter:
		return fmt.Sprintf("%s moved to the dead letters", d.Kind)
	case outbox.ResultKept:
		return fmt.Sprintf("%s kept for %s (no routing table)", d.Kind, d.Party)
	}
	return string(d.Kind) + " " + result
}

// journalProcessor records each message and what the Processor made of it.
type journalProcessor struct {
	next Processor
	j    *journal.Journal
}

// unwrap gives the Processor under the journal's.
func (p journalProcessor) unwrap() Processor { return p.next }

// Supports implements Processor.
func (p journalProcessor) Supports(interaction string) bool { return p.next.Supports(interaction) }

// Process implements Processor: it journals the legacy request, calls the
// next Processor and journals its answers or its error. Recording never
// waits. Of a message waiting out an EPS outage it journals the tries
// journalsTry names, and the one that ends the wait (ctx says how many
// times it was deferred before: withDeferrals).
func (p journalProcessor) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	deferrals := deferralsOf(ctx)
	request := func(at time.Time) {
		p.j.Record(journal.Event{Exchange: in.MessageID, At: in.ReceivedAt, Interaction: in.Interaction,
			Transport: string(in.Transport), Party: partyOf(in),
			IDs: journal.IDs{MessageIDs: []string{in.MessageID}, ConversationID: in.ConversationID, RefToMessageIDs: nonEmpty(in.RefToMessageID)},
			// The exchange starts when the message was received; this step is
			// this processing attempt's (a retry records the request again,
			// the journal its payload once: journal.RepeatNote).
			Step: &journal.Step{At: at, Kind: journal.StepLegacyRequest, Interaction: in.Interaction, Title: "legacy request over " + string(in.Transport),
				Headers: transportHeaders(in), ContentType: "application/xml", Body: journal.Payload(in.Payload)}})
		for _, a := range in.Attachments {
			p.j.Record(journal.Event{Exchange: in.MessageID, Step: attachmentStep(a, at)})
		}
	}
	start := time.Now()
	kept := journalsTry(deferrals)
	if kept {
		request(start)
	}
	out, err := p.next.Process(journal.WithExchange(ctx, in.MessageID), in)
	if !kept {
		if IsDeferred(err) && !IsPermanent(err) {
			return out, err // deferred once more: not journalled
		}
		request(start)
	}
	recordOutcome(p.j, in, out, err, time.Since(start), deferrals)
	return out, err
}

// journalsTry says whether the journal keeps the try of a message made
// after deferrals deferrals (each a try that found EPS unavailable): its
// first journalFirstTries, then every journalEveryTry-th. Each try added
// two steps to its exchange (about 1 KB): a message waiting out an hour's
// outage, tried every 5 s, added 1,440 steps and 680 KB, and 400 such
// filled the journal's 256 MiB, whose size cap then dropped every other
// exchange it kept.
func journalsTry(deferrals int) bool {
	return deferrals < journalFirstTries || deferrals%journalEveryTry == 0
}

// attachmentStep is the journal step of an attachment the legacy request
// carried beyond its payload: its bytes as text when they are UTF-8, else
// in base64 (a Content-Transfer-Encoding header says so).
func attachmentStep(a Attachment, at time.Time) *journal.Step {
	st := &journal.Step{At: at, Kind: journal.StepLegacyRequest,
		Title:       "legacy request attachment <" + a.ContentID + ">, kept here: EPS takes no attachments",
		ContentType: a.ContentType, Body: string(a.Body)}
	if !utf8.Valid(a.Body) {
		st.Headers = map[string]string{"Content-Transfer-Encoding": "base64"}
		st.Body = base64.StdEncoding.EncodeToString(a.Body)
	}
	return st
}

// recordOutcome journals what processing in gave, on the try made after
// deferrals deferrals.
func recordOutcome(j *journal.Journal, in *Inbound, out *Outcome, err error, took time.Duration, deferrals int) {
	id := in.MessageID
	if err != nil {
		note, result := "processing failed; it will be retried", journal.OutcomeInProgress
		switch {
		case IsDeferred(err) && !IsPermanent(err):
			note = "EPS unavailable (unreachable, failing or its circuit breaker open): the message waits in the store and is tried again"
			if deferrals+1 >= journalFirstTries {
				note += fmt.Sprintf(" (try %d; the journal keeps a waiting message's first %d tries, then every %dth, and the one that ends the wait)",
					deferrals+1, journalFirstTries, journalEveryTry)
			}
		case IsPermanent(err):
			note, result = "processing failed permanently: moved to the dead letters", "dead-letter"
		}
		j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepFault, Title: note, Note: err.Error(), TookMS: took.Milliseconds()},
			Outcome: &journal.Outcome{Result: result, Text: note + ": " + err.Error()}})
		return
	}
	if out == nil {
		return
	}
	where := "queued for async delivery to " + in.FromParty
	if in.Transport == TransportSOAP {
		where = "answered in the HTTP response"
	}
	answers := out.Answers
	if out.Reply != nil {
		answers = append(answers[:len(answers):len(answers)], *out.Reply)
	}
	for _, a := range answers {
		j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepV3Answer, Interaction: a.Interaction,
			Title: a.Interaction + " " + where, ContentType: "application/xml", Body: journal.Payload(a.Payload), TookMS: took.Milliseconds()}})
	}
	if out.Fault != nil {
		text := faultText(out.Fault)
		j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepFault, Title: "SOAP fault answered", Note: text},
			Outcome: &journal.Outcome{Result: "error", Code: firstFaultCode(out.Fault), Text: text}})
	}
	if out.MessageError != nil {
		text := out.MessageError.Description()
		j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepFault, Title: "ebXML MessageError queued", Note: text},
			Outcome: &journal.Outcome{Result: "refused", Code: string(out.MessageError.Code), Text: text}})
	}
}

// firstFaultCode returns a SOAP fault's first Spine error code.
func firstFaultCode(f *ebxml.SOAPFault) string {
	if len(f.Errors) == 0 {
		return ""
	}
	return f.Errors[0].Code
}

// partyOf names the sender: its party key, or its ASID over SOAP.
func partyOf(in *Inbound) string {
	if in.FromParty != "" {
		return in.FromParty
	}
	return in.FromASID
}

// transportHeaders are the transport fields of a legacy request worth keeping.
func transportHeaders(in *Inbound) map[string]string {
	h := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			h[k] = v
		}
	}
	set("transport", string(in.Transport))
	set("service", in.Service)
	set("action", in.Interaction)
	set("MessageId", in.MessageID)
	set("ConversationId", in.ConversationID)
	set("RefToMessageId", in.RefToMessageID)
	set("From party", in.FromParty)
	set("To party", in.ToParty)
	set("CPAId", in.CPAID)
	set("From ASID", in.FromASID)
	set("To ASID", in.ToASID)
	set("From address", in.FromAddress)
	set("To address", in.ToAddress)
	return h
}

// nonEmpty returns v as a one-element list, or nil when empty.
func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// How the journal keeps the tries of a message waiting out an EPS outage
// (tried every few seconds, each try two steps): its first
// journalFirstTries, then every journalEveryTry-th, and the one that ends
// the wait.
const (
	journalFirstTries = 10
	journalEveryTry   = 60
)

// deferralsKey is the context key of withDeferrals.
type deferralsKey struct{}

// withDeferrals returns ctx saying that the message it processes was
// deferred n times before (inboxEntry.Deferrals).
func withDeferrals(ctx context.Context, n int) context.Context {
	if n == 0 {
		return ctx
	}
	return context.WithValue(ctx, deferralsKey{}, n)
}

// deferralsOf returns what withDeferrals put in ctx, 0 when nothing.
func deferralsOf(ctx context.Context) int {
	n, _ := ctx.Value(deferralsKey{}).(int)
	return n
}
