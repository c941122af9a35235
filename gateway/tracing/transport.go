package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport gives every request a client span and sends the W3C
// traceparent (and tracestate) of that span with it.
type Transport struct {
	// Next sends the request.
	Next http.RoundTripper
	// Tracer starts the spans.
	Tracer trace.Tracer
	// Name names a request's span; nil means "HTTP <method>".
	Name func(*http.Request) string
	// Attributes adds attributes of a request, e.g. the EPS operation.
	Attributes func(*http.Request) []attribute.KeyValue
}

// RoundTrip implements http.RoundTripper. Only the method, host and path
// are recorded: query strings may carry identifiers.
func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	name := "HTTP " + req.Method
	if t.Name != nil {
		name = t.Name(req)
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		attribute.String("server.address", req.URL.Hostname()),
		attribute.String("url.path", req.URL.Path),
	}
	if t.Attributes != nil {
		attrs = append(attrs, t.Attributes(req)...)
	}
	ctx, span := t.Tracer.Start(req.Context(), name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	r := req.Clone(ctx)
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := t.Next.RoundTrip(r)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, resp.Status)
	}
	return resp, nil
}
