package gateway

import (
	"bytes"
	"cmp"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestEbXMLSyncReply sends a request with SyncReply and checks the 202
// eb:Acknowledgment, what the processor saw, and the async answer the MHS
// receives — on the memory and the Redis store.
func TestEbXMLSyncReply(t *testing.T) {
	rs, _ := redisStore(t)
	for name, st := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			req := newReq(newID(t, 1))
			req.conversationID = "C0000000-0000-4000-8000-0000000000AA"
			code, body := sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("status %d, want 202\n%s", code, body)
			}
			checkAcknowledgment(t, body, req)

			waitFor(t, "the async answer", func() bool { return len(mhs.messages()) > 0 })
			in := proc.lastCall(t)
			if !bytes.Equal(in.Payload, req.payload) {
				t.Errorf("payload reached the processor changed:\n%q\nwant\n%q", in.Payload, req.payload)
			}
			if in.Interaction != prescribe || in.Family != v3.FamilyUK || in.MessageID != req.messageID ||
				in.ConversationID != req.conversationID || in.FromParty != senderParty || in.ToParty != spineParty ||
				in.CPAID != senderCPA || in.Transport != TransportEbXML {
				t.Errorf("inbound = %+v", in)
			}
			got := mhs.messages()[0]
			if got.msg == nil {
				t.Fatalf("MHS got an unreadable message: %s\n%s", got.contentType, got.body)
			}
			m := got.msg
			if m.Action != mcciAck || m.ConversationID != req.conversationID || m.RefToMessageID != req.messageID ||
				!m.AckRequested || m.FromPartyID != spineParty || m.ToPartyID != senderParty || m.CPAID != senderCPA {
				t.Errorf("answer header = %+v", m)
			}
			if m.MessageID == "" || m.MessageID != strings.ToUpper(m.MessageID) {
				t.Errorf("answer MessageId %q: want an upper-case UUID", m.MessageID)
			}
			if !bytes.Equal(m.Payload.Body, mcciPayload(req.messageID)) {
				t.Errorf("answer payload = %q", m.Payload.Body)
			}
			if got.soapAction != `"urn:nhs:names:services:mm/MCCI_IN010000UK13"` {
				t.Errorf("answer SOAPAction = %s", got.soapAction)
			}
			waitFor(t, "the outbox to empty", func() bool { n, _ := st.QueueLen(t.Context(), "outbox"); return n == 0 })
		})
	}
}

// checkAcknowledgment checks that body is a well-formed eb:Acknowledgment
// of req, reading it with etree rather than the ebxml package.
func checkAcknowledgment(t *testing.T, body []byte, req ebReq) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatalf("acknowledgment is not well-formed XML: %v\n%s", err, body)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || env.NamespaceURI() != ebxml.NSSOAP {
		t.Fatalf("root is not a SOAP 1.1 Envelope:\n%s", body)
	}
	text := func(path string) string {
		e := env.FindElement(path)
		if e == nil {
			t.Fatalf("no %s in\n%s", path, body)
		}
		if e.NamespaceURI() != ebxml.NSEb {
			t.Errorf("%s in namespace %q", path, e.NamespaceURI())
		}
		return strings.TrimSpace(e.Text())
	}
	want := map[string]string{
		"Header/Acknowledgment/RefToMessageId":            req.messageID,
		"Header/MessageHeader/MessageData/RefToMessageId": req.messageID,
		"Header/MessageHeader/Action":                     "Acknowledgment",
		"Header/MessageHeader/Service":                    ebxml.ServiceEbXML,
		"Header/MessageHeader/ConversationId":             req.conversationID,
		"Header/MessageHeader/CPAId":                      req.cpa,
		"Header/MessageHeader/From/PartyId":               cmp.Or(req.to, spineParty),
		"Header/MessageHeader/To/PartyId":                 req.from,
	}
	for path, v := range want {
		if got := text(path); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	if ref, err := ebxml.ParseAcknowledgment(body); err != nil || ref != req.messageID {
		t.Errorf("ParseAcknowledgment = %q, %v", ref, err)
	}
}

// TestEbXMLAsyncAcknowledgment: without SyncReply the answer is 202 with
// an empty body and the eb:Acknowledgment reaches the sender's endpoint.
func TestEbXMLAsyncAcknowledgment(t *testing.T) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	st := store.NewMemory(nil)
	g := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	req := newReq(newID(t, 2))
	req.syncReply = false
	code, body := sendEb(t, g.base, req)
	if code != http.StatusAccepted || len(body) != 0 {
		t.Fatalf("got %d %q, want 202 with an empty body", code, body)
	}
	waitFor(t, "the acknowledgment and the answer", func() bool { return len(mhs.messages()) >= 2 })
	var ack, answer *received
	for _, r := range mhs.messages() {
		switch {
		case r.ackRef != "":
			ack = &r
		case r.msg != nil:
			answer = &r
		}
	}
	if ack == nil || ack.ackRef != req.messageID {
		t.Fatalf("no async eb:Acknowledgment of %s among %d messages", req.messageID, len(mhs.messages()))
	}
	if !strings.HasPrefix(ack.contentType, "text/xml") || ack.soapAction != `"urn:oasis:names:tc:ebxml-msg:service/Acknowledgment"` {
		t.Errorf("acknowledgment sent as %s, SOAPAction %s", ack.contentType, ack.soapAction)
	}
	if answer == nil || answer.msg.RefToMessageID != req.messageID {
		t.Fatalf("no async answer to %s", req.messageID)
	}

	// A duplicate without SyncReply is acknowledged again and not processed again.
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatalf("duplicate: status %d", code)
	}
	waitFor(t, "the second acknowledgment", func() bool {
		n := 0
		for _, r := range mhs.messages() {
			if r.ackRef == req.messageID {
				n++
			}
		}
		return n == 2
	})
	if n := proc.callsFor(req.messageID); n != 1 {
		t.Errorf("processed %d times, want 1", n)
	}
}

// TestEbXMLRefusals checks the MessageError of each kind of message the
// gateway will not take; none reaches the processor.
func TestEbXMLRefusals(t *testing.T) {
	closed := store.NewMemory(nil)
	_ = closed.Close()
	deadRedis, err := store.NewRedis("redis://127.0.0.1:1/0", "x:")
	if err != nil {
		t.Fatal(err)
	}
	defer deadRedis.Close()
	tests := []struct {
		name     string
		st       store.Store
		noRoutes bool
		maxBody  int
		mutate   func(r *ebReq)
		raw      func() (string, string, []byte)
		wantCode ebxml.ErrorCode
		// wantFault, when set, is the TMS code of the SOAP fault expected
		// instead of a MessageError (a store failure: the MHS must retry).
		wantFault string
		wantDesc  string
	}{
		{name: "not multipart", raw: func() (string, string, []byte) {
			return "application/json", "", []byte(`{"hello":"world"}`)
		}, wantCode: ebxml.CodeMimeProblem, wantDesc: "multipart/related"},
		{name: "header not XML", raw: func() (string, string, []byte) {
			return "multipart/related; boundary=b; type=text/xml", "", []byte("--b\nContent-Type: text/xml\n\n<SOAP-ENV:Envelope\n--b--\n")
		}, wantCode: ebxml.CodeOtherXML, wantDesc: "not well-formed"},
		{name: "unknown party", mutate: func(r *ebReq) { r.from = "STRANGER-000001" },
			wantCode: ebxml.CodeValueNotRecognized, wantDesc: "910002:Unknown eb:From/eb:PartyId STRANGER-000001"},
		{name: "unknown CPA id", mutate: func(r *ebReq) { r.cpa = "S0000000000000" },
			wantCode: ebxml.CodeValueNotRecognized, wantDesc: "501319:Unknown eb:CPAId"},
		{name: "unsupported interaction", mutate: func(r *ebReq) { r.action = "PORX_IN999999UK31" },
			wantCode: ebxml.CodeNotSupported, wantDesc: "910003:interaction PORX_IN999999UK31 is not supported"},
		{name: "store closed", st: closed, wantFault: "200", wantDesc: "910004:the message could not be recorded"},
		{name: "redis unreachable", st: deadRedis, wantFault: "200", wantDesc: "910004:"},
		{name: "payload not well-formed", mutate: func(r *ebReq) { r.payload = []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id>`) },
			wantCode: ebxml.CodeOtherXML, wantDesc: "910007:payload is not well-formed XML"},
		{name: "payload entity expansion", mutate: func(r *ebReq) {
			r.payload = []byte(`<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&b;</PORX_IN020101UK31>`)
		}, wantCode: ebxml.CodeOtherXML, wantDesc: "910007:payload declares a DTD"},
		{name: "payload external entity", mutate: func(r *ebReq) {
			r.payload = []byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&x;</PORX_IN020101UK31>`)
		}, wantCode: ebxml.CodeOtherXML, wantDesc: "910007:payload declares a DTD"},
		{name: "payload 100000 deep", mutate: func(r *ebReq) { r.payload = deep(100000) },
			wantCode: ebxml.CodeOtherXML, wantDesc: "910007:payload nests elements deeper than 256"},
		{name: "payload invalid UTF-8", mutate: func(r *ebReq) { r.payload = append(testPayload("U1"), 0xff, 0xfe) },
			wantCode: ebxml.CodeOtherXML, wantDesc: "910007:payload is not valid UTF-8"},
		{name: "payload not HL7", mutate: func(r *ebReq) { r.payload = []byte(`<hello>world</hello>`) },
			wantCode: ebxml.CodeValueNotRecognized, wantDesc: "910008:payload root element {}hello"},
		{name: "payload is another interaction", mutate: func(r *ebReq) { r.payload = testPayloadOf(r.messageID, "PORX_IN080101UK31") },
			wantCode: ebxml.CodeInconsistent, wantDesc: "910025:the payload is PORX_IN080101UK31, not the interaction PORX_IN020101UK31 eb:Action names"},
		{name: "payload of the action's other family", mutate: func(r *ebReq) { r.action = "PORX_IN020101SM31" },
			wantCode: ebxml.CodeInconsistent, wantDesc: "910025:the payload is PORX_IN020101UK31, not the interaction PORX_IN020101SM31 eb:Action names"},
		{name: "body too large", maxBody: 2048, mutate: func(r *ebReq) { r.payload = bytes.Repeat([]byte("x"), 4096) },
			wantCode: ebxml.CodeNotSupported, wantDesc: "910001:message body exceeds the 2048-byte limit"},
	}
	mhs := startMHS(t, "ack")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.maxBody > 0 {
				cfg.MaxBodyBytes = tt.maxBody
			}
			st := tt.st
			if st == nil {
				st = store.NewMemory(nil)
			}
			proc := newFakeProcessor()
			opts := []Option{WithProcessor(proc)}
			if !tt.noRoutes {
				opts = append(opts, WithRoutes(routesTo(t, mhs.srv.URL, "")))
			}
			g := startGateway(t, cfg, st, true, opts...)
			var ct, action string
			var body []byte
			if tt.raw != nil {
				ct, action, body = tt.raw()
			} else {
				r := newReq(newID(t, 100+i))
				if tt.mutate != nil {
					tt.mutate(&r)
				}
				ct, action, body = r.build()
			}
			code, hdr, resp := postHeaders(t, g.base+PathEbXML, ct, action, body)
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, resp)
			}
			if got := hdr.Get("Content-Type"); got != "text/xml" {
				t.Errorf("Content-Type %q, want exactly text/xml", got)
			}
			if tt.wantFault != "" {
				if c, d := faultCode(t, resp); c != tt.wantFault || !strings.Contains(d, tt.wantDesc) {
					t.Errorf("fault %s %q, want %s containing %q", c, d, tt.wantFault, tt.wantDesc)
				}
				return
			}
			gotCode, gotDesc := ebErrorOf(t, resp)
			if gotCode != string(tt.wantCode) || !strings.Contains(gotDesc, tt.wantDesc) {
				t.Errorf("eb:Error %s %q, want %s containing %q", gotCode, gotDesc, tt.wantCode, tt.wantDesc)
			}
			if proc.numCalls() != 0 {
				t.Errorf("a refused message reached the processor")
			}
		})
	}
}

// TestEbXMLAnyoneWithoutRoutes: with no routing table every sender is
// accepted, and the answer, having no route, goes to the dead letters
// saying so.
func TestEbXMLAnyoneWithoutRoutes(t *testing.T) {
	st := store.NewMemory(nil)
	g := startGateway(t, testConfig(), st, false, WithProcessor(newFakeProcessor()))
	req := newReq(newID(t, 3))
	req.from, req.cpa = "ANYONE-123456", "S1"
	if code, body := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatalf("status %d\n%s", code, body)
	}
	dls := waitDeadLetters(t, g, 1)
	if dls[0].Reason != "no route to party ANYONE-123456: no routing table is configured (--routes)" ||
		dls[0].RefToMessageID != req.messageID || dls[0].Stage != "delivery" || dls[0].Interaction != mcciAck {
		t.Errorf("dead letter = %+v", dls[0])
	}
}

// TestEbXMLSMFamily: an SM-family request reaches the processor with family SM.
func TestEbXMLSMFamily(t *testing.T) {
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc))
	req := newReq(newID(t, 4))
	req.action = "PORX_IN020101SM31"
	req.payload = testPayloadOf(req.messageID, req.action)
	if code, body := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatalf("status %d\n%s", code, body)
	}
	waitFor(t, "processing", func() bool { return proc.callsFor(req.messageID) == 1 })
	if in := proc.lastCall(t); in.Family != v3.FamilySM || in.Interaction != "PORX_IN020101SM31" {
		t.Errorf("inbound family %q interaction %q", in.Family, in.Interaction)
	}
}

// TestChunkedBodyOverLimit: a chunked body over --max-body gets its door's
// Spine-shaped refusal (text/xml), not a bare JSON 413: a MessageError
// NotSupported 910001 on the ebXML door, as for a Content-Length over the
// limit (it was a SOAP fault 300 while the server, not the door, refused
// it), and a SOAP fault 300 on the SOAP door.
func TestChunkedBodyOverLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 2048
	proc := newFakeProcessor()
	g := startGateway(t, cfg, store.NewMemory(nil), true, WithProcessor(proc))
	r := newReq(newID(t, 1))
	r.payload = bytes.Repeat([]byte("x"), 4096)
	ct, action, body := r.build()
	for _, path := range []string{PathEbXML, PathSOAP} {
		req, err := http.NewRequest(http.MethodPost, g.base+path, io.MultiReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1 // sent chunked
		req.Header.Set("Content-Type", ct)
		if path == PathSOAP {
			req.Header.Set("Content-Type", "text/xml")
		}
		req.Header.Set("SOAPAction", action)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "text/xml" {
			t.Fatalf("%s: status %d Content-Type %q\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if path == PathEbXML {
			if c, d := ebErrorOf(t, b); c != "NotSupported" || d != "910001:message body exceeds the 2048-byte limit" {
				t.Errorf("%s: MessageError %s %q", path, c, d)
			}
			continue
		}
		if c, d := faultCode(t, b); c != "300" || !strings.Contains(d, "910001:message body exceeds the 2048-byte limit") {
			t.Errorf("%s: fault %s %q", path, c, d)
		}
	}
	if proc.numCalls() != 0 {
		t.Error("processed")
	}
}
