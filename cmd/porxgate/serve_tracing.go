package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/tracing"
)

// openTracing builds the tracer provider the OTEL_* environment asks for
// (nil when it asks for none) and the function that flushes it on exit.
// With tracing on, OpenTelemetry's own errors (a collector that cannot be
// reached, an export refused) go to log as JSON lines, a repeated one once
// a minute, instead of OpenTelemetry's default: a plain-text line on
// stderr for every failed export.
func openTracing(ctx context.Context, getenv func(string) string, stderr io.Writer, log *slog.Logger) (trace.TracerProvider, func(), error) {
	tp, shutdown, err := tracing.FromEnv(ctx, getenv, resolvedVersion(version, readBuildInfo()))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if tp != nil {
		otel.SetErrorHandler(traceErrors(log))
	}
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "porxgate: flushing traces: %v\n", err)
		}
	}, nil
}

// traceErrors logs OpenTelemetry's errors to log at warn, component
// tracing; an error repeated word for word is written once a minute with
// how many times it was held back.
func traceErrors(log *slog.Logger) otel.ErrorHandler {
	log = log.With("component", "tracing")
	repeats := &logctx.Repeats{}
	return otel.ErrorHandlerFunc(func(err error) {
		held, write := repeats.Note(err.Error())
		if !write {
			return
		}
		args := []any{"err", err}
		if held > 0 {
			args = append(args, "repeated", held)
		}
		log.Warn("tracing: OpenTelemetry failed", args...)
	})
}
