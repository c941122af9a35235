package gateway

import (
	"context"
	"errors"
	"regexp"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/tracing"
)

// tracedProcessor gives every processing of a message a span, a child of
// the exchange's front-door span (tracing_ingress.go): the mapping runs
// inside it and each EPS call is a child span (the upstream client traces
// attempts and sends traceparent).
type tracedProcessor struct {
	next   Processor
	tracer trace.Tracer
}

// TraceProcessor wraps p so that each Process is an OpenTelemetry span
// "process <interaction>" carrying the legacy MessageId, ConversationId,
// interaction, transport, sender and the prescription id when the payload
// names one. A nil tp returns p unchanged.
func TraceProcessor(p Processor, tp trace.TracerProvider) Processor {
	if tp == nil {
		return p
	}
	return tracedProcessor{next: p, tracer: tracing.Tracer(tp)}
}

// unwrap gives the Processor traced.
func (t tracedProcessor) unwrap() Processor { return t.next }

// Supports implements Processor.
func (t tracedProcessor) Supports(interaction string) bool { return t.next.Supports(interaction) }

// Process implements Processor. The span is a child of the exchange's
// front-door span: of the span in ctx (SOAP, processed in the request), or
// else of in.TraceParent, kept with the message in the store (ebXML,
// processed later by whichever replica claims it).
func (t tracedProcessor) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = tracing.WithTraceParent(ctx, in.TraceParent)
	}
	ctx, span := t.tracer.Start(ctx, "process "+in.Interaction, trace.WithAttributes(exchangeAttributes(in)...))
	defer span.End()
	defer func() {
		if r := recover(); r != nil { // failed, then the caller's recover (safeProcess) takes the panic
			span.SetStatus(codes.Error, "processor panicked")
			span.SetAttributes(attribute.Bool("porx.permanent", true))
			panic(r)
		}
	}()
	out, err := t.next.Process(ctx, in)
	switch {
	case err != nil:
		// The error's text as the logs have it: a mapping error quotes the
		// payload's value, which may be the patient's (logctx.RedactFreeText).
		text := logctx.RedactFreeText(err.Error())
		span.RecordError(errors.New(text))
		span.SetAttributes(attribute.Bool("porx.deferred", IsDeferred(err)), attribute.Bool("porx.permanent", IsPermanent(err)))
		span.SetStatus(codes.Error, text)
	default:
		span.SetAttributes(attribute.String("porx.outcome", exchangeOutcome(out)))
	}
	return out, err
}

// exchangeAttributes are the span attributes naming an exchange: the
// legacy MessageId, ConversationId, interaction, transport, sender and the
// prescription id when the payload names one.
func exchangeAttributes(in *Inbound) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("porx.interaction", in.Interaction),
		attribute.String("porx.message_id", in.MessageID),
		attribute.String("porx.transport", string(in.Transport)),
	}
	for _, a := range []struct{ key, val string }{
		{"porx.conversation_id", in.ConversationID}, {"porx.ref_to_message_id", in.RefToMessageID},
		{"porx.from_party", in.FromParty}, {"porx.from_asid", in.FromASID},
		{"eps.prescription_id", prescriptionIDOf(in.Payload)},
	} {
		if a.val != "" {
			attrs = append(attrs, attribute.String(a.key, a.val))
		}
	}
	return attrs
}

// shortFormIDRE matches an EPS prescription short-form id (six hex, six
// alphanumerics, five hex and a check character).
var shortFormIDRE = regexp.MustCompile(`\b[0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-F]{5}[0-9A-Z+]\b`)

// prescriptionIDOf returns the first prescription short-form id in a v3
// payload, or "".
func prescriptionIDOf(payload []byte) string {
	return string(shortFormIDRE.Find(payload))
}
