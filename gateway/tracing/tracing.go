// Package tracing sets porxgate's OpenTelemetry tracing up from the
// standard OTEL_* environment variables and traces outgoing HTTP calls.
// Tracing is off unless an exporter is configured: OTEL_TRACES_EXPORTER=otlp,
// or OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set.
// The tracer provider is passed to whoever traces; nothing is global.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName names porxgate's tracer (the instrumentation scope).
const TracerName = "github.com/porxgate/porxgate"

// Tracer returns porxgate's tracer from tp; a nil tp gives a tracer that
// records nothing.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(TracerName)
}

// Enabled reports whether the environment asks for traces to be exported.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "none":
		return false
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		return true
	}
}

// FromEnv builds the tracer provider the OTEL_* environment describes: an
// OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_* as the exporter reads them),
// batching, the sampler of OTEL_TRACES_SAMPLER (default parent-based
// always-on) and a resource named by OTEL_SERVICE_NAME (default porxgate)
// and OTEL_RESOURCE_ATTRIBUTES. When tracing is off it returns nil and a
// no-op shutdown. The shutdown function flushes what is buffered.
func FromEnv(ctx context.Context, getenv func(string) string, version string) (trace.TracerProvider, func(context.Context) error, error) {
	none := func(context.Context) error { return nil }
	if !Enabled(getenv) {
		return nil, none, nil
	}
	if exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp != "" && exp != "otlp" {
		return nil, none, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: porxgate exports traces with otlp only", exp)
	}
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, none, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: porxgate speaks OTLP over http/protobuf only", proto)
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, none, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "porxgate"), attribute.String("service.version", version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, none, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
