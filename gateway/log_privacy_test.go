package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
)

// The patient of testdata/prescribe/acute-nurse-controlled-drug-unsigned.json
// as the legacy payload carries it: what must never be logged.
var testPatient = map[string]string{
	"NHS number":    "9912003071",
	"family name":   "JONES",
	"given name":    "ALEX",
	"address line":  "3 HIGH STREET",
	"postcode":      "TA1 1AA",
	"date of birth": "20010704",
}

// TestNoPatientDataInLogs drives a gateway in front of the EPS simulator
// through the ways a message with patient data can fail or be refused,
// and scans every line logged (all levels, the front doors', the
// processor's, the EPS client's, the delivery worker's, the tracker
// API's) and every span (names, attributes, statuses, error events) for
// the patient's identifiers.
//
// The rule (docs/deploy.md, Logs): a log line may name a message by its
// ids (MessageId, ConversationId, delivery id, EPS request id), its
// interaction and parties (eb:PartyId, ASID, ODS codes) and its
// prescription (short-form id, line item ids), and may carry codes and
// texts porxgate or Spine wrote; it never carries an NHS number, a
// patient's name, address, postcode or date of birth, a payload, or a
// text taken from a payload or from EPS's answer (which may quote them).
func TestNoPatientDataInLogs(t *testing.T) {
	log, sink := jsonLogger(slog.LevelDebug) // through logctx, as Run wraps the logger it hands out
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range sink.lines(t) {
				t.Log(l["_raw"])
			}
		}
	})
	s, simBase := serveSim(t, sim.Options{})
	// EPS as seen by the gateway: the simulator, except that it answers a
	// prescription whose prescriber is "echo" with an OperationOutcome
	// quoting the patient, as a validator's diagnostics may.
	simURL, _ := url.Parse(simBase)
	proxy := httputil.NewSingleHostReverseProxy(simURL)
	var mode struct {
		sync.Mutex
		echo int // status of the echoing answer; 0: pass through
	}
	eps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode.Lock()
		echo := mode.echo
		mode.Unlock()
		if echo != 0 && r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(echo)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"value",` +
				`"details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"INVALID_VALUE","display":"Invalid value"}]},` +
				`"diagnostics":"Patient JONES ALEX (9912003071) born 2001-07-04 at 3 HIGH STREET TA1 1AA: invalid"}]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(eps.Close)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	client, err := upstream.New(upstream.Config{
		BaseURL: eps.URL + "/FHIR/R4", TracerProvider: tp,
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond},
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	cfg.ProcessRetries = 1
	cfg.PoisonAfter = 0
	cfg.TracerProvider = tp
	proc := TraceProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, log), tp)
	srv := NewServer(cfg, newMemoryStore(), &EPSClient{Client: client, desc: "simulator"}, log, NewMetrics(),
		WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error { return srv.ServeAndWork(ctx, ln) })

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	for name, v := range testPatient {
		if !bytes.Contains(payload, []byte(v)) {
			t.Fatalf("the legacy prescription does not carry the patient's %s %q", name, v)
		}
	}
	answers := func() int { return len(mhs.messages()) }
	sendAs := func(n int, action string, body []byte, wait func()) {
		t.Helper()
		before := answers()
		req := newReq(newID(t, n))
		req.action, req.payload = action, body
		code, _ := sendEb(t, base, req)
		if code != http.StatusAccepted {
			return // refused at the door: the refusal is what is logged
		}
		if wait != nil {
			wait()
		}
		waitFor(t, "an answer to the sender", func() bool { return answers() > before })
	}
	send := func(n int, body []byte, wait func()) { t.Helper(); sendAs(n, prescribe, body, wait) }
	replace := func(old, new string) []byte { return bytes.Replace(payload, []byte(old), []byte(new), 1) }

	send(1, payload, nil) // AA
	send(2, payload, nil) // a duplicate prescription: EPS refuses it
	// The patient's details where the mapping refuses them.
	send(3, replace(`extension="9912003071"`, `extension="99120030X1"`), nil)
	send(4, replace(`value="20010704"`, `value="2001-07-04x"`), nil)
	send(5, replace(`<family>JONES</family>`, `<family>JONES<bad/></family>`), nil)
	// A payload that is not well-formed XML after the patient's details.
	cut := payload[:bytes.Index(payload, []byte("TA1 1AA"))+len("TA1 1AA")]
	send(6, cut, nil)
	// Payloads broken inside the patient's details, each way a reader
	// may quote what it found.
	for i, broken := range [][]byte{
		replace(`<family>JONES</family>`, `<family>&JONES;</family>`),
		replace(`3 HIGH STREET`, `3 &HIGH STREET`),
		replace(`<family>JONES</family>`, "<family>JONES\x01</family>"),
		replace(`<family>JONES</family>`, "<family>JONES\xff</family>"),
		replace(`extension="9912003071"`, `extension="9912003071`),
		replace(`extension="9912003071"`, `extension=9912003071`),
		replace(`<family>JONES</family>`, `<family>JONES</famil>`),
		replace(`<family>JONES</family>`, `<JONES>`),
		replace(`<family>JONES</family>`, `<family JONES="1">JONES</family>`),
	} {
		send(20+i, broken, nil)
	}
	// EPS answering with an OperationOutcome that quotes the patient.
	mode.Lock()
	mode.echo = http.StatusBadRequest
	mode.Unlock()
	send(7, replace(`extension="9912003071"`, `extension="9912003071"`), nil)
	mode.Lock()
	mode.echo = http.StatusInternalServerError
	mode.Unlock()
	send(8, payload, func() { // EPS answers 5xx: the message waits, then goes through
		waitFor(t, "a deferral", func() bool { return sink.logged(t, "upstream unavailable; message waits in the store") })
		mode.Lock()
		mode.echo = 0
		mode.Unlock()
	})
	// The SOAP door: envelopes broken inside a payload naming the patient.
	for i, payload := range []string{
		`<PORX_IN132004UK30 xmlns="urn:hl7-org:v3"><id root="X"/><note>&JONES;</note></PORX_IN132004UK30>`,
		`<PORX_IN132004UK30 xmlns="urn:hl7-org:v3"><id root="X"/><note>9912003071 ALEX</not></PORX_IN132004UK30>`,
		`<PORX_IN132004UK30 xmlns="urn:hl7-org:v3"><id root="X" extension="9912003071"><note>JONES</note></PORX_IN132004UK30>`,
	} {
		env := soapEnvelope(fmt.Sprintf("6E2F1C2D-0000-4000-8000-00000000%04X", i), releaseReq, payload)
		resp, err := http.Post(base+PathSOAP, "text/xml", bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A cancel request the mapping refuses: no rejection can be made of
	// it, so it goes to the dead letters with the reason.
	cancel := bytes.Replace(legacyCancel(t, rxFixture), []byte(`value="20010704"`), []byte(`value="2001-07-04x"`), 1)
	sendAs(9, "PORX_IN030101UK32", cancel, nil)
	// An operator resends the dead letters: the resend's line recalls why.
	g := &gw{base: base, srv: srv}
	if code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"party": senderParty}); code != http.StatusOK {
		t.Fatalf("resend: HTTP %d %s", code, out)
	}
	waitFor(t, "the resend's line", func() bool { return sink.logged(t, "dead letter resent by an operator") })
	// The tracker API searched by the NHS number, EPS answering and not.
	trackerGet := func(q string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+PathTrackerSearch+"?"+q, nil)
		req.Header = trackerHeaders()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	trackerGet("nhsNumber=9912003071&format=trace-summary")
	trackerGet("nhsNumber=9912003071&format=trace-summary&earliestDate=2001070&latestDate=JONES")
	trackerGet("nhsNumber=99120030&format=trace-summary")
	s.SetFaults(sim.Faults{Force5xx: -1})
	trackerGet("nhsNumber=9912003071&format=trace-summary")
	s.SetFaults(sim.Faults{})

	var lines []string
	for _, l := range sink.lines(t) {
		lines = append(lines, l["_raw"].(string))
	}
	if len(lines) < 10 {
		t.Fatalf("only %d lines logged", len(lines))
	}
	markers := map[string]string{}
	for k, v := range testPatient {
		markers[k] = v
	}
	markers["NHS number (as sent, malformed)"] = "99120030X1"
	markers["date of birth (as sent, malformed)"] = "2001-07-04x"
	markers["date of birth (FHIR)"] = "2001-07-04"
	markers["NHS number (short, as sent)"] = "99120030"
	markers["address line (after a bare &)"] = "&HIGH"
	for _, l := range lines {
		for what, v := range markers {
			if strings.Contains(l, v) {
				t.Errorf("the patient's %s is logged: %s", what, l)
			}
		}
		if strings.Contains(l, "<?xml") || strings.Contains(l, "urn:hl7-org:v3") {
			t.Errorf("a payload is logged: %s", l)
		}
	}
	// Spans go to the same kind of backend as logs: the same rule.
	spans := exp.GetSpans()
	if len(spans) < 10 {
		t.Fatalf("only %d spans", len(spans))
	}
	for _, sp := range spans {
		texts := []string{sp.Name, sp.Status.Description}
		for _, a := range sp.Attributes {
			texts = append(texts, string(a.Key)+"="+a.Value.Emit())
		}
		for _, ev := range sp.Events {
			for _, a := range ev.Attributes {
				texts = append(texts, string(a.Key)+"="+a.Value.Emit())
			}
		}
		for _, text := range texts {
			for what, v := range markers {
				if strings.Contains(text, v) {
					t.Errorf("the patient's %s is on span %q: %s", what, sp.Name, text)
				}
			}
		}
	}
}
