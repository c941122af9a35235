package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/testlog"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/tracker"
	v3 "github.com/porxgate/porxgate/v3"
)

// syncBuffer is a testlog.Buffer the gateway logs JSON lines into, read
// line by line.
type syncBuffer struct{ testlog.Buffer }

// lines returns each JSON line logged so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line not JSON: %v\n%s", err, l)
		}
		m["_raw"] = l
		out = append(out, m)
	}
	return out
}

// logged reports whether a line with message msg was logged.
func (b *syncBuffer) logged(t *testing.T, msg string) bool {
	t.Helper()
	for _, l := range b.lines(t) {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// jsonLogger logs JSON at level into a buffer, through logctx as Run does.
func jsonLogger(level slog.Level) (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return logctx.Wrap(slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}))), buf
}

// nhsNumberRE finds a patient's NHS number in an HL7 v3 payload.
var nhsNumberRE = regexp.MustCompile(`root="2\.16\.840\.1\.113883\.2\.1\.4\.1" extension="(\d{10})"`)

// TestExchangeLogs captures the logs of one ebXML prescription exchange,
// front door to delivery through the simulator, and checks them: every
// line carries the same correlation fields (message_id, conversation_id,
// interaction, party, transport), no key twice (component included),
// durations in ms only, exactly one info line with the business outcome
// (code and text), and no patient data at info.
func TestExchangeLogs(t *testing.T) {
	log, buf := jsonLogger(slog.LevelDebug)
	simSrv := httptest.NewServer(sim.New(sim.Options{Logger: quietLog()}).Handler())
	t.Cleanup(simSrv.Close)
	// The EPS client logs through the same logger, as Run wires it.
	client, err := upstream.New(upstream.Config{BaseURL: simSrv.URL + "/FHIR/R4",
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, log.With("component", "processor"))
	srv := NewServer(testConfig(), newMemoryStore(), fakeUpstream{}, log.With("component", "gateway"), NewMetrics(),
		WithProcessor(PartyScoped(proc)), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	g := serveGateway(t, srv)

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	m := nhsNumberRE.FindSubmatch(payload)
	if m == nil {
		t.Fatal("no NHS number in the test prescription")
	}
	nhsNumber := string(m[1])
	const family = "JONES"
	if !bytes.Contains(payload, []byte(family)) {
		t.Fatalf("the patient's family name %s is not in the test prescription", family)
	}
	req := newReq(newID(t, 3))
	req.payload = payload
	before := len(buf.lines(t)) // the gateway's start-up lines
	if code, body := sendEb(t, g.base, req); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the delivery of the MCCI answer", func() bool {
		for _, l := range buf.lines(t) {
			if l["msg"] == "delivered" {
				return true
			}
		}
		return false
	})

	want := map[string]string{
		logctx.KeyMessageID: req.messageID, logctx.KeyConversationID: req.conversationID,
		logctx.KeyInteraction: v3.InFamily(v3.ParentPrescription, v3.FamilyUK), logctx.KeyParty: senderParty, logctx.KeyTransport: "ebxml",
	}
	var info []map[string]any
	for _, l := range buf.lines(t)[before:] {
		raw := l["_raw"].(string)
		for k, v := range want {
			if l[k] != v {
				t.Errorf("line %q: %s = %v, want %q\n%s", l["msg"], k, l[k], v, raw)
			}
		}
		if n := strings.Count(raw, `"component":`); n > 1 {
			t.Errorf("component %d times:\n%s", n, raw)
		}
		for k, v := range l {
			if strings.HasSuffix(k, "_ns") || k == "took_ms" || k == "took" || k == "duration" {
				t.Errorf("measure %s=%v: durations are duration_ms\n%s", k, v, raw)
			}
		}
		if l["level"] == "INFO" {
			info = append(info, l)
			if strings.Contains(raw, nhsNumber) || strings.Contains(raw, family) {
				t.Errorf("patient data at info:\n%s", raw)
			}
		}
	}
	if len(info) != 1 {
		t.Fatalf("%d info lines for one exchange, want 1: %v", len(info), info)
	}
	if l := info[0]; l["outcome"] != "AA" || l["outcome_code"] != "AA" || l["outcome_text"] != "accepted" || l["duration_ms"] == nil {
		t.Errorf("the exchange's info line lacks its outcome: %s", l["_raw"])
	}
}

func TestOutcomeDetail(t *testing.T) {
	ack := func(typeCode, detail string) *Outcome {
		return &Outcome{Answers: []Answer{{Interaction: v3.ApplicationAcknowledgement, Payload: []byte(
			`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="` + typeCode + `">` + detail +
				`<messageRef><id root="X"/></messageRef></acknowledgement></MCCI_IN010000UK13>`)}}}
	}
	tests := []struct {
		name       string
		out        *Outcome
		code, text string
	}{
		{"accepted", ack("AA", ""), "AA", "accepted"},
		{"rejected with a Spine code", ack("AE", `<acknowledgementDetail typeCode="ER"><code codeSystem="2.16.840.1.113883.2.1.3.2.4.17.32" code="5000" displayName="Unable to process message"/></acknowledgementDetail>`),
			"5000", "Unable to process message"},
		{"generic code: Spine's text without the detail, which may quote the patient", ack("AE", `<acknowledgementDetail typeCode="ER"><code code="9999" displayName="Unable to process message. Information missing or invalid - Patient &quot;JONES&quot; 9912003071"/></acknowledgementDetail>`),
			"9999", "Unable to process message. Information missing or invalid"},
		{"escapes read", ack("AE", `<acknowledgementDetail typeCode="ER"><code code="0001" displayName="Patient&apos;s record &amp; prescription"/></acknowledgementDetail>`),
			"0001", "Patient's record & prescription"},
		{"code without display name", ack("AR", `<hl7:acknowledgementDetail typeCode="ER"><hl7:code code="0004"/></hl7:acknowledgementDetail>`), "0004", ""},
		{"nothing", nil, OutcomeNoAnswer, "nothing to answer"},
		{"release rejection reason", &Outcome{Reply: &Answer{Payload: []byte(
			`<x><reason><justifyingDetectedIssueEvent classCode="ALRT" moodCode="EVN"><code code="0003" displayName="Prescription has been cancelled"/></justifyingDetectedIssueEvent></reason></x>`)}},
			"0003", "Prescription has been cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text := outcomeDetail(tt.out)
			if code != tt.code || text != tt.text {
				t.Errorf("outcomeDetail = %q %q, want %q %q", code, text, tt.code, tt.text)
			}
		})
	}
}

// TestTrackerLogsStatusCode checks the Tracker API's info line: the
// statusCode the caller got (not 0 when it was 1, 6 or a refusal's), once
// per request, without the query's NHS number.
func TestTrackerLogsStatusCode(t *testing.T) {
	log, buf := jsonLogger(slog.LevelInfo)
	r := startTrackerRigLogged(t, true, log)
	noASID := trackerHeaders()
	noASID.Del(HeaderSpineFromASID)
	tests := []struct {
		name, path string
		h          http.Header
		want       string
	}{
		{"NHS111 prescription not found", PathTrackerItemDetails + "?prescriptionId=" + validShortFormID(t, "ABCDEF-A99968-12345"), trackerHeaders(), tracker.TrackerStatusPrescriptionMissing},
		{"trace search, no match", PathTrackerSearch + "?nhsNumber=9449304106&format=trace-summary", trackerHeaders(), tracker.TrackerStatusNoMatch},
		{"refused: no ASID", PathTrackerSearch + "?nhsNumber=9449304106&format=trace-summary", noASID, tracker.TrackerStatusBadASID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(buf.lines(t))
			r.fetch(t, tt.path, tt.h)
			var answered []map[string]any
			for _, l := range buf.lines(t)[before:] {
				if strings.Contains(l["_raw"].(string), "9449304106") {
					t.Errorf("NHS number at info: %s", l["_raw"])
				}
				if l["msg"] == "tracker: answered" {
					answered = append(answered, l)
				}
			}
			if len(answered) != 1 {
				t.Fatalf("%d answered lines, want 1", len(answered))
			}
			if l := answered[0]; l["status_code"] != tt.want || l["duration_ms"] == nil || l["http_status"] == nil {
				t.Errorf("answered line %s, want status_code %s", l["_raw"], tt.want)
			}
		})
	}
}

// TestSOAPExchangeLogs checks the SOAP door's lines: the correlation
// fields (party is the sender's ASID) and one info line with the outcome.
func TestSOAPExchangeLogs(t *testing.T) {
	log, buf := jsonLogger(slog.LevelDebug)
	srv := NewServer(testConfig(), newMemoryStore(), fakeUpstream{}, log, NewMetrics(), WithProcessor(soapProcessor(nil)))
	g := serveGateway(t, srv)
	before := len(buf.lines(t))
	const id = "6E2F1C2D-0000-4000-8000-0000000000B1"
	if code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload)); code != http.StatusOK {
		t.Fatalf("status %d\n%s", code, body)
	}
	lines := buf.lines(t)[before:]
	var info int
	for _, l := range lines {
		if l[logctx.KeyMessageID] != id || l[logctx.KeyInteraction] != releaseReq || l[logctx.KeyParty] != "200000009876" || l[logctx.KeyTransport] != "soap" {
			t.Errorf("correlation fields missing: %s", l["_raw"])
		}
		if l["level"] == "INFO" {
			info++
			if l["msg"] != "answered" || l["outcome"] != OutcomeAnswered || l["outcome_code"] != OutcomeAnswered || l["http_status"] != float64(200) {
				t.Errorf("info line %s", l["_raw"])
			}
		}
	}
	if len(lines) == 0 || info != 1 {
		t.Fatalf("%d lines, %d at info; want one info line", len(lines), info)
	}
}
