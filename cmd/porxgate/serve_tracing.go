package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/tracing"
)

// openTracing builds the tracer provider the OTEL_* environment asks for
// (nil when it asks for none) and the function that flushes it on exit.
func openTracing(ctx context.Context, getenv func(string) string, stderr io.Writer) (trace.TracerProvider, func(), error) {
	tp, shutdown, err := tracing.FromEnv(ctx, getenv, resolvedVersion(version, readBuildInfo()))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			fmt.Fprintf(stderr, "porxgate: flushing traces: %v\n", err)
		}
	}, nil
}
