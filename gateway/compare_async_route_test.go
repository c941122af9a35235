package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
)

// TestLegacyPrimaryRouteAnsweringAsyncOnly: with the legacy path primary,
// a route that takes the message and answers only asynchronously, to
// another endpoint (HTTP 202 with an empty body, or an eb:Acknowledgment
// without an HL7 payload: an MHS adaptor in async mode), is sent it once.
// Its answer could never come back in the HTTP response, and the message
// has reached Spine: an ebXML message is done with no answer, a SOAP
// request refused for good (fault 300, kept for its retries); either way
// the journal says why nothing was compared. Before, such an answer was
// taken for the route being unavailable: an ebXML message was deferred
// without using an attempt and sent to Spine again every retry interval,
// for ever (about 30 calls a second here), and a SOAP sender was told to
// retry (fault 200), each retry sent to Spine again.
func TestLegacyPrimaryRouteAnsweringAsyncOnly(t *testing.T) {
	ack := "<SOAP:Envelope xmlns:SOAP=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:eb=\"http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd\"><SOAP:Header>" +
		"<eb:MessageHeader eb:version=\"2.0\"><eb:From><eb:PartyId>YES-0000806</eb:PartyId></eb:From><eb:To><eb:PartyId>YEA-0000806</eb:PartyId></eb:To>" +
		"<eb:CPAId>S0000000A0000000</eb:CPAId><eb:ConversationId>C</eb:ConversationId><eb:Service>urn:oasis:names:tc:ebxml-msg:service</eb:Service><eb:Action>Acknowledgment</eb:Action>" +
		"<eb:MessageData><eb:MessageId>A</eb:MessageId><eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp><eb:RefToMessageId>R</eb:RefToMessageId></eb:MessageData></eb:MessageHeader>" +
		"<eb:Acknowledgment eb:version=\"2.0\"><eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp><eb:RefToMessageId>R</eb:RefToMessageId></eb:Acknowledgment></SOAP:Header><SOAP:Body/></SOAP:Envelope>"
	routes := []struct {
		name, contentType, body string
		status                  int
	}{
		{"202 empty", "", "", http.StatusAccepted},
		{"202 eb:Acknowledgment", "text/xml", ack, http.StatusAccepted},
	}
	for i, rt := range routes {
		for _, soap := range []bool{false, true} {
			t.Run(rt.name+map[bool]string{false: "/ebXML", true: "/SOAP"}[soap], func(t *testing.T) {
				route, calls := routeAnswering(t, rt.status, rt.contentType, rt.body)
				j := newTestJournal(t)
				fhir := newFakeProcessor()
				fhir.supports[releaseReq] = true
				proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, fhir,
					&compare.Legacy{URL: route.URL}, j, NewMetrics(), quietLog())
				g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
				var id string
				if soap {
					id = "6E2F1C2D-0000-4000-8000-0000000009A" + string(rune('0'+i))
					env := soapEnvelope(id, releaseReq, soapPayload)
					code, body := sendSOAP(t, g.base, env)
					if got, _ := faultCode(t, body); code != http.StatusInternalServerError || got != "300" {
						t.Fatalf("SOAP sender got %d fault %q, want a final fault 300 (no answer can come)\n%s", code, got, body)
					}
					if code2, body2 := sendSOAP(t, g.base, env); code2 != code || string(body2) != string(body) {
						t.Errorf("its retry got %d, not the first answer again\n%s", code2, body2)
					}
				} else {
					r := newReq(newID(t, 960+i))
					id = r.messageID
					if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
						t.Fatalf("ebXML POST = %d\n%s", code, body)
					}
				}
				if cmp := waitComparison(t, j, id); cmp.Result != compareError || !strings.Contains(cmp.Error, "asynchronously") {
					t.Errorf("comparison %s %q, want an error saying the route answers asynchronously only", cmp.Result, cmp.Error)
				}
				time.Sleep(500 * time.Millisecond) // a message sent to Spine again would show now
				if n := calls.Load(); n != 1 {
					t.Errorf("the legacy route got %d calls, want 1", n)
				}
				if n := fhir.callsFor(id); n != 0 {
					t.Errorf("the FHIR path ran %d times, want none (nothing to compare it with)", n)
				}
			})
		}
	}
}
