package gateway

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/tracing"
)

// startExchange starts the span of one exchange when a front door receives
// a request: "exchange <transport>" until the message is read (then named
// after its interaction by nameExchange), a server span continuing the
// sender's trace when it sent a traceparent. The request's user context
// carries the span from then on; the caller ends it when it answers.
// Processing, each EPS call and each delivery attempt are its children,
// through the span context or the traceparent kept with the message.
func (g *messaging) startExchange(c *fiber.Ctx, t Transport) trace.Span {
	return startServerSpan(c, g.cfg.TracerProvider, "exchange "+string(t), attribute.String("porx.transport", string(t)))
}

// startServerSpan starts a server span named name for the request c,
// continuing the caller's traceparent (and tracestate) when it sent one,
// and makes the request's user context carry it.
func startServerSpan(c *fiber.Ctx, tp trace.TracerProvider, name string, attrs ...attribute.KeyValue) trace.Span {
	ctx := tracing.WithHeaders(c.UserContext(), func(k string) string { return c.Get(k) })
	ctx, span := tracing.Tracer(tp).Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	c.SetUserContext(ctx)
	return span
}

// nameExchange names the exchange span of in's request after its
// interaction, gives it in's ids and keeps its traceparent in in.
func nameExchange(ctx context.Context, in *Inbound) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() { // with tracing off, no attributes to find in the payload
		span.SetName("exchange " + in.Interaction)
		span.SetAttributes(exchangeAttributes(in)...)
	}
	in.TraceParent = tracing.TraceParent(ctx)
}

// received counts a request at a front door by what became of it and
// records that on its exchange span ("refused" and "store_error" mark the
// span failed).
func (g *messaging) received(c *fiber.Ctx, t Transport, outcome string) {
	g.metrics.received.WithLabelValues(string(t), outcome).Inc()
	span := trace.SpanFromContext(c.UserContext())
	span.SetAttributes(attribute.String("porx.received", outcome))
	if outcome == "refused" || outcome == "store_error" || outcome == "failed" {
		span.SetStatus(codes.Error, outcome)
	}
}
