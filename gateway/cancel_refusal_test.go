package gateway

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelUnmappableAnsweredWithCancelResponse: a Cancel Request that
// porxgate cannot map, or that the EPS FHIR API cannot take, never reaches
// EPS; Spine answers a cancellation it cannot process with a Cancel
// Response, AE, 5000 "Unable to process message. Information missing or
// invalid - <what>" (the EPS API's R-5000 example carries Spine's wording),
// so the prescriber gets that PORX_IN050101UK31 in the cancel's
// conversation, naming the element, and no ebXML MessageError; the message
// still goes to the dead letters. One too broken to repeat in a Cancel
// Response (no patient) gets the MessageError 910009 as before. Real
// sockets, real Redis.
func TestCancelUnmappableAnsweredWithCancelResponse(t *testing.T) {
	noLineItem := regexp.MustCompile(`(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`)
	noReason := regexp.MustCompile(`(?s)\s*<pertinentInformation contextConductionInd.*?</pertinentInformation>`)
	noPatient := regexp.MustCompile(`(?s)\s*<recordTarget .*?</recordTarget>`)
	cases := []struct {
		name     string
		edit     func(string) string
		lineItem bool   // the Cancel Response names the line item
		path     string // the element the refusal names; "" for the MessageError
	}{
		{"whole prescription, which EPS cannot cancel", func(s string) string { return noLineItem.ReplaceAllString(s, "") }, false,
			"CancellationRequest/pertinentInformation1"},
		{"no cancellation reason", func(s string) string { return noReason.ReplaceAllString(s, "") }, true,
			"CancellationRequest/pertinentInformation"},
		{"no patient: the MessageError", func(s string) string { return noPatient.ReplaceAllString(s, "") }, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := redisStore(t)
			f := newFlow(t)
			g, _ := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil)
			payload := tc.edit(string(legacyCancel(t, rxFixture)))
			req := f.send(t, g, 2, senderParty, senderCPA, v3.CancelRequest, []byte(payload))
			dl := waitDeadLetters(t, g, 1)[0]
			if dl.MessageID != req.messageID {
				t.Errorf("dead letter %+v, want the cancel request %s", dl, req.messageID)
			}
			waitFor(t, "the prescriber's answer", func() bool { return len(f.prescriber.messages()) >= 1 })
			time.Sleep(settleQuiet)
			got := f.prescriber.messages()
			if len(got) != 1 {
				t.Fatalf("prescriber got %d messages, want 1", len(got))
			}
			if tc.path == "" {
				if got[0].msg != nil || !strings.Contains(string(got[0].body), "910009:") {
					t.Fatalf("prescriber got %s, want the MessageError 910009\n%s", got[0].contentType, got[0].body)
				}
				return
			}
			m := got[0].msg
			if m == nil || m.Action != v3.CancelResponse {
				t.Fatalf("prescriber got %s, want a Cancel Response (%s)\n%s", got[0].contentType, v3.CancelResponse, got[0].body)
			}
			if m.RefToMessageID != req.messageID || m.ConversationID != req.conversationID {
				t.Errorf("Cancel Response RefToMessageId %s ConversationId %s; want %s %s", m.RefToMessageID, m.ConversationID, req.messageID, req.conversationID)
			}
			body := m.Payload.Body
			if tc, _ := ackOf(t, body); tc != "AE" {
				t.Errorf("Cancel Response typeCode %s, want AE\n%s", tc, body)
			}
			if code := cancelCodeOf(t, body); code != "5000" {
				t.Errorf("Cancel Response code %s, want 5000\n%s", code, body)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(body); err != nil {
				t.Fatal(err)
			}
			display := doc.FindElement("//CancellationResponse/pertinentInformation3/pertinentResponse/value").SelectAttrValue("displayName", "")
			if !strings.HasPrefix(display, "Unable to process message. Information missing or invalid - ") || !strings.Contains(display, tc.path) {
				t.Errorf("Cancel Response displayName %q, want Spine's 5000 wording naming %s", display, tc.path)
			}
			if li := doc.FindElement("//CancellationResponse/pertinentInformation1/pertinentLineItemRef/id"); (li != nil) != tc.lineItem {
				t.Errorf("Cancel Response line item %v, want one: %v\n%s", li, tc.lineItem, body)
			}
			if doc.FindElement("//CancellationResponse/recordTarget/Patient") == nil || doc.FindElement("//CancellationResponse/author/AgentPerson") == nil {
				t.Errorf("Cancel Response does not repeat the request's patient and author\n%s", body)
			}
			if _, _, err := v3.Parse(body); err != nil {
				t.Errorf("Cancel Response unreadable: %v", err)
			}
		})
	}
}

// TestCancelUnmappableOverSOAP: over the SOAP door, a Cancel Request
// porxgate cannot map is answered in the HTTP response with the Cancel
// Response Spine answers it with (AE, 5000), not a SOAP fault.
func TestCancelUnmappableOverSOAP(t *testing.T) {
	f := newFlow(t)
	g, _ := startFlowGateway(t, f, newMemoryStore(), cancelTestOptions(time.Hour, 2*time.Second), nil)
	noLineItem := regexp.MustCompile(`(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`)
	payload := noLineItem.ReplaceAllString(string(legacyCancel(t, rxFixture)), "")
	payload = regexp.MustCompile(`^<\?xml[^>]*\?>\s*`).ReplaceAllString(payload, "")
	code, body := sendSOAP(t, g.base, soapEnvelope(strings.ToLower(newID(t, 7)), v3.CancelRequest, payload))
	if code != 200 {
		t.Fatalf("SOAP cancel = %d, want 200 with the Cancel Response\n%s", code, body)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatal(err)
	}
	cr := doc.FindElement("//" + v3.CancelResponse)
	if cr == nil {
		t.Fatalf("no %s in the SOAP answer\n%s", v3.CancelResponse, body)
	}
	if ack := cr.FindElement("acknowledgement"); ack == nil || ack.SelectAttrValue("typeCode", "") != "AE" {
		t.Errorf("Cancel Response acknowledgement %v, want AE\n%s", ack, body)
	}
	if v := cr.FindElement(".//CancellationResponse/pertinentInformation3/pertinentResponse/value"); v == nil || v.SelectAttrValue("code", "") != "5000" {
		t.Errorf("Cancel Response code %v, want 5000\n%s", v, body)
	}
}
