package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

func TestExchangeOutcome(t *testing.T) {
	ack := func(tc string) []byte {
		return []byte(`<hl7:MCCI_IN010000UK13 xmlns:hl7="urn:hl7-org:v3"><hl7:acknowledgement typeCode="` + tc + `"><hl7:messageRef/></hl7:acknowledgement></hl7:MCCI_IN010000UK13>`)
	}
	tests := []struct {
		name string
		out  *Outcome
		want string
	}{
		{"nil", nil, OutcomeNoAnswer},
		{"empty", &Outcome{}, OutcomeNoAnswer},
		{"message error", &Outcome{MessageError: &ebxml.MessageError{}}, OutcomeRefused},
		{"fault", &Outcome{Fault: &ebxml.SOAPFault{}}, OutcomeRefused},
		{"AA", &Outcome{Answers: []Answer{{Payload: ack("AA")}}}, "AA"},
		{"AE unprefixed", &Outcome{Answers: []Answer{{Payload: []byte(`<x><acknowledgement  typeCode='AE'/></x>`)}}}, "AE"},
		{"AR reply first", &Outcome{Reply: &Answer{Payload: ack("AR")}, Answers: []Answer{{Payload: ack("AA")}}}, "AR"},
		{"second answer carries it", &Outcome{Answers: []Answer{{Payload: []byte(`<PORX_IN070103UK31/>`)}, {Payload: ack("AE")}}}, "AE"},
		{"no acknowledgement", &Outcome{Answers: []Answer{{Payload: []byte(`<PORX_IN070103UK31><typeCode/></PORX_IN070103UK31>`)}}}, OutcomeAnswered},
		{"acknowledgementDetail is not it", &Outcome{Answers: []Answer{{Payload: []byte(`<acknowledgementDetail typeCode="ER"/>`)}}}, OutcomeAnswered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exchangeOutcome(tt.out); got != tt.want {
				t.Fatalf("exchangeOutcome = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExchangeAndEPSMetrics sends a prescription twice through the gateway
// to the simulator (accepted, then refused as a duplicate) and reads the
// exchange counters, the depth gauges and the EPS latency histogram.
func TestExchangeAndEPSMetrics(t *testing.T) {
	m := NewMetrics()
	_, client := startSimWith(t, sim.Options{}, upstream.Config{
		Retry:          upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		ObserveAttempt: m.ObserveUpstream,
	})
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	acks := func() int {
		n := 0
		for _, r := range mhs.messages() {
			if r.msg != nil && r.msg.Action == v3.ApplicationAcknowledgement {
				n++
			}
		}
		return n
	}
	for i, want := range []int{1, 2} {
		req := newReq(newID(t, i+1))
		req.payload = payload
		if code, body := sendEb(t, g.base, req); code != 202 {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
		waitFor(t, "the MCCI answer", func() bool { return acks() == want })
	}
	code, body := get(t, g.base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`porxgate_exchanges_total{interaction="PORX_IN020101UK31",outcome="AA"} 1`,
		`porxgate_queue_depth{queue="inbox"} 0`,
		`porxgate_dead_letters 0`,
		`porxgate_store_up 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(body, `porxgate_exchanges_total{interaction="PORX_IN020101UK31",outcome="AE"} 1`) &&
		!strings.Contains(body, `porxgate_exchanges_total{interaction="PORX_IN020101UK31",outcome="AR"} 1`) {
		t.Errorf("the refused duplicate is not counted as AE or AR:\n%s", grepLines(body, "porxgate_exchanges_total"))
	}
	// The upstream histogram lives on the registry the client reports to.
	ok := histogramSamples(t, m, "porxgate_upstream_request_duration_seconds", map[string]string{"operation": upstream.OpProcessMessage, "status": "200"})
	bad := histogramSamples(t, m, "porxgate_upstream_request_duration_seconds", map[string]string{"operation": upstream.OpProcessMessage, "status": "400"})
	if ok != 1 || bad != 1 {
		t.Fatalf("process-message attempts: %v with 200 and %v with 400, want 1 and 1", ok, bad)
	}
}

// TestSOAPExchangesCounted checks the SOAP path's exchange counts: an
// answered release, a refusal (fault from the processor) and a permanent
// failure.
func TestSOAPExchangesCounted(t *testing.T) {
	p := soapProcessor(func(n int) (*Outcome, error) { return nil, nil })
	p.answer = func(in *Inbound, _ int) (*Outcome, error) {
		switch in.MessageID {
		case "11111111-1111-4111-8111-111111111112":
			return &Outcome{Fault: fault(ebxml.TMSCodeMalformed, "refused")}, nil
		case "11111111-1111-4111-8111-111111111113":
			return nil, Permanent(errors.New("broken"))
		}
		return &Outcome{Reply: &Answer{Interaction: "PORX_IN070103UK31", Payload: []byte(`<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"/>`)}}, nil
	}
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(p))
	for _, id := range []string{"11111111-1111-4111-8111-111111111111", "11111111-1111-4111-8111-111111111112", "11111111-1111-4111-8111-111111111113"} {
		sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
	}
	_, body := get(t, g.base+"/metrics")
	for _, want := range []string{
		`porxgate_exchanges_total{interaction="PORX_IN132004UK30",outcome="answered"} 1`,
		`porxgate_exchanges_total{interaction="PORX_IN132004UK30",outcome="refused"} 1`,
		`porxgate_exchanges_total{interaction="PORX_IN132004UK30",outcome="failed"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(body, "porxgate_exchanges_total"))
		}
	}
}
