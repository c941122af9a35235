package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// openSpans counts the spans started and not yet ended.
type openSpans struct {
	mu   sync.Mutex
	open map[trace.SpanID]string
}

func (o *openSpans) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[s.SpanContext().SpanID()] = s.Name()
}

func (o *openSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.open, s.SpanContext().SpanID())
}

func (o *openSpans) Shutdown(context.Context) error   { return nil }
func (o *openSpans) ForceFlush(context.Context) error { return nil }

// names lists the spans still open.
func (o *openSpans) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, n := range o.open {
		out = append(out, n)
	}
	return out
}

// TestCancelTraceThroughRedis follows one prescription's cancellation
// across the asynchronous path with the state in a real Redis: the
// prescription's EPS call answered 503 once and retried (each attempt its
// own span, the failed one marked so), the cancel request's exchange, the
// pending cancellation's polls of the EPS tracker, and the Subsequent
// Cancel Response delivered to the prescriber's MHS — all in the cancel
// request's trace, from the traceparent kept in Redis. Every span started
// is ended once the gateway stops.
func TestCancelTraceThroughRedis(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	open := &openSpans{open: map[trace.SpanID]string{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSpanProcessor(open))
	st, _ := redisStore(t)
	s, root := serveSim(t, sim.Options{})
	client, err := upstream.New(upstream.Config{BaseURL: root + "/FHIR/R4", TracerProvider: tp,
		Retry: upstream.RetryConfig{MaxAttempts: 3, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	f := &flow{sim: s, client: client, prescriber: startMHS(t, "ack"), dispenser: startMHS(t, "ack")}
	opts := cancelTestOptions(40*time.Millisecond, 2*time.Second)
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: client, Config: opts, Log: quietLog()})
	proc := TraceProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithCancellations(c), tp)
	cfg := testConfig()
	cfg.Lease = opts.Lease
	cfg.TracerProvider = tp
	deliveries, err := DeliveryClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(proc), WithDeliveryClient(deliveries),
		WithRoutes(flowRoutes(t, f.prescriber.srv.URL, f.dispenser.srv.URL)))
	srv.EnableCancellations(c)
	g := serveGateway(t, srv)

	s.SetFaults(sim.Faults{Force5xx: 1, Ops: []string{"process-message"}})
	cancel := f.prescribeReleaseCancel(t, g)
	waitFor(t, "a poll that finds it pending", func() bool {
		r, err := trackedRecord(t, c.Tracker())
		return err == nil && r.Attempts >= 1
	})
	if err := s.State().Dispense(sim.DispenseRequest{MessageID: "D1", Dispenser: rxPharmacy, ShortFormID: rxID,
		Items: map[string]sim.ItemStatus{strings.ToLower(rxLineItem): sim.ItemDispensed}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	sub := byAction(f.prescriber, v3.SubsequentCancelResponse)[0]
	g.stop()

	spans := exp.GetSpans()
	byName := func(name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, sp := range spans {
			if sp.Name == name {
				out = append(out, sp)
			}
		}
		return out
	}
	var rxExchange, cancelExchange tracetest.SpanStub
	for _, sp := range byName("exchange " + prescribe) {
		rxExchange = sp
	}
	for _, sp := range byName("exchange " + v3.CancelRequest) {
		if spanAttrs(sp)["porx.message_id"] == cancel.messageID {
			cancelExchange = sp
		}
	}
	if !rxExchange.SpanContext.IsValid() || !cancelExchange.SpanContext.IsValid() {
		t.Fatalf("exchange spans missing: %d spans", len(spans))
	}

	// The prescription's EPS call: two attempts, two spans, the first failed.
	var rxProcess tracetest.SpanStub
	for _, sp := range byName("process " + prescribe) {
		rxProcess = sp
	}
	var attempts []tracetest.SpanStub
	for _, sp := range byName("EPS " + upstream.OpProcessMessage) {
		if sp.Parent.SpanID() == rxProcess.SpanContext.SpanID() {
			attempts = append(attempts, sp)
		}
	}
	if len(attempts) != 2 || attempts[0].SpanContext.SpanID() == attempts[1].SpanContext.SpanID() ||
		attempts[0].Status.Code != codes.Error || spanAttrs(attempts[0])["http.response.status_code"] != "503" ||
		spanAttrs(attempts[1])["http.response.status_code"] != "200" {
		t.Errorf("prescription's EPS attempts: %d spans under its processing, want a failed 503 and a 200", len(attempts))
	}

	// The cancellation's polls and its Subsequent Cancel Response: in the
	// cancel request's trace.
	traceID := cancelExchange.SpanContext.TraceID()
	polls := 0
	for _, sp := range byName("EPS " + upstream.OpTracker) {
		if sp.SpanContext.TraceID() == traceID {
			polls++
		} else if sp.SpanContext.TraceID() != rxExchange.SpanContext.TraceID() {
			t.Errorf("an EPS tracker span in a trace of its own (%s)", sp.SpanContext.TraceID())
		}
	}
	if polls == 0 {
		t.Error("no EPS tracker poll in the cancel request's trace")
	}
	if !strings.HasPrefix(sub.traceparent, "00-"+traceID.String()+"-") {
		t.Errorf("the Subsequent Cancel Response came with traceparent %q, want one of the cancel request's trace %s", sub.traceparent, traceID)
	}
	if left := open.names(); len(left) > 0 {
		t.Errorf("spans never ended: %v", left)
	}
}
