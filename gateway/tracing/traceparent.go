package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceParent returns the W3C traceparent of the span in ctx, or "" when
// ctx holds no valid span (tracing off). It is what an accepted message
// keeps so that work on it later, after a restart or on another replica,
// continues the same trace.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c.Get("traceparent")
}

// WithTraceParent returns ctx carrying the remote span context a W3C
// traceparent names, so that spans started from it are its children. An
// empty or malformed traceparent leaves ctx as it is.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// WithHeaders returns ctx carrying the span context of an incoming
// request's traceparent and tracestate headers (get reads a header), so a
// sender that traces sees our spans in its trace.
func WithHeaders(ctx context.Context, get func(string) string) context.Context {
	c := propagation.MapCarrier{}
	for _, k := range []string{"traceparent", "tracestate"} {
		if v := get(k); v != "" {
			c[k] = v
		}
	}
	if len(c) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, c)
}

// TraceIDOf returns the trace id a W3C traceparent names
// ("00-<trace id>-<span id>-<flags>"), or "" when it names none: what log
// lines carry to lead from a line to its trace.
func TraceIDOf(traceparent string) string {
	sc := trace.SpanContextFromContext(WithTraceParent(context.Background(), traceparent))
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
