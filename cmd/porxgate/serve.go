package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/porxgate/porxgate/gateway"
)

// serveAbout introduces `porxgate serve -h`.
const serveAbout = `Runs the gateway: the legacy ebXML and SOAP front door, the inbox and
delivery workers, the pending-cancellation poller, /healthz, /readyz and
/metrics. A flag wins over its environment variable, which wins over the
default. SIGINT or SIGTERM drains in-flight work for --shutdown-timeout;
a second SIGINT or SIGTERM ends the process at once, without the drain.
HTTPS_PROXY (and NO_PROXY) are honoured for calls to EPS.

Tracing (OpenTelemetry, off unless configured): OTEL_EXPORTER_OTLP_ENDPOINT
or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP over HTTP), OTEL_TRACES_EXPORTER
(otlp or none), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED.
`

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var usage bytes.Buffer
	cfg, err := gateway.ParseConfig(args, getenv, &usage)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: porxgate serve [flags]\n\n%s\n", serveAbout)
		_, _ = stdout.Write(usage.Bytes())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "porxgate serve: %v\n", err)
		return 2
	}
	tp, flush, err := openTracing(ctx, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate serve: %v\n", err)
		return 2
	}
	defer flush()
	cfg.TracerProvider = tp
	level, _ := gateway.ParseLogLevel(cfg.LogLevel)
	log := newLogger(stderr, level)
	if getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMB) << 20)
		log.Debug("soft memory limit", "mib", cfg.MemoryLimitMB)
	}
	if getenv("GOGC") == "" && cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
		log.Debug("garbage collector target", "percent", cfg.GCPercent)
	}
	if err := gateway.Run(ctx, cfg, log); err != nil {
		log.Error("porxgate stopped", "err", err)
		return 1
	}
	log.Info("porxgate stopped cleanly")
	return 0
}
