package gateway

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	trace2 "go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// TestTrackerTrace checks that a Tracker API request is a span of the
// caller's trace: a server span "tracker <route>" continuing the caller's
// traceparent, with the statusCode and HTTP status it answered, whose
// child is the EPS tracker call (which EPS receives the traceparent of).
// Before, the request had no span: each EPS call began a trace of its own
// and the caller's traceparent was dropped.
func TestTrackerTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	s, root := serveSim(t, sim.Options{})
	client, err := upstream.New(upstream.Config{BaseURL: root + "/FHIR/R4", TracerProvider: tp,
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cfg := testConfig()
	cfg.TracerProvider = tp
	srv := NewServer(cfg, newMemoryStore(), &EPSClient{Client: client, desc: "simulator"}, quietLog(), NewMetrics())
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error { return srv.Serve(ctx, ln) })

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	get := func(path string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header = trackerHeaders()
		req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	spans := func(prefix string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, sp := range exp.GetSpans() {
			if strings.HasPrefix(sp.Name, prefix) {
				out = append(out, sp)
			}
		}
		return out
	}

	if code := get(PathTrackerSearch + "?nhsNumber=9912003071&format=trace-summary"); code != http.StatusOK {
		t.Fatalf("search: HTTP %d", code)
	}
	waitFor(t, "the tracker span", func() bool { return len(spans("tracker ")) == 1 })
	tr, eps := spans("tracker ")[0], spans("EPS "+upstream.OpTracker)
	if tr.Name != "tracker "+PathTrackerSearch || tr.SpanKind != trace2.SpanKindServer ||
		tr.SpanContext.TraceID().String() != callerTrace || tr.Parent.SpanID().String() != callerSpan {
		t.Fatalf("tracker span %q kind %v trace %s parent %s: want a server span continuing the caller's",
			tr.Name, tr.SpanKind, tr.SpanContext.TraceID(), tr.Parent.SpanID())
	}
	if len(eps) != 1 || eps[0].Parent.SpanID() != tr.SpanContext.SpanID() {
		t.Fatalf("%d EPS tracker spans; want one, a child of the tracker span", len(eps))
	}
	if a := spanAttrs(tr); a["porx.tracker_status_code"] != "1" || a["http.response.status_code"] != "200" || a["porx.asid"] != testTrackerASID {
		t.Errorf("tracker span attributes %v", tr.Attributes)
	}
	for _, a := range tr.Attributes {
		if strings.Contains(a.Value.Emit(), "9912003071") {
			t.Errorf("the NHS number is on the span: %v", a)
		}
	}

	// EPS unavailable: the span is failed, and still ended.
	s.SetFaults(sim.Faults{Force5xx: -1})
	if code := get(PathTrackerSearch + "?nhsNumber=9912003071&format=trace-summary"); code != http.StatusBadGateway {
		t.Fatalf("search with EPS failing: HTTP %d", code)
	}
	waitFor(t, "the failed tracker span", func() bool { return len(spans("tracker ")) == 2 })
	if failed := spans("tracker ")[1]; failed.Status.Code != codes.Error {
		t.Errorf("EPS unavailable: tracker span status %v, want Error", failed.Status)
	}
}
