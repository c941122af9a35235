package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// soapEnvelope returns a SOAP sync request for interaction with payload.
func soapEnvelope(messageID, interaction string, payload string) []byte {
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:hl7="urn:hl7-org:v3">
<SOAP-ENV:Header>
<wsa:MessageID>uuid:%s</wsa:MessageID>
<wsa:Action>urn:nhs:names:services:mm/%s</wsa:Action>
<wsa:To>https://spine.example/syncservice-mm/mm</wsa:To>
<wsa:From><wsa:Address>https://dispenser.example</wsa:Address></wsa:From>
<hl7:communicationFunctionRcv typeCode="RCV"><hl7:device classCode="DEV" determinerCode="INSTANCE"><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="990101234567"/></hl7:device></hl7:communicationFunctionRcv>
<hl7:communicationFunctionSnd typeCode="SND"><hl7:device classCode="DEV" determinerCode="INSTANCE"><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="200000009876"/></hl7:device></hl7:communicationFunctionSnd>
<wsa:ReplyTo><wsa:Address>https://dispenser.example</wsa:Address></wsa:ReplyTo>
</SOAP-ENV:Header>
<SOAP-ENV:Body>%s</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`, messageID, interaction, payload))
}

const releaseReq = "PORX_IN132004UK30"

// soapPayload is a release request body with multi-byte text.
const soapPayload = `<PORX_IN132004UK30 xmlns="urn:hl7-org:v3"><id root="X"/><note>Zoë ✓</note></PORX_IN132004UK30>`

// soapProcessor answers release requests synchronously with a release
// response, or with what fail says.
func soapProcessor(fail func(n int) (*Outcome, error)) *fakeProcessor {
	p := newFakeProcessor()
	p.supports[releaseReq] = true
	p.answer = func(in *Inbound, n int) (*Outcome, error) {
		if fail != nil {
			if out, err := fail(n); out != nil || err != nil {
				return out, err
			}
		}
		return &Outcome{Reply: &Answer{Interaction: "PORX_IN070103UK31",
			Payload: []byte(`<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"><id root="R-` + in.MessageID + `"/><note>café ✓</note></PORX_IN070103UK31>`)}}, nil
	}
	return p
}

func sendSOAP(t *testing.T, base string, body []byte) (int, []byte) {
	t.Helper()
	return post(t, http.DefaultClient, base+PathSOAP, "text/xml; charset=UTF-8", "", body)
}

// faultCode returns the nasp:errorCode and description of a SOAP fault.
func faultCode(t *testing.T, body []byte) (string, string) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatalf("fault not XML: %v\n%s", err, body)
	}
	e := doc.FindElement("//Fault/detail/errorList/error")
	if e == nil || e.NamespaceURI() != ebxml.NSNASP {
		t.Fatalf("no nasp:errorList/nasp:error in\n%s", body)
	}
	return e.FindElement("errorCode").Text(), e.FindElement("description").Text()
}

func TestSOAPSync(t *testing.T) {
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	const id = "6E2F1C2D-0000-4000-8000-000000000001"
	code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
	if code != http.StatusOK {
		t.Fatalf("status %d\n%s", code, body)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatalf("response not XML: %v", err)
	}
	for path, want := range map[string]string{
		"//Header/RelatesTo": "uuid:" + id,
		"//Header/Action":    "urn:nhs:names:services:mm/PORX_IN070103UK31",
		"//Header/communicationFunctionRcv/device/id[@extension='200000009876']": "",
		"//Header/communicationFunctionSnd/device/id[@extension='990101234567']": "",
	} {
		e := doc.FindElement(path)
		if e == nil || strings.TrimSpace(e.Text()) != want {
			t.Errorf("%s missing or not %q in\n%s", path, want, body)
		}
	}
	if !bytes.Contains(body, []byte(`<note>café ✓</note>`)) {
		t.Errorf("reply payload not in the body:\n%s", body)
	}
	in := proc.lastCall(t)
	if string(in.Payload) != soapPayload || in.MessageID != id || in.Interaction != releaseReq ||
		in.Service != "urn:nhs:names:services:mm" || in.FromASID != "200000009876" || in.ToASID != "990101234567" || in.Transport != TransportSOAP {
		t.Errorf("inbound = %+v", in)
	}

	// The duplicate gets the same answer and is not processed again.
	code2, body2 := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
	if code2 != code || !bytes.Equal(body2, body) {
		t.Errorf("duplicate answered %d, differently:\n%s", code2, body2)
	}
	if n := proc.callsFor(id); n != 1 {
		t.Errorf("processed %d times, want 1", n)
	}
}

func TestSOAPFaults(t *testing.T) {
	tests := []struct {
		name     string
		maxBody  int
		body     []byte
		fail     func(n int) (*Outcome, error)
		wantCode string
		wantDesc string
	}{
		{name: "malformed", body: []byte("<not-soap"), wantCode: "201", wantDesc: "not well-formed"},
		{name: "unsupported interaction", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F1", "QUPA_IN000008UK02", soapPayload),
			wantCode: "300", wantDesc: "interaction QUPA_IN000008UK02 is not supported"},
		{name: "processor fault", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F2", releaseReq, soapPayload),
			fail: func(int) (*Outcome, error) {
				return &Outcome{Fault: fault("206", "prescription with another dispenser")}, nil
			}, wantCode: "206", wantDesc: "prescription with another dispenser"},
		{name: "permanent error", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F3", releaseReq, soapPayload),
			fail:     func(int) (*Outcome, error) { return nil, Permanent(errors.New("broken")) },
			wantCode: "300", wantDesc: "could not be processed"},
		// Its duplicate-elimination key would be the scheme alone, shared
		// by every such request: the second was answered with the first's
		// answer, never processed.
		{name: "wsa:MessageID with no id after uuid:", body: soapEnvelope("", releaseReq, soapPayload),
			wantCode: "300", wantDesc: "wsa:MessageID has no id"},
		{name: "payload not HL7", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F5", releaseReq, "<hello>world</hello>"),
			wantCode: "300", wantDesc: "not in the HL7 v3 namespace"},
		{name: "entity expansion", body: append([]byte(`<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>`),
			soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F6", releaseReq, soapPayload)[len(`<?xml version="1.0" encoding="UTF-8"?>`):]...),
			wantCode: "201", wantDesc: "DTD"},
		{name: "100000 deep", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F7", releaseReq, string(deep(100000))),
			wantCode: "201", wantDesc: "deeper than 256"},
		{name: "invalid UTF-8", body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F8", releaseReq, strings.Replace(soapPayload, "Zoë", "Zo\xff", 1)),
			wantCode: "201", wantDesc: "UTF-8"},
		{name: "body too large", maxBody: 512, body: soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000F4", releaseReq, strings.Repeat(" ", 1024)+soapPayload),
			wantCode: "300", wantDesc: "message body exceeds the 512-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.maxBody > 0 {
				cfg.MaxBodyBytes = tt.maxBody
			}
			g := startGateway(t, cfg, store.NewMemory(nil), true, WithProcessor(soapProcessor(tt.fail)))
			code, body := sendSOAP(t, g.base, tt.body)
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, body)
			}
			c, d := faultCode(t, body)
			if c != tt.wantCode || !strings.Contains(d, tt.wantDesc) {
				t.Errorf("fault %s %q, want %s containing %q", c, d, tt.wantCode, tt.wantDesc)
			}
		})
	}
}

// TestSOAPRefusesNonXMLContentType: a body sent as application/json is
// refused with fault 300 and never processed.
func TestSOAPRefusesNonXMLContentType(t *testing.T) {
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	code, hdr, body := postHeaders(t, g.base+PathSOAP, "application/json", "",
		soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000E1", releaseReq, soapPayload))
	if code != http.StatusInternalServerError || hdr.Get("Content-Type") != "text/xml" {
		t.Fatalf("status %d Content-Type %q, want 500 text/xml", code, hdr.Get("Content-Type"))
	}
	if c, d := faultCode(t, body); c != "300" || !strings.Contains(d, "application/json") {
		t.Errorf("fault %s %q", c, d)
	}
	if proc.numCalls() != 0 {
		t.Error("processed")
	}
}

// TestSOAPRetryAfterTransientFailure: a transient failure gives a
// retryable fault (200) and the retry with the same wsa:MessageID is
// processed again and answered.
func TestSOAPRetryAfterTransientFailure(t *testing.T) {
	var failures atomic.Int32
	proc := soapProcessor(func(n int) (*Outcome, error) {
		if n == 1 {
			failures.Add(1)
			return nil, errors.New("upstream unavailable")
		}
		return nil, nil
	})
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	env := soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000E1", releaseReq, soapPayload)
	code, body := sendSOAP(t, g.base, env)
	if code != http.StatusInternalServerError {
		t.Fatalf("first: %d", code)
	}
	if c, _ := faultCode(t, body); c != ebxml.TMSCodeSystemFailure {
		t.Errorf("first: fault code %s, want 200 (retryable)", c)
	}
	if code, body = sendSOAP(t, g.base, env); code != http.StatusOK {
		t.Fatalf("retry: %d\n%s", code, body)
	}
	if failures.Load() != 1 || proc.callsFor("6E2F1C2D-0000-4000-8000-0000000000E1") != 2 {
		t.Errorf("calls = %d", proc.callsFor("6E2F1C2D-0000-4000-8000-0000000000E1"))
	}
}

// TestSOAPStoreDown: a store that cannot record the request gives a
// retryable fault.
func TestSOAPStoreDown(t *testing.T) {
	st := store.NewMemory(nil)
	_ = st.Close()
	g := startGateway(t, testConfig(), st, true, WithProcessor(soapProcessor(nil)))
	code, body := sendSOAP(t, g.base, soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000D1", releaseReq, soapPayload))
	if code != http.StatusInternalServerError {
		t.Fatalf("status %d", code)
	}
	if c, _ := faultCode(t, body); c != "200" {
		t.Errorf("fault code %s, want 200", c)
	}
}

// TestSOAPRetryAfterCrash: a request whose first processing died with its
// process (the in-progress mark left behind, no answer kept) is processed
// again as soon as the mark runs out (soapMarkTTL, seconds), not after the
// persist duration; a retry while the first is alive waits for its answer.
func TestSOAPRetryAfterCrash(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := store.NewMemory(clock)
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), st, true, WithProcessor(proc))
	id := "6E2F1C2D-0000-4000-8000-0000000000C1"
	// The process that took the request died: its mark stays, no answer.
	if ok, err := st.MarkSeen(context.Background(), "soap:"+releaseReq+":"+id, soapMarkTTL); err != nil || !ok {
		t.Fatal(ok, err)
	}
	mu.Lock()
	now = now.Add(soapMarkTTL + time.Second)
	mu.Unlock()
	code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
	if code != http.StatusOK || !strings.Contains(string(body), "R-"+id) {
		t.Fatalf("retry after the crash: status %d\n%s", code, body)
	}
	if proc.callsFor(id) != 1 {
		t.Errorf("processed %d times, want 1", proc.callsFor(id))
	}
	// A later duplicate gets the kept answer, for the persist duration.
	mu.Lock()
	now = now.Add(soapMarkTTL * 3)
	mu.Unlock()
	code, again := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
	if code != http.StatusOK || string(again) != string(body) {
		t.Fatalf("duplicate: status %d\n%s", code, again)
	}
	if proc.callsFor(id) != 1 {
		t.Errorf("duplicate processed again")
	}
}

// TestEnvelopesAreTextXML: every envelope the doors answer with, success
// included, is Content-Type text/xml exactly, as the NHS MHS adaptor
// requires (it compares the header for equality).
func TestEnvelopesAreTextXML(t *testing.T) {
	proc := soapProcessor(nil)
	proc.supports[prescribe] = true
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	ct, action, body := newReq(newID(t, 90)).build()
	code, hdr, _ := postHeaders(t, g.base+PathEbXML, ct, action, body)
	if code != http.StatusAccepted || hdr.Get("Content-Type") != "text/xml" {
		t.Errorf("ebXML acknowledgment: %d %q", code, hdr.Get("Content-Type"))
	}
	code, hdr, _ = postHeaders(t, g.base+PathSOAP, "text/xml", "", soapEnvelope("6E2F1C2D-0000-4000-8000-0000000000E9", releaseReq, soapPayload))
	if code != http.StatusOK || hdr.Get("Content-Type") != "text/xml" {
		t.Errorf("SOAP reply: %d %q", code, hdr.Get("Content-Type"))
	}
}

// TestSOAPPayloadNotTheAction: a request whose payload is not the
// interaction its wsa:Action names is refused (fault 300, 910025, naming
// both), before EPS is asked anything. Before, the payload was read for
// what it is: a nominated release sent under the patient release's
// wsa:Action had EPS release the pharmacy's prescriptions, outside the
// nominated release's safeguards (its answer's prescriptions owed until
// written, release_handover.go); Spine routes and validates by the action.
func TestSOAPPayloadNotTheAction(t *testing.T) {
	for _, tc := range []struct {
		name, action string
	}{
		{"nominated release under the patient release's action", v3.PatientReleaseRequest},
		{"nominated release under its other family's action", "PORX_IN060102SM30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, client := startSim(t)
			st, _ := redisStore(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, "F5000000-0000-4000-8000-00000000AC01")
			g := startGateway(t, testConfig(), st, true, asRunWraps(t, proc)...)

			code, body := sendSOAP(t, g.base, soapEnvelope("F5000000-0000-4000-8000-00000000AC02", tc.action, soapReleaseFCG71(t)))
			fc, desc := faultCode(t, body)
			if code != http.StatusInternalServerError || fc != "300" || !strings.Contains(desc, "910025:") ||
				!strings.Contains(desc, tc.action) || !strings.Contains(desc, v3.NominatedReleaseRequest) {
				t.Fatalf("answer %d, fault %q %q; want 300 910025 naming %s and %s\n%.800s", code, fc, desc, tc.action, v3.NominatedReleaseRequest, body)
			}
			if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "" {
				t.Fatalf("EPS holds %+v: released under a request refused", rx)
			}
		})
	}
}
