// Package logctx carries an exchange's correlation fields (message_id,
// conversation_id, interaction, party, transport) in its context, and
// wraps a slog handler so that every line logged with that context — by
// the front door, the processor, the EPS client, the delivery worker —
// carries them. The handler also keeps each key once per line, the last
// value given winning, so a logger derived twice with "component" (or a
// line repeating a correlation field) never writes a key twice; and it
// keeps patient identifiers out of every line: NHS numbers out of every
// text, quoted values out of error and outcome texts (redact.go).
// Repeats holds back the lines a library repeats word for word while a
// dependency is down.
package logctx

import (
	"context"
	"log/slog"
	"slices"
)

// The correlation keys every line of an exchange carries.
const (
	// KeyMessageID is the legacy request's MessageId (eb:MessageId or
	// wsa:MessageID without "uuid:").
	KeyMessageID = "message_id"
	// KeyConversationID is eb:ConversationId (ebXML only).
	KeyConversationID = "conversation_id"
	// KeyInteraction is the request's interaction id as sent.
	KeyInteraction = "interaction"
	// KeyParty is the sender: its eb:PartyId over ebXML, its ASID over SOAP.
	KeyParty = "party"
	// KeyTransport is the front door: ebxml or soap.
	KeyTransport = "transport"
	// KeyOTelTraceID is the OpenTelemetry trace id of the exchange, when
	// traced: the key to its trace in the tracing backend. ("trace_id"
	// is the Tracker API's Eps-TraceId.)
	KeyOTelTraceID = "otel_trace_id"
)

type ctxKey struct{}

// With returns ctx carrying attrs as well as those it carries already (an
// attribute of the same key replaces the earlier one). Empty string
// values are left out.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	cur, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	// Room for all from the start: grown attribute by attribute, the
	// slice was allocated four times over for an exchange's eight fields.
	next := append(make([]slog.Attr, 0, len(cur)+len(attrs)), cur...)
	for _, a := range attrs {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			continue
		}
		next = setAttr(next, a)
	}
	return context.WithValue(ctx, ctxKey{}, next)
}

// Attrs returns the correlation attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	a, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	return a
}

// Args returns the attributes ctx carries as logger arguments.
func Args(ctx context.Context) []any {
	attrs := Attrs(ctx)
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}

// setAttr sets a in attrs, replacing an attribute of the same key.
func setAttr(attrs []slog.Attr, a slog.Attr) []slog.Attr {
	for i := range attrs {
		if attrs[i].Key == a.Key {
			attrs[i] = a
			return attrs
		}
	}
	return append(attrs, a)
}

// Wrap returns log with its handler wrapped by Handler (log itself when
// it is wrapped already); nil stays nil.
func Wrap(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	if _, ok := log.Handler().(*handler); ok {
		return log
	}
	return slog.New(Handler(log.Handler()))
}

// Handler wraps next: each record gets the correlation attributes of its
// context, and each top-level key appears once (the record's own value,
// else the latest With, else the context's).
func Handler(next slog.Handler) slog.Handler {
	return &handler{next: next}
}

// handler keeps the attributes given to WithAttrs (until a group is opened)
// and writes them, deduplicated, with each record.
type handler struct {
	next  slog.Handler
	attrs []slog.Attr
	// grouped: a group was opened; later attributes go to next directly.
	grouped bool
}

// Enabled implements slog.Handler.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.grouped {
		return &handler{next: h.next.WithAttrs(redactAttrs(attrs)), grouped: true}
	}
	next := slices.Clone(h.attrs)
	for _, a := range attrs {
		next = setAttr(next, a)
	}
	return &handler{next: h.next, attrs: next}
}

// WithGroup implements slog.Handler.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := h.next
	if len(h.attrs) > 0 {
		n = n.WithAttrs(redactAttrs(h.attrs))
	}
	return &handler{next: n.WithGroup(name), grouped: true}
}

// Handle implements slog.Handler.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if h.grouped {
		out := slog.NewRecord(r.Time, r.Level, RedactText(r.Message), r.PC)
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(redactAttr(a))
			return true
		})
		return h.next.Handle(ctx, out)
	}
	var merged []slog.Attr
	for _, a := range Attrs(ctx) {
		merged = setAttr(merged, a)
	}
	for _, a := range h.attrs {
		merged = setAttr(merged, a)
	}
	r.Attrs(func(a slog.Attr) bool {
		merged = setAttr(merged, a)
		return true
	})
	out := slog.NewRecord(r.Time, r.Level, RedactText(r.Message), r.PC)
	for _, a := range merged {
		out.AddAttrs(redactAttr(a))
	}
	return h.next.Handle(ctx, out)
}
