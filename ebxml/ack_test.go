package ebxml

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/racetest"
)

// asErrorList is errors.As for *ErrorListError.
func asErrorList(err error, target **ErrorListError) bool { return errors.As(err, target) }

func TestParseAcknowledgment(t *testing.T) {
	received := mustParse(t, testContentType, testSOAPAction, requestLF(t))
	ack, err := BuildAcknowledgment(received, "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ackStr := string(ack)
	multipartAck := "--XyZ\r\nContent-Id: <ebXMLHeader@spine.nhs.uk>\r\nContent-Type: text/xml\r\n\r\n" + ackStr + "\r\n--XyZ--\r\n"
	noAckRef := strings.Replace(ackStr, "      <eb:RefToMessageId>"+testMessageID+"</eb:RefToMessageId>\n", "", 1)
	neither := strings.NewReplacer("eb:Acknowledgment", "eb:StatusResponse").Replace(ackStr)
	tests := []struct {
		name     string
		body     string
		ref      string
		wantErr  error
		wantCode ErrorCode
	}{
		{"text/xml ack", ackStr, testMessageID, nil, ""},
		{"multipart ack", multipartAck, testMessageID, nil, ""},
		{"ack ref from MessageData", noAckRef, testMessageID, nil, ""},
		{"neither ack nor error", neither, testMessageID, ErrNotAcknowledgment, ""},
		{"empty", "  ", "", nil, CodeMimeProblem},
		{"not XML", "<SOAP:Envelope", "", nil, CodeOtherXML},
		{"not SOAP", "<x/>", "", nil, CodeOtherXML},
		{"multipart without parts", "--XyZ--", "", nil, CodeMimeProblem},
		{"multipart without boundary", "--\n", "", nil, CodeMimeProblem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := ParseAcknowledgment([]byte(tt.body))
			if ref != tt.ref {
				t.Errorf("ref = %q, want %q", ref, tt.ref)
			}
			// ParseSignal says the same and who sent it: the party the
			// acknowledged message was sent to.
			sig, serr := ParseSignal([]byte(tt.body))
			if sig.RefToMessageID != ref || (serr == nil) != (err == nil) {
				t.Errorf("ParseSignal = %+v, %v; ParseAcknowledgment %q, %v", sig, serr, ref, err)
			}
			if ref != "" && (sig.FromPartyID != received.ToPartyID || sig.CPAID != received.CPAID) {
				t.Errorf("signal from %q under CPA %q, want %q under %q", sig.FromPartyID, sig.CPAID, received.ToPartyID, received.CPAID)
			}
			switch {
			case tt.wantCode != "":
				if me := asMessageError(t, err); me.Code != tt.wantCode {
					t.Errorf("code = %s, want %s", me.Code, tt.wantCode)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestBuildersRejectMissingInput(t *testing.T) {
	received := mustParse(t, testContentType, testSOAPAction, requestLF(t))
	now := time.Unix(0, 0)
	o := goldenOutbound(t)
	checks := []struct {
		name string
		err  error
	}{
		{"ack nil received", second(BuildAcknowledgment(nil, "x", now))},
		{"ack no id", second(BuildAcknowledgment(received, "", now))},
		{"error no errs", second(BuildMessageError(received, "x", now))},
		{"error nil err", second(BuildMessageError(received, "x", now, nil))},
		{"error addressed no id", second(BuildMessageError(received, "", now, NewMessageError(CodeUnknown, 1, "x")))},
		{"message no action", third(BuildMessage(with(o, func(o *OutboundMessage) { o.Action = "" })))},
		{"message no payload", third(BuildMessage(with(o, func(o *OutboundMessage) { o.Payload = nil })))},
		{"message no time", third(BuildMessage(with(o, func(o *OutboundMessage) { o.Timestamp = time.Time{} })))},
		{"message boundary in payload", third(BuildMessage(with(o, func(o *OutboundMessage) { o.Payload = []byte("<a>----=_MIME-Boundary</a>") })))},
		{"message bad boundary", third(BuildMessage(with(o, func(o *OutboundMessage) { o.Boundary = "a\"b" })))},
		{"message bad cid", third(BuildMessage(with(o, func(o *OutboundMessage) { o.PayloadContentID = "a>\r\nX-Evil: 1" })))},
		{"soap response no relates", second(BuildSOAPResponse(SOAPResponse{MessageID: "x", Action: "a", Payload: []byte("<a/>")}))},
		{"soap response bad payload", second(BuildSOAPResponse(SOAPResponse{MessageID: "x", Action: "a", RelatesTo: "r", Payload: []byte("<a>")}))},
		{"soap response two roots", second(BuildSOAPResponse(SOAPResponse{MessageID: "x", Action: "a", RelatesTo: "r", Payload: []byte("<a/><b/>")}))},
		{"soap response text", second(BuildSOAPResponse(SOAPResponse{MessageID: "x", Action: "a", RelatesTo: "r", Payload: []byte("<a/>junk")}))},
		{"soap response empty", second(BuildSOAPResponse(SOAPResponse{MessageID: "x", Action: "a", RelatesTo: "r", Payload: []byte("<?xml version='1.0'?>")}))},
		{"soap fault no errors", second(BuildSOAPFault(SOAPFault{}))},
	}
	for _, c := range checks {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// second returns the error of a two-result call.
func second[T any](_ T, err error) error { return err }

// third returns the error of a three-result call.
func third[A, B any](_ A, _ B, err error) error { return err }

// with returns a copy of o changed by f.
func with(o OutboundMessage, f func(*OutboundMessage)) OutboundMessage {
	f(&o)
	return o
}

// TestBuildAcknowledgmentOneBuffer: the front door's acknowledgment is
// written into one buffer sized up front (it took six as the buffer grew),
// so building one costs two allocations: the buffer and the reply header's
// timestamp.
func TestBuildAcknowledgmentOneBuffer(t *testing.T) {
	racetest.SkipAllocs(t)
	m := &Message{FromPartyID: "LOADGEN-000001", ToPartyID: "YES-0000806", CPAID: "S20001A000100",
		ConversationID: testMessageID, MessageID: testMessageID}
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	b, err := BuildAcknowledgment(m, "BBBBBBBB-0000-4000-8000-000000000001", now)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := BuildAcknowledgment(m, "BBBBBBBB-0000-4000-8000-000000000001", now); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("BuildAcknowledgment: %v allocations, want at most 2 (%d bytes)", n, len(b))
	}
}
