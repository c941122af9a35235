package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	trace2 "go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestExchangeTrace sends a legacy prescription through the gateway with
// tracing on (an in-memory exporter) and checks the trace end to end: the
// exchange span starts at the ebXML front door with the legacy ids and the
// prescription id; processing (later, by the inbox worker, from the
// traceparent kept in the store) is its child; the EPS call is a child of
// processing and the simulator receives that call's traceparent; each
// delivery attempt of the answer is a child of the exchange and the MHS
// receives its traceparent.
func TestExchangeTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	simGot := make(chan string, 16)
	s := sim.New(sim.Options{Logger: quietLog()})
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case simGot <- r.Header.Get("traceparent"):
		default:
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(simSrv.Close)
	client, err := upstream.New(upstream.Config{
		BaseURL:        simSrv.URL + "/FHIR/R4",
		Retry:          upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		TracerProvider: tp,
	}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	cfg.TracerProvider = tp
	deliveries, err := DeliveryClient(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	proc := TraceProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()), tp)
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc),
		WithRoutes(routesTo(t, mhs.srv.URL, "")), WithDeliveryClient(deliveries))

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	req := newReq(newID(t, 1))
	req.payload = payload
	if code, body := sendEb(t, g.base, req); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	var answer received
	waitFor(t, "the MCCI answer", func() bool {
		for _, r := range mhs.messages() {
			if r.msg != nil && r.msg.Action == v3.ApplicationAcknowledgement {
				answer = r
				return true
			}
		}
		return false
	})
	byName := func(name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				out = append(out, s)
			}
		}
		return out
	}
	waitFor(t, "the delivery span", func() bool { return len(byName("deliver")) > 0 })
	one := func(name string) tracetest.SpanStub {
		t.Helper()
		ss := byName(name)
		if len(ss) != 1 {
			t.Fatalf("%d spans %q, want 1", len(ss), name)
		}
		return ss[0]
	}
	exchange := one("exchange PORX_IN020101UK31")
	process := one("process PORX_IN020101UK31")
	eps := one("EPS " + upstream.OpProcessMessage)
	deliver := byName("deliver")
	trace := exchange.SpanContext.TraceID()
	if exchange.SpanKind != trace2.SpanKindServer || exchange.Parent.IsValid() {
		t.Errorf("exchange span kind %v, parent %v: want a server root span", exchange.SpanKind, exchange.Parent)
	}
	childOf := func(name string, s, parent tracetest.SpanStub) {
		t.Helper()
		if s.SpanContext.TraceID() != trace || s.Parent.SpanID() != parent.SpanContext.SpanID() {
			t.Errorf("%s span is not a child of %s", name, parent.Name)
		}
	}
	childOf("process", process, exchange)
	childOf("EPS", eps, process)
	answered := false
	for _, d := range deliver {
		childOf("deliver", d, exchange)
		// Each attempt names the delivery and the request it answers.
		a := spanAttrs(d)
		if a["porx.delivery_id"] == "" || a["porx.message_id"] != req.messageID || a["porx.attempt"] == "" || a["porx.party"] != senderParty {
			t.Errorf("deliver span attributes %v", d.Attributes)
		}
		if a["porx.delivery_interaction"] == v3.ApplicationAcknowledgement && a["porx.delivery_id"] == answer.msg.MessageID {
			answered = true
		}
	}
	if !answered {
		t.Error("no deliver span names the MCCI answer's delivery")
	}
	if got, want := <-simGot, traceparentOf(eps); got != want {
		t.Errorf("the simulator got traceparent %q, want the EPS span's %q", got, want)
	}
	if answer.traceparent == "" || !strings.HasPrefix(answer.traceparent, "00-"+trace.String()+"-") {
		t.Errorf("the MHS got traceparent %q, want one of trace %s", answer.traceparent, trace)
	}
	attrs := spanAttrs(exchange)
	want := map[attribute.Key]string{
		"porx.interaction": "PORX_IN020101UK31", "porx.message_id": req.messageID,
		"porx.conversation_id": req.conversationID, "porx.transport": "ebxml", "porx.received": "accepted",
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("exchange %s = %q, want %q", k, attrs[k], v)
		}
	}
	if id := attrs["eps.prescription_id"]; !shortFormIDRE.MatchString(id) {
		t.Errorf("exchange eps.prescription_id = %q", id)
	}
	if pa := spanAttrs(process); pa["porx.outcome"] != "AA" || pa["porx.message_id"] != req.messageID {
		t.Errorf("process span attributes %v", process.Attributes)
	}
	epsAttrs := spanAttrs(eps)
	if epsAttrs["http.response.status_code"] != "200" || epsAttrs["eps.request_id"] == "" {
		t.Errorf("EPS span attributes %v", eps.Attributes)
	}
}

// TestSOAPExchangeTrace checks a SOAP sync exchange: the front-door span
// continues the sender's traceparent, processing is its child in the same
// request, and the span carries the outcome.
func TestSOAPExchangeTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	cfg := testConfig()
	cfg.TracerProvider = tp
	g := startGateway(t, cfg, newMemoryStore(), true, WithProcessor(TraceProcessor(soapProcessor(nil), tp)))
	env := string(soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000A7", releaseReq, soapPayload))
	const sender = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	hreq, _ := http.NewRequest(http.MethodPost, g.base+PathSOAP, strings.NewReader(env))
	hreq.Header.Set("Content-Type", "text/xml")
	hreq.Header.Set("traceparent", sender)
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var exchange, process tracetest.SpanStub
	waitFor(t, "the exchange span", func() bool {
		for _, s := range exp.GetSpans() {
			switch {
			case strings.HasPrefix(s.Name, "exchange "):
				exchange = s
			case strings.HasPrefix(s.Name, "process "):
				process = s
			}
		}
		return exchange.Name != ""
	})
	if exchange.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || exchange.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the exchange span does not continue the sender's trace: %v parent %v", exchange.SpanContext.TraceID(), exchange.Parent.SpanID())
	}
	if process.Parent.SpanID() != exchange.SpanContext.SpanID() {
		t.Errorf("processing is not a child of the SOAP exchange span")
	}
	if a := spanAttrs(exchange); a["porx.transport"] != "soap" || a["porx.received"] != "accepted" || a["porx.outcome"] == "" || a["http.response.status_code"] != strconv.Itoa(resp.StatusCode) {
		t.Errorf("SOAP exchange attributes %v (HTTP %d)", exchange.Attributes, resp.StatusCode)
	}
}

// spanAttrs returns a span's attributes as strings.
func spanAttrs(s tracetest.SpanStub) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, a := range s.Attributes {
		m[a.Key] = a.Value.Emit()
	}
	return m
}

// traceparentOf is the W3C traceparent naming span s.
func traceparentOf(s tracetest.SpanStub) string {
	return "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
}

func TestPrescriptionIDOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="A0548B-A99968-451485"/>`, "A0548B-A99968-451485"},
		{`<id extension="83C40E-A23856-00123C"/>`, "83C40E-A23856-00123C"},
		{`<id extension="a0548b-a99968-451485"/>`, ""},
		{`<id extension="A0548B-A99968-45148"/>`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		if got := prescriptionIDOf([]byte(tt.in)); got != tt.want {
			t.Errorf("prescriptionIDOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// panicking is a Processor that panics.
type panicking struct{}

func (panicking) Supports(string) bool                                { return true }
func (panicking) Process(context.Context, *Inbound) (*Outcome, error) { panic("boom") }

// TestProcessSpanOfPanic checks that a processing that panics ends its
// span marked failed (the panic still reaching the caller, which makes it
// a permanent error). Before, the span ended with no status: a trace
// showed the processing as fine.
func TestProcessSpanOfPanic(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	p := TraceProcessor(panicking{}, tp)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the caller")
			}
		}()
		_, _ = p.Process(context.Background(), &Inbound{Interaction: prescribe, MessageID: "M1"})
	}()
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Status.Code != codes.Error {
		t.Fatalf("%d spans, status %+v; want one, failed", len(spans), spans)
	}
}

// TestLogLinesCarryTheTraceID sends a message through a traced gateway and
// checks that its log lines lead to its trace: the front door's, the
// processing's and the delivery's lines carry otel_trace_id, the exchange
// span's trace id. Before, no line named the trace: an operator had the
// MessageId to search the tracing backend by, and nothing to click.
func TestLogLinesCarryTheTraceID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	log, sink := jsonLogger(slog.LevelDebug)
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	cfg.TracerProvider = tp
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, log, NewMetrics(),
		WithProcessor(TraceProcessor(newFakeProcessor(), tp)), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	g := serveGateway(t, srv)
	req := newReq(newID(t, 1))
	if code, body := sendEb(t, g.base, req); code != 202 {
		t.Fatalf("POST = %d\n%s", code, body)
	}
	waitFor(t, "the delivery", func() bool { return sink.logged(t, "delivered") })
	var traceID string
	for _, s := range exp.GetSpans() {
		if strings.HasPrefix(s.Name, "exchange ") {
			traceID = s.SpanContext.TraceID().String()
		}
	}
	for _, msg := range []string{"accepted", "processed", "delivered"} {
		found := false
		for _, l := range sink.lines(t) {
			if l["msg"] != msg || l["message_id"] != req.messageID {
				continue
			}
			found = true
			if traceID == "" || l["otel_trace_id"] != traceID {
				t.Errorf("%q line: otel_trace_id %v, want the exchange's trace %s", msg, l["otel_trace_id"], traceID)
			}
		}
		if !found {
			t.Errorf("no %q line", msg)
		}
	}
}
