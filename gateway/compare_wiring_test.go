package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// spineFaultBody is a SOAP fault as Spine answers one, with TMS error code.
func spineFaultBody(code, description string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nasp="http://national.carerecords.nhs.uk/schema/">` +
		`<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><faultstring>Application Exception</faultstring><detail><nasp:errorList><nasp:error>` +
		`<nasp:codeContext>urn:nhs:names:error:tms</nasp:codeContext><nasp:errorCode>` + code + `</nasp:errorCode><nasp:severity>Error</nasp:severity>` +
		`<nasp:location>Not Supported</nasp:location><nasp:description>` + description + `</nasp:description></nasp:error></nasp:errorList></detail>` +
		`</SOAP:Fault></SOAP:Body></SOAP:Envelope>`
}

// faultingRoute is a legacy route that answers every message with a Spine
// SOAP fault of code, counting the calls.
func faultingRoute(t *testing.T, code, description string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	return routeAnswering(t, http.StatusInternalServerError, "text/xml", spineFaultBody(code, description))
}

// routeAnswering is a legacy route that answers every message with status,
// contentType and body, counting the calls.
func routeAnswering(t *testing.T, status int, contentType, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls.Add(1)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestLegacyPrimaryPassesSpinesFaultOn: with the legacy path primary, a
// SOAP fault Spine answers a SOAP sync request with is the sender's
// answer, codes and all, as without porxgate; a retryable one (200) is
// passed on as retryable. It used to be taken for the route being
// unreachable: the sender got porxgate's retryable "System failure" (200)
// in place of Spine's refusal, and sent the message again and again.
func TestLegacyPrimaryPassesSpinesFaultOn(t *testing.T) {
	for _, tt := range []struct{ code, description string }{
		{"201", "The message is not well formed"},
		{"200", "System failure to process message - default"},
	} {
		t.Run(tt.code, func(t *testing.T) {
			route, calls := faultingRoute(t, tt.code, tt.description)
			m := NewMetrics()
			proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, soapProcessor(nil),
				&compare.Legacy{URL: route.URL}, nil, m, quietLog())
			g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
			code, body := sendSOAP(t, g.base, soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F"+tt.code[2:], releaseReq, soapPayload))
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want Spine's 500 fault\n%s", code, body)
			}
			if got, desc := faultCode(t, body); got != tt.code || !strings.Contains(desc, tt.description) {
				t.Errorf("fault %s %q, want Spine's %s %q", got, desc, tt.code, tt.description)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the legacy route got %d calls, want 1", n)
			}
		})
	}
}

// TestLegacyPrimaryEbXMLFaultNotRetried: with the legacy path primary, an
// ebXML message Spine refuses with a fault that is not to be retried goes
// to the dead letters at once, with Spine's reason, instead of being sent
// to Spine again and again as if the route were down.
func TestLegacyPrimaryEbXMLFaultNotRetried(t *testing.T) {
	route, calls := faultingRoute(t, "201", "The message is not well formed")
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: route.URL}, nil, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc))
	if code, body := sendEb(t, g.base, newReq(newID(t, 43))); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	// The message's, and the MessageError telling the sender (no routing
	// table here to deliver it).
	var dl outbox.DeadLetter
	for _, d := range waitDeadLetters(t, g, 2) {
		if d.Stage == outbox.StageProcessing {
			dl = d
		}
	}
	if !strings.Contains(dl.Reason, "201") || !strings.Contains(dl.Reason, "not well formed") {
		t.Errorf("dead letter reason %q, want Spine's fault", dl.Reason)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the legacy route got %d calls, want 1", n)
	}
}

// TestLegacyPrimaryShadowTracksNoCancellation: with the legacy path
// primary, the FHIR path is the shadow and its answers go nowhere; so a
// cancellation EPS answers pending on the shadow run must not be tracked,
// or the poller would later send the sender a Subsequent Cancel Response
// of the shadow's, beside Spine's own. The shadow run tracked it.
func TestLegacyPrimaryShadowTracksNoCancellation(t *testing.T) {
	f := newFlow(t)
	legacy := startLegacyRoute(t, nil)
	st := newMemoryStore()
	opts := cancelTestOptions(time.Hour, 2*time.Second) // no poll within the test
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: f.client, Config: opts, Log: quietLog()})
	fhirPath := NewEPSProcessor(mapping.NewRegistry(), f.client, nil, nil, quietLog()).WithCancellations(c)
	j := newTestJournal(t)
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, fhirPath,
		&compare.Legacy{URL: legacy.srv.URL}, j, NewMetrics(), quietLog())
	srv := NewServer(testConfig(), st, fakeUpstream{}, quietLog(), NewMetrics(),
		WithProcessor(proc), WithRoutes(flowRoutes(t, f.prescriber.srv.URL, f.dispenser.srv.URL)), WithJournal(j))
	srv.EnableCancellations(c)
	g := serveGateway(t, srv)
	compared := func(r ebReq) {
		t.Helper()
		waitFor(t, "the shadow run of "+r.action, func() bool {
			x, _ := j.Backend().Get(context.Background(), r.messageID)
			return x != nil && x.Comparison != nil
		})
	}
	payload, _ := legacyPrescription(t, rxFixture)
	compared(f.send(t, g, 1, senderParty, senderCPA, prescribe, payload))
	if _, err := f.sim.State().Release(sim.ReleaseRequest{Owner: rxPharmacy, ShortFormID: rxID}, time.Now()); err != nil {
		t.Fatalf("release on EPS (the shadow run's prescription): %v", err)
	}
	cancel := f.send(t, g, 2, senderParty, senderCPA, v3.CancelRequest, legacyCancel(t, rxFixture))
	compared(cancel)
	x, _ := j.Backend().Get(context.Background(), cancel.messageID)
	var shadow string
	for _, s := range x.Steps {
		if s.Kind == journal.StepShadow {
			shadow = s.Body
		}
	}
	if code := cancelCodeOf(t, []byte(shadow)); code != "0002" {
		t.Fatalf("the shadow's Cancel Response says %s, want 0002 (pending with the dispenser)", code)
	}
	if r, err := trackedRecord(t, c.Tracker()); err == nil {
		t.Errorf("the shadow run's pending cancellation of %s is tracked (%s)", r.PrescriptionID, r.State)
	}
}

// TestCompareRefusesTheSameEnvironmentHoweverWritten: the refusal of a
// legacy route on the FHIR path's own host holds however the host is
// written: its case, an explicit default port, credentials in the URL.
// Only the exact same host:port text was refused.
func TestCompareRefusesTheSameEnvironmentHoweverWritten(t *testing.T) {
	for _, tt := range []struct {
		upstream, legacy string
		refused          bool
	}{
		{"https://eps.example/FHIR/R4", "https://EPS.example/reliablemessaging", true},
		{"https://eps.example/FHIR/R4", "https://eps.example:443/reliablemessaging", true},
		{"https://eps.example:443/FHIR/R4", "https://user:pw@eps.example/reliablemessaging", true},
		{"http://eps.example/FHIR/R4", "http://eps.example:80/sync", true},
		{"https://eps.example/FHIR/R4", "https://eps.example./x", true},
		{"https://eps.example/FHIR/R4", "https://eps.example:8443/x", false},
		{"https://eps.example/FHIR/R4", "https://msg.spine.example/x", false},
		{"http://eps.example/FHIR/R4", "https://eps.example:80/x", true},
	} {
		c := DefaultConfig()
		c.UpstreamURL, c.Compare.LegacyURL = tt.upstream, tt.legacy
		err := c.Validate()
		if refused := err != nil && strings.Contains(err.Error(), "another environment"); refused != tt.refused {
			t.Errorf("--upstream %s --compare-legacy-url %s: Validate() = %v; refused %v, want %v", tt.upstream, tt.legacy, err, refused, tt.refused)
		}
	}
}

// TestLegacyPrimaryCarriesWhatTheFHIRPathCannot: with the legacy path
// primary, a message of an interaction the FHIR path does not translate
// still goes to Spine and its answer to the sender, as without porxgate;
// only the comparison is skipped, saying why. It was refused at the door
// (eb:MessageError, interaction not supported): switching comparison mode
// on with Spine answering broke what Spine carries.
func TestLegacyPrimaryCarriesWhatTheFHIRPathCannot(t *testing.T) {
	legacy := startLegacyRoute(t, nil)
	j := newTestJournal(t)
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: legacy.srv.URL}, j, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	r := newReq(newID(t, 45))
	r.action = "PORX_IN460101UK31" // dispense no-claim notification: not translated
	r.payload = testPayloadOf(r.messageID, r.action)
	if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the message at Spine", func() bool { return legacy.calls.Load() == 1 })
	x := exchangeOf(t, j, r.messageID, journal.StepV3Answer)
	waitFor(t, "the comparison skipped", func() bool {
		x, _ = j.Backend().Get(context.Background(), r.messageID)
		return x != nil && x.Comparison != nil
	})
	if c := x.Comparison; c.Result != compareSkipped || !strings.Contains(c.Error, "PORX_IN460101UK31") {
		t.Errorf("comparison %+v, want skipped naming the interaction", *c)
	}
	// An interaction id that is none is refused still.
	r = newReq(newID(t, 46))
	r.action = "NOT_AN_INTERACTION"
	if code, body := sendEb(t, g.base, r); code == http.StatusAccepted && !strings.Contains(string(body), "ErrorList") {
		t.Errorf("a message of no interaction accepted: %d\n%s", code, body)
	}
}

// TestLegacyPrimaryTakesNoProxyPageForAnAnswer: with the legacy path
// primary, a route that answers with a proxy's error page (502, HTML) has
// not answered: the SOAP sender gets porxgate's retryable fault, as when
// the route is unreachable. The page was taken for Spine's HL7 answer
// (its root element, html, for the interaction) and sent to the sender
// with 200.
func TestLegacyPrimaryTakesNoProxyPageForAnAnswer(t *testing.T) {
	route, _ := routeAnswering(t, http.StatusBadGateway, "text/html",
		"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>")
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, soapProcessor(nil),
		&compare.Legacy{URL: route.URL}, nil, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	code, body := sendSOAP(t, g.base, soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000A1", releaseReq, soapPayload))
	if code != http.StatusInternalServerError || strings.Contains(string(body), "Bad Gateway") {
		t.Fatalf("status %d, want porxgate's retryable fault, not the proxy's page\n%s", code, body)
	}
	if got, _ := faultCode(t, body); got != "200" {
		t.Errorf("fault code %s, want 200 (retryable)", got)
	}
}

// TestLegacyPrimaryEbXMLMessageErrorNotRetried: Spine refuses an ebXML
// message it will not take with an eb:ErrorList (HTTP 500, a MessageError
// such as 501319 "Unknown eb:CPAId"), not a SOAP fault. With the legacy
// path primary that refusal was taken for "no readable answer": the
// message waited and was sent to Spine again and again, and went to the
// dead letters only when its attempts ran out, without Spine's reason. A
// refusal of severity Error that does not clear up now goes to the dead
// letters at once with Spine's reason, as a SOAP fault does, and is
// compared with the FHIR path's outcome; a DeliveryFailure is still tried
// again.
func TestLegacyPrimaryEbXMLMessageErrorNotRetried(t *testing.T) {
	tests := []struct {
		name      string
		code      ebxml.ErrorCode
		number    int
		text      string
		final     bool
		wantCalls int64
	}{
		{"unknown CPA: refused for good", ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId", true, 1},
		{"delivery failure: tried again", ebxml.CodeDeliveryFailure, 200, "Spine unavailable", false, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := ebxml.BuildMessageError(nil, "", time.Now(), ebxml.NewMessageError(tt.code, tt.number, tt.text))
			if err != nil {
				t.Fatal(err)
			}
			route, calls := routeAnswering(t, http.StatusInternalServerError, "text/xml", string(body))
			j := newTestJournal(t)
			proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
				&compare.Legacy{URL: route.URL}, j, NewMetrics(), quietLog())
			cfg := testConfig()
			g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
			r := newReq(newID(t, 930+i))
			if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
				t.Fatalf("ebXML POST = %d\n%s", code, body)
			}
			if !tt.final {
				waitFor(t, "the message sent to Spine again", func() bool { return calls.Load() >= tt.wantCalls })
				return
			}
			// The message's (the MessageError telling the sender is kept in
			// the journal: no routing table here).
			var dl outbox.DeadLetter
			for _, d := range waitDeadLetters(t, g, 1) {
				if d.Stage == outbox.StageProcessing {
					dl = d
				}
			}
			if !strings.Contains(dl.Reason, "501319") || !strings.Contains(dl.Reason, tt.text) {
				t.Errorf("dead letter reason %q, want Spine's MessageError", dl.Reason)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("the legacy route got %d calls, want %d", n, tt.wantCalls)
			}
			var x *journal.Exchange
			waitFor(t, "the comparison in the journal", func() bool {
				x, _ = j.Backend().Get(context.Background(), r.messageID)
				return x != nil && x.Comparison != nil && x.Comparison.Result != ""
			})
			if all := strings.Join(x.Comparison.Differences, "\n"); x.Comparison.Result != "differ" || !strings.Contains(all, "legacy refused with") || !strings.Contains(all, "501319") {
				t.Errorf("comparison %s %q %s, want Spine's refusal against the FHIR path's answer", x.Comparison.Result, all, x.Comparison.Error)
			}
		})
	}
}

// TestLegacyShadowMessageErrorCompared: with the FHIR path primary, Spine
// refusing the shadow ebXML message with an eb:ErrorList was a comparison
// error ("SOAP answer: ..."), not the difference it is; and the shadow
// step must call it what it is, not a SOAP fault.
func TestLegacyShadowMessageErrorCompared(t *testing.T) {
	body, err := ebxml.BuildMessageError(nil, "", time.Now(), ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId"))
	if err != nil {
		t.Fatal(err)
	}
	route, _ := routeAnswering(t, http.StatusInternalServerError, "text/xml", string(body))
	j := newTestJournal(t)
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: route.URL}, j, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	r := newReq(newID(t, 940))
	if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	x := exchangeOf(t, j, r.messageID, journal.StepShadow)
	waitFor(t, "the comparison in the journal", func() bool {
		x, _ = j.Backend().Get(context.Background(), r.messageID)
		return x != nil && x.Comparison != nil && x.Comparison.Result != ""
	})
	if all := strings.Join(x.Comparison.Differences, "\n"); x.Comparison.Result != "differ" ||
		!strings.Contains(all, "legacy refused with ebXML MessageError ValueNotRecognized (501319:Unknown eb:CPAId)") {
		t.Errorf("comparison %s %q %s, want Spine's refusal as a difference", x.Comparison.Result, all, x.Comparison.Error)
	}
	for _, st := range x.Steps {
		if st.Kind == journal.StepShadow && !strings.HasSuffix(st.Title, ": refused with ebXML MessageError") {
			t.Errorf("shadow step %q does not say it was an ebXML MessageError", st.Title)
		}
	}
}

// TestLegacyPrimaryAnswerOverTheCap: with the legacy path primary, a route
// answering with more than the legacy client reads (8 MiB) had its answer
// cut at the cap and the first 8 MiB, no longer well-formed XML, passed to
// the SOAP sender with 200 as Spine's answer. An answer over the cap is no
// readable answer: the sender gets porxgate's retryable fault, as from a
// route that gave none.
func TestLegacyPrimaryAnswerOverTheCap(t *testing.T) {
	head := `<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"><id root="X"/>`
	big := head + "<note>" + strings.Repeat("x", 9<<20) + "</note></PORX_IN070103UK31>"
	route, _ := routeAnswering(t, http.StatusOK, "text/xml", big)
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, soapProcessor(nil),
		&compare.Legacy{URL: route.URL}, nil, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	code, body := sendSOAP(t, g.base, soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000A2", releaseReq, soapPayload))
	if code != http.StatusInternalServerError || strings.Contains(string(body), head) {
		t.Fatalf("status %d (%d bytes), want porxgate's retryable fault, not part of the route's answer", code, len(body))
	}
	if got, _ := faultCode(t, body); got != "200" {
		t.Errorf("fault code %s, want 200 (retryable)", got)
	}
}
