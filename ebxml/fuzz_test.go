package ebxml

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// FuzzParseRequest checks that ParseRequest never panics, that every
// failure is a *MessageError with a code and number, that whatever it
// accepts can be acknowledged with well-formed XML, and that
// ParseRequestInPlace reads the same message without changing its body.
// Seeds: testdata/fuzz/FuzzParseRequest.
func FuzzParseRequest(f *testing.F) {
	f.Add(testContentType, testSOAPAction, []byte("--MIME_boundary_4f1c7e2a\n\n<x/>\n--MIME_boundary_4f1c7e2a--"))
	f.Add("multipart/related; boundary=b", "", []byte("--b\r\n\r\n\r\n--b--"))
	f.Fuzz(func(t *testing.T, contentType, soapAction string, body []byte) {
		m, err := ParseRequest(contentType, soapAction, body)
		own := bytes.Clone(body)
		im, ierr := ParseRequestInPlace(nil, contentType, soapAction, own)
		if !reflect.DeepEqual(im, m) || fmt.Sprint(ierr) != fmt.Sprint(err) {
			t.Fatalf("ParseRequestInPlace = %+v, %v; ParseRequest %+v, %v", im, ierr, m, err)
		}
		if !bytes.Equal(own, body) {
			t.Fatal("ParseRequestInPlace changed the body it read")
		}
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) || me.Code == "" || me.Number == 0 {
				t.Fatalf("error %v (%T) is not a numbered *MessageError", err, err)
			}
			out, berr := BuildMessageError(m, "ID", time.Unix(0, 0), me)
			if berr != nil {
				t.Fatalf("BuildMessageError: %v", berr)
			}
			if _, xerr := parseXML(out, nil); xerr != nil {
				t.Fatalf("MessageError not well-formed: %v\n%s", xerr, out)
			}
			return
		}
		if m.MessageID == "" || m.CPAID == "" || m.Action == "" || m.FromPartyID == "" || m.ToPartyID == "" {
			t.Fatalf("accepted a message without required header fields: %+v", m)
		}
		if m.Payload != nil {
			found := false
			for i := range m.Parts {
				found = found || m.Payload == &m.Parts[i]
			}
			if !found {
				t.Fatal("Payload does not point into Parts")
			}
		}
		ack, err := BuildAcknowledgment(m, "ID", time.Unix(0, 0))
		if err != nil {
			t.Fatalf("BuildAcknowledgment: %v", err)
		}
		ref, err := ParseAcknowledgment(ack)
		if err != nil || ref != m.MessageID {
			t.Fatalf("acknowledgment does not read back: %q %v\n%s", ref, err, ack)
		}
	})
}

// FuzzParseSOAPRequest checks that ParseSOAPRequest never panics, that
// every failure is a *SOAPFault, and that an accepted payload is
// standalone well-formed XML that BuildSOAPResponse accepts.
// Seeds: testdata/fuzz/FuzzParseSOAPRequest.
func FuzzParseSOAPRequest(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseSOAPRequest(body)
		if err != nil {
			var sf *SOAPFault
			if !errors.As(err, &sf) || len(sf.Errors) == 0 {
				t.Fatalf("error %v (%T) is not a *SOAPFault", err, err)
			}
			if _, berr := BuildSOAPFault(*sf); berr != nil {
				t.Fatalf("BuildSOAPFault: %v", berr)
			}
			return
		}
		if _, err := parseXML(m.Payload, nil); err != nil {
			t.Fatalf("payload not standalone XML: %v\n%s", err, m.Payload)
		}
		out, err := BuildSOAPResponse(SOAPResponse{MessageID: "ID", Action: m.Action, RelatesTo: m.MessageID,
			ReceiverASID: m.SenderASID, SenderASID: m.ReceiverASID, To: m.To, Payload: m.Payload})
		if err != nil {
			t.Fatalf("BuildSOAPResponse rejects the payload: %v", err)
		}
		if _, err := ParseSOAPRequest(out); err != nil {
			t.Fatalf("response does not read back: %v\n%s", err, out)
		}
	})
}

// FuzzParseAcknowledgment checks that ParseAcknowledgment, which reads
// what any MHS posts to the ebXML door as text/xml or as an ebXML
// messaging-service message, never panics, that an acknowledgment it
// accepts names the message acknowledged, and that every failure is one
// of the errors it documents.
func FuzzParseAcknowledgment(f *testing.F) {
	m := &Message{FromPartyID: "A", ToPartyID: "B", CPAID: "C", ConversationID: "D", MessageID: "E"}
	ack, err := BuildAcknowledgment(m, "F", time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	me, err := BuildMessageError(m, "G", time.Unix(0, 0), NewMessageError(CodeValueNotRecognized, NumUnknownCPAID, "Unknown eb:CPAId"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ack)
	f.Add(me)
	f.Add(append([]byte("--b\r\nContent-Type: text/xml\r\n\r\n"), append(ack, []byte("\r\n--b--\r\n")...)...))
	f.Add([]byte("--\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ref, err := ParseAcknowledgment(body)
		var (
			me *MessageError
			el *ErrorListError
		)
		switch {
		case err == nil:
			if ref == "" {
				t.Fatal("an acknowledgment of nothing accepted")
			}
		case errors.As(err, &me), errors.As(err, &el), errors.Is(err, ErrNotAcknowledgment):
		default:
			t.Fatalf("undocumented error %v (%T)", err, err)
		}
	})
}
