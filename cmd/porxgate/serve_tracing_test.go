package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/tracing"
	"github.com/porxgate/porxgate/internal/testlog"
)

// TestTraceExportErrorsLogged points the OTLP exporter at a collector on
// loopback that refuses every export and checks what the on-call operator
// sees: one JSON warn line of the process's log (component tracing), not a
// plain-text line on stderr for every failed export, as OpenTelemetry's
// default handler wrote.
func TestTraceExportErrorsLogged(t *testing.T) {
	var exports atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		exports.Add(1)
		http.Error(w, "refused", http.StatusBadRequest)
	}))
	t.Cleanup(collector.Close)
	// The exporter and the batcher read the process environment.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20")
	logs := &testlog.Buffer{}
	var stderr bytes.Buffer
	tp, flush, err := openTracing(context.Background(), os.Getenv, &stderr, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil || tp == nil {
		t.Fatalf("openTracing: tp %v err %v", tp, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for exports.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d exports reached the collector", exports.Load())
		}
		_, s := tracing.Tracer(tp).Start(context.Background(), "s")
		s.End()
		time.Sleep(30 * time.Millisecond)
	}
	flush()
	var warned int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if rec["msg"] == "tracing: OpenTelemetry failed" && rec["component"] == "tracing" && rec["level"] == "WARN" {
			warned++
		}
	}
	if warned != 1 {
		t.Errorf("%d export failures gave %d warn lines, want 1 (repeats held back)\n%s", exports.Load(), warned, logs.String())
	}
}
