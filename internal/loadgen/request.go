package loadgen

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	v3 "github.com/porxgate/porxgate/v3"
)

// The stand-ins a requestTemplate is built with, each as long as what
// takes its place in every message: a message id (an upper-case UUID, 36
// characters), a short-form prescription id (20) and an eb:Timestamp
// (20). They are made of characters no writer escapes.
const (
	msgIDStandIn = "00000000-L0AD-GEN0-MSG0-1D0000000000"
	shortStandIn = "SHORTFORM-LOADGEN-ID"
)

// stampStandIn is the eb:Timestamp the template is built with.
var stampStandIn = time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC)

// requestTemplate is the load's message made once: the ebXML Parent
// Prescription (template with its short-form id, transmission id,
// ConversationId, MessageId, payload Content-Id and eb:Timestamp) and,
// for the load generator's own connections, the HTTP request head before
// it. Each message is a copy with its own ids and time written over the
// stand-ins at offsets found once: the same bytes as mapping the template
// and building the ebXML message each time (TestRequestTemplateIsBuildMessage),
// without the five copies of the 20 KB message and the envelope's
// writing that cost.
type requestTemplate struct {
	// buf is the request: the HTTP head (when made with one), then body.
	buf []byte
	// head is the length of the HTTP head in buf (0 without one).
	head int
	// msgID, short and stamp are the offsets in buf of each place a
	// message's id, its short-form id and its eb:Timestamp go.
	msgID, short []int
	stamp        int
	// contentType is the body's HTTP Content-Type.
	contentType string
}

// soapAction is the HTTP SOAPAction of the load's messages.
const soapAction = ebxml.ServiceMM + "/" + v3.ParentPrescription

// requestPath is where the gateway takes ebXML messages.
const requestPath = "/reliablemessaging/reliablerequest"

// newRequestTemplate builds the load's message from the v3 template tpl
// (whose short-form id is shortID) as party from sends it. With host
// non-empty the HTTP/1.1 request head for POST path on host comes first,
// with the headers Go's HTTP client sends (Host, User-Agent,
// Content-Length, Content-Type, SOAPAction; no Accept-Encoding: nothing
// the load reads is compressed).
func newRequestTemplate(tpl []byte, shortID, from, host, path string) (*requestTemplate, error) {
	for _, s := range []string{msgIDStandIn, shortStandIn, ebxmlStamp(stampStandIn)} {
		if bytes.Contains(tpl, []byte(s)) {
			return nil, fmt.Errorf("load template: it holds the stand-in %q", s)
		}
	}
	payload := bytes.ReplaceAll(tpl, []byte(shortID), []byte(shortStandIn))
	payload = replaceTransmissionID(payload, msgIDStandIn)
	ct, body, err := ebxml.BuildMessage(outbound(from, msgIDStandIn, stampStandIn, payload))
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t := &requestTemplate{contentType: ct}
	if host != "" {
		t.buf = append(t.buf, "POST "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\nContent-Type: "+ct+"\r\nSOAPAction: "+soapAction+"\r\n\r\n"...)
		t.head = len(t.buf)
	}
	t.buf = append(t.buf, body...)
	t.msgID = offsets(t.buf, msgIDStandIn)
	t.short = offsets(t.buf, shortStandIn)
	stamps := offsets(t.buf, ebxmlStamp(stampStandIn))
	if len(t.msgID) == 0 || len(stamps) != 1 {
		return nil, fmt.Errorf("load template: %d message ids and %d timestamps in the built message, want some and one", len(t.msgID), len(stamps))
	}
	t.stamp = stamps[0]
	return t, nil
}

// outbound is the ebXML message the load sends: msgID as its
// ConversationId and MessageId, sent at now.
func outbound(from, msgID string, now time.Time, payload []byte) ebxml.OutboundMessage {
	return ebxml.OutboundMessage{
		FromPartyID: from, ToPartyID: "YES-0000806", CPAID: "S20001A000100",
		ConversationID: msgID, Action: v3.ParentPrescription, MessageID: msgID, Timestamp: now,
		AckRequested: true, SyncReply: true, DuplicateElimination: true, Payload: payload,
	}
}

// ebxmlStamp is t as an eb:Timestamp.
func ebxmlStamp(t time.Time) string { return t.UTC().Format(ebxml.TimestampLayout) }

// offsets returns where s starts in b, each time it does.
func offsets(b []byte, s string) []int {
	var out []int
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(s))
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + len(s)
	}
}

// fill writes into dst (reused when it is large enough) the request of
// the message with id msgID (36 characters) and short-form id short (20),
// sent at now, and returns it.
func (t *requestTemplate) fill(dst []byte, msgID, short string, now time.Time) []byte {
	dst = append(dst[:0], t.buf...)
	for _, o := range t.msgID {
		copy(dst[o:o+len(msgIDStandIn)], msgID)
	}
	for _, o := range t.short {
		copy(dst[o:o+len(shortStandIn)], short)
	}
	var stamp [len(ebxml.TimestampLayout)]byte
	now.UTC().AppendFormat(stamp[:0], ebxml.TimestampLayout)
	copy(dst[t.stamp:], stamp[:])
	return dst
}

// body is the ebXML body of a filled request.
func (t *requestTemplate) body(req []byte) []byte { return req[t.head:] }
