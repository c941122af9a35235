package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/store"
)

// serveAbout introduces `porxgate serve -h`.
const serveAbout = `Runs the gateway: the legacy ebXML and SOAP front door, the inbox and
delivery workers, the pending-cancellation poller, /healthz, /readyz and
/metrics. A flag wins over its environment variable, which wins over the
default; a PORXGATE_* variable that is no setting (a typo) is refused.
SIGINT or SIGTERM drains in-flight requests, then the work in hand, each
for up to --shutdown-timeout (so give a supervisor more than twice it;
three times with the in-memory store, whose queues are emptied first);
a second SIGINT or SIGTERM ends the process at once, without the drain.
SIGHUP is logged and ignored: nothing is reloaded on a signal (certificates,
CA bundles and CRLs are reread from their files at the next handshake).
HTTPS_PROXY (and NO_PROXY) are honoured for calls to EPS.

Tracing (OpenTelemetry, off unless configured): OTEL_EXPORTER_OTLP_ENDPOINT
or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP over HTTP), OTEL_TRACES_EXPORTER
(otlp or none), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED.
`

// hangupIgnored is logged for each SIGHUP serve receives.
const hangupIgnored = "SIGHUP ignored: porxgate reloads nothing on a signal; certificates, CA bundles and CRLs are reread from their files at the next handshake, any other change takes a restart (SIGTERM drains)"

// ignoreHangup keeps SIGHUP from ending a long-running command (serve,
// sim, load, compare), calling said for each one, until ctx is done or the
// returned stop is called. Left to Go's default, a SIGHUP (kill -HUP by
// an operator expecting a reload, a closed terminal) ended the process at
// once: the gateway without a drain, the in-memory store's queues
// (acknowledged messages) lost, and systemd's Restart=on-failure, which
// counts SIGHUP as a clean end, did not start it again; the simulator
// with every prescription it kept; a load run or a replay without its
// figures.
func ignoreHangup(ctx context.Context, said func()) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-hup:
				said()
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		// Still caught, not ended by: a SIGHUP while serve returns is
		// dropped rather than ending the process before it exits.
		signal.Ignore(syscall.SIGHUP)
		signal.Stop(hup)
	}
}

// otherCommandsEnv are the PORXGATE_* variables porxgate's other commands
// and its tests read: set beside serve's (one environment for a gateway
// and its simulator, a test run), they are not serve's typos.
var otherCommandsEnv = []string{
	"PORXGATE_SIM_ADDR", "PORXGATE_SIM_PUBLIC_KEY", "PORXGATE_SIM_API_KEY",
	"PORXGATE_ADMIN_URL", "PORXGATE_ADMIN_CA", "PORXGATE_ADMIN_CLIENT_CERT", "PORXGATE_ADMIN_CLIENT_KEY",
	"PORXGATE_CORPUS", "PORXGATE_VARIANTS", "PORXGATE_VARIANTS_MATCH", "PORXGATE_TEST_LOG", "PORXGATE_SMOKE_BIN",
	"PORXGATE_SCREENSHOTS", "PORXGATE_UPDATE_GOLDEN", "PORXGATE_FHIR_COMPILED_SIZE_CHILD",
	"PORXGATE_FAULTS", "PORXGATE_FAULTS_BIN", "PORXGATE_FAULTS_DIR", "PORXGATE_FAULTS_N", "PORXGATE_FAULTS_OUTAGE",
}

// toolingEnvPrefixes start the names of the test suites' settings.
var toolingEnvPrefixes = []string{"PORXGATE_FAULTS_", "PORXGATE_TEST_", "PORXGATE_VARIANTS_"}

// unknownEnvError names the PORXGATE_* variables of environ that no
// command reads, with the setting each most likely misspells; nil when
// there are none.
func unknownEnvError(environ []string) error {
	unknown, closest := gateway.UnknownEnv(environ, otherCommandsEnv...)
	var errs []error
	for i, k := range unknown {
		if slices.ContainsFunc(toolingEnvPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue // the test suites' own settings, inherited by the gateways they start
		}
		if closest[i] != "" {
			errs = append(errs, fmt.Errorf("%s: not a setting (did you mean %s?)", k, closest[i]))
		} else {
			errs = append(errs, fmt.Errorf("%s: not a setting (see porxgate serve -h)", k))
		}
	}
	return errors.Join(errs...)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, environ []string) int {
	var usage bytes.Buffer
	cfg, err := gateway.ParseConfig(args, getenv, &usage)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: porxgate serve [flags]\n\n%s\n", serveAbout)
		_, _ = stdout.Write(usage.Bytes())
		return 0
	}
	err = errors.Join(err, unknownEnvError(environ))
	if err != nil {
		fmt.Fprintf(stderr, "porxgate serve: %v\n", err)
		return 2
	}
	level, _ := gateway.ParseLogLevel(cfg.LogLevel)
	log := newLogger(stderr, level)
	tp, flush, err := openTracing(ctx, getenv, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate serve: %v\n", err)
		return 2
	}
	defer flush()
	cfg.TracerProvider = tp
	// The Redis client's own lines (dial failures, failovers) as JSON
	// lines of this log, not plain text among them.
	redis.SetLogger(store.NewRedisLogger(log.With("component", "redis")))
	if getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMB) << 20)
		log.Debug("soft memory limit", "mib", cfg.MemoryLimitMB)
	}
	if getenv("GOGC") == "" && cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
		log.Debug("garbage collector target", "percent", cfg.GCPercent)
	}
	defer ignoreHangup(ctx, func() { log.Warn(hangupIgnored) })()
	if err := gateway.Run(ctx, cfg, log); err != nil {
		log.Error("porxgate stopped", "err", err)
		return 1
	}
	log.Info("porxgate stopped cleanly")
	return 0
}
