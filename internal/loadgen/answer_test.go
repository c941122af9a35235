package loadgen

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// deliveredAnswer is an answer as a gateway delivers it (ebxml.BuildMessage),
// in the conversation of msgID, with payload.
func deliveredAnswer(t testing.TB, msgID string, ackRequested bool, payload string) (string, string) {
	t.Helper()
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: "YES-0000806", ToPartyID: LoadgenParty, CPAID: "S20001A000100", ConversationID: msgID,
		Action: "MCCI_IN010000UK13", MessageID: strings.ToUpper(ids.NewUUID()), RefToMessageID: msgID, Timestamp: stampStandIn,
		AckRequested: ackRequested, SyncReply: ackRequested, DuplicateElimination: true, Payload: []byte(payload),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ct, string(body)
}

// parsedWhole is what the receiver took from a message before scanAnswer:
// ebxml.ParseRequest's fields (ok false when it gave no message).
func parsedWhole(ct string, body []byte) (answerFields, bool) {
	m, err := ebxml.ParseRequestWith(v3.ReadXML, ct, "", []byte(string(body)))
	if m == nil {
		return answerFields{}, false
	}
	_ = err
	return fieldsOf(m), true
}

// TestScanAnswerIsParseRequest: for the answers a gateway delivers, and
// the same written as other senders might (other prefixes, LF line ends,
// an unquoted boundary, the other SOAP actor), scanAnswer finds what
// ebxml.ParseRequest reads; for anything it is not sure of it says so
// (and the receiver reads the message whole).
func TestScanAnswerIsParseRequest(t *testing.T) {
	id := strings.ToUpper(ids.NewUUID())
	mcci := func(code string) string {
		return `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><id root="` + ids.NewUUID() + `"/><acknowledgement typeCode="` + code + `"><messageRef><id root="` + id + `"/></messageRef></acknowledgement></MCCI_IN010000UK13>`
	}
	ct, aa := deliveredAnswer(t, id, true, mcci("AA"))
	_, ae := deliveredAnswer(t, id, false, mcci("AE"))
	_, plain := deliveredAnswer(t, id, true, `<PORX_IN080101UK04 xmlns="urn:hl7-org:v3"/>`)
	unquoted := strings.Replace(ct, `boundary="`+ebxml.DefaultBoundary+`"`, "boundary="+ebxml.DefaultBoundary, 1)
	for _, tc := range []struct {
		name, ct, body string
		scanned        bool
		code           string
	}{
		{"AA with eb:AckRequested", ct, aa, true, "AA"},
		{"AE without", ct, ae, true, "AE"},
		{"no HL7 acknowledgement: the interaction", ct, plain, true, "MCCI_IN010000UK13"},
		{"other prefixes", ct, strings.NewReplacer("eb:", "ebms:", "xmlns:eb=", "xmlns:ebms=", "SOAP:", "soapenv:", "xmlns:SOAP=", "xmlns:soapenv=").Replace(aa), true, "AA"},
		{"LF line ends", ct, strings.ReplaceAll(aa, "\r\n", "\n"), true, "AA"},
		{"unquoted boundary", unquoted, aa, true, "AA"},
		{"nextMSH actor", ct, strings.Replace(aa, ebxml.ActorToPartyMSH, ebxml.ActorNextMSH, 1), true, "AA"},
		{"spaces around an id", ct, strings.Replace(aa, ">"+id+"<", ">\n  "+id+"  \n<", 1), true, "AA"},
		// Read whole: scanAnswer is not sure.
		{"a comment in the header", ct, strings.Replace(aa, "<eb:CPAId>", "<!-- x --><eb:CPAId>", 1), false, "AA"},
		{"an entity in an id", ct, strings.Replace(aa, "S20001A000100", "S20001A&amp;00100", 1), false, "AA"},
		{"no ConversationId", ct, strings.Replace(aa, "ConversationId", "Conversation", 2), false, ""},
		{"no boundary", "multipart/related", aa, false, ""},
		{"payload first", ct, "--" + ebxml.DefaultBoundary + "\r\nContent-Type: application/xml\r\n\r\n" + mcci("AR") + "\r\n" + aa, false, ""},
		{"cut before the payload", ct, aa[:strings.Index(aa, "</SOAP:Envelope>")], false, ""},
		{"not multipart", "text/xml", "<SOAP:Envelope/>", false, ""},
		{"empty", ct, "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := scanAnswer(tc.ct, []byte(tc.body))
			if ok != tc.scanned {
				t.Fatalf("scanAnswer ok = %v, want %v (%+v)", ok, tc.scanned, got)
			}
			whole, parsed := parsedWhole(tc.ct, []byte(tc.body))
			if ok && (!parsed || got != whole) {
				t.Fatalf("scanAnswer found %+v, ParseRequest read %+v (%v)", got, whole, parsed)
			}
			if code := whole.code; ok && code != tc.code || !ok && parsed && tc.code != "" && code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
}

// FuzzScanAnswer: whatever is delivered, scanAnswer does not panic, and
// what it finds in a message ebxml.ParseRequest reads is what that reads.
func FuzzScanAnswer(f *testing.F) {
	ct, aa := deliveredAnswer(f, "B3A7B3A6-1C39-4A4E-9B8F-4A40B2B8A6C1", true,
		`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`)
	f.Add(ct, aa)
	f.Add(ct, strings.ReplaceAll(aa, "\r\n", "\n"))
	f.Add(ct, strings.Replace(aa, "eb:From", "eb:To", 1))
	f.Add("multipart/related; boundary=x", "--x\r\n\r\n<eb:MessageHeader><eb:ConversationId>1</eb:ConversationId></eb:MessageHeader>\r\n--x--")
	f.Fuzz(func(t *testing.T, ct, body string) {
		got, ok := scanAnswer(ct, []byte(body))
		if !ok {
			return
		}
		if got.conversationID == "" || got.messageID == "" || got.code == "" {
			t.Fatalf("scanned without an id: %+v", got)
		}
		if whole, parsed := parsedWhole(ct, []byte(body)); parsed && whole.conversationID != "" && whole != got {
			t.Fatalf("scanAnswer found %+v, ParseRequest read %+v", got, whole)
		}
	})
}
