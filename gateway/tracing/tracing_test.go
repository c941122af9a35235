package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEnabled(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{"exporter otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"exporter none wins", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, false},
		{"sdk disabled wins", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Enabled(envOf(tt.env)); got != tt.want {
				t.Fatalf("Enabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	ctx := context.Background()
	tp, shutdown, err := FromEnv(ctx, envOf(nil), "v1")
	if err != nil || tp != nil || shutdown(ctx) != nil {
		t.Fatalf("off: tp %v err %v", tp, err)
	}
	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "zipkin"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
	} {
		if _, _, err := FromEnv(ctx, envOf(env), "v1"); err == nil {
			t.Errorf("%v: no error", env)
		}
	}
	tp, shutdown, err = FromEnv(ctx, envOf(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}), "v1")
	if err != nil || tp == nil {
		t.Fatalf("on: tp %v err %v", tp, err)
	}
	_, span := Tracer(tp).Start(ctx, "s")
	if !span.SpanContext().IsValid() {
		t.Fatal("the provider from the environment does not record")
	}
	span.End()
	sctx, cancel := context.WithCancel(ctx)
	cancel() // nothing listens on port 1: do not wait for the export
	_ = shutdown(sctx)
}

// TestTransportSendsTraceparent checks the client span of a request and the
// traceparent the server receives, over a real loopback socket.
func TestTransportSendsTraceparent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	client := &http.Client{Transport: Transport{Next: http.DefaultTransport, Tracer: Tracer(tp),
		Name:       func(*http.Request) string { return "call" },
		Attributes: func(*http.Request) []attribute.KeyValue { return []attribute.KeyValue{attribute.String("k", "v")} }}}
	ctx, parent := Tracer(tp).Start(context.Background(), "parent")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/FHIR/R4/Task?identifier=secret", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	call := spans[0]
	if call.Name != "call" || call.SpanKind != trace.SpanKindClient || call.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("span %s kind %v parent %v", call.Name, call.SpanKind, call.Parent.SpanID())
	}
	tp0 := <-got
	want := "00-" + call.SpanContext.TraceID().String() + "-" + call.SpanContext.SpanID().String() + "-01"
	if tp0 != want {
		t.Fatalf("traceparent %q, want %q", tp0, want)
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, a := range call.Attributes {
		attrs[a.Key] = a.Value
	}
	if attrs["http.response.status_code"].AsInt64() != 502 || attrs["k"].AsString() != "v" || attrs["url.path"].AsString() != "/FHIR/R4/Task" {
		t.Fatalf("attributes %v", call.Attributes)
	}
	for _, a := range call.Attributes {
		if strings.Contains(a.Value.Emit(), "secret") {
			t.Fatalf("query string recorded: %v", a)
		}
	}
	if call.Status.Code.String() != "Error" {
		t.Fatalf("status %v for a 502", call.Status)
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx := context.Background()
	if got := TraceParent(ctx); got != "" {
		t.Fatalf("no span: traceparent %q", got)
	}
	ctx, root := Tracer(tp).Start(ctx, "root")
	tpar := TraceParent(ctx)
	root.End()
	want := "00-" + root.SpanContext().TraceID().String() + "-" + root.SpanContext().SpanID().String() + "-01"
	if tpar != want {
		t.Fatalf("traceparent %q, want %q", tpar, want)
	}
	for _, tt := range []struct {
		name, in string
		child    bool
	}{
		{"kept", tpar, true},
		{"empty", "", false},
		{"malformed", "00-zz-yy-01", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, s := Tracer(tp).Start(WithTraceParent(context.Background(), tt.in), "later")
			s.End()
			isChild := s.SpanContext().TraceID() == root.SpanContext().TraceID()
			if isChild != tt.child {
				t.Fatalf("child of the kept trace = %v, want %v", isChild, tt.child)
			}
		})
	}
	hdr := map[string]string{"traceparent": tpar}
	_, s := Tracer(tp).Start(WithHeaders(context.Background(), func(k string) string { return hdr[k] }), "from headers")
	s.End()
	if s.SpanContext().TraceID() != root.SpanContext().TraceID() {
		t.Fatal("the incoming traceparent header is not the parent")
	}
}

func TestTraceIDOf(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"", ""},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"00-zz-yy-01", ""},
	} {
		if got := TraceIDOf(tt.in); got != tt.want {
			t.Errorf("TraceIDOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
