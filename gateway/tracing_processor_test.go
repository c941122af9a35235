package gateway

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// TestExchangeTrace sends a legacy prescription through the gateway with
// tracing on (an in-memory exporter) and checks the trace: an exchange span
// with the legacy ids and the prescription id, and the EPS call as its
// child.
func TestExchangeTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	_, client := startSimWith(t, sim.Options{}, upstream.Config{
		Retry:          upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		TracerProvider: tp,
	})
	mhs := startMHS(t, "ack")
	proc := TraceProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()), tp)
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	req := newReq(newID(t, 1))
	req.payload = payload
	if code, body := sendEb(t, g.base, req); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the MCCI answer", func() bool {
		for _, r := range mhs.messages() {
			if r.msg != nil && r.msg.Action == v3.ApplicationAcknowledgement {
				return true
			}
		}
		return false
	})
	waitFor(t, "the exchange span", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == "exchange PORX_IN020101UK31" {
				return true
			}
		}
		return false
	})
	var exchange, eps tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch s.Name {
		case "exchange PORX_IN020101UK31":
			exchange = s
		case "EPS " + upstream.OpProcessMessage:
			eps = s
		}
	}
	if exchange.SpanKind != trace.SpanKindConsumer || eps.Name == "" {
		t.Fatalf("spans: exchange %q kind %v, EPS %q", exchange.Name, exchange.SpanKind, eps.Name)
	}
	if eps.Parent.SpanID() != exchange.SpanContext.SpanID() || eps.SpanContext.TraceID() != exchange.SpanContext.TraceID() {
		t.Fatalf("the EPS call is not a child of the exchange")
	}
	attrs := map[attribute.Key]string{}
	for _, a := range exchange.Attributes {
		attrs[a.Key] = a.Value.Emit()
	}
	want := map[attribute.Key]string{
		"porx.interaction": "PORX_IN020101UK31", "porx.message_id": req.messageID,
		"porx.conversation_id": req.conversationID, "porx.transport": "ebxml", "porx.outcome": "AA",
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("exchange %s = %q, want %q", k, attrs[k], v)
		}
	}
	if id := attrs["eps.prescription_id"]; !shortFormIDRE.MatchString(id) {
		t.Errorf("exchange eps.prescription_id = %q", id)
	}
	epsAttrs := map[attribute.Key]string{}
	for _, a := range eps.Attributes {
		epsAttrs[a.Key] = a.Value.Emit()
	}
	if epsAttrs["http.response.status_code"] != "200" || epsAttrs["eps.request_id"] == "" {
		t.Errorf("EPS span attributes %v", eps.Attributes)
	}
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
