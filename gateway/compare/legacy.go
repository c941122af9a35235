package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	v3 "github.com/porxgate/porxgate/v3"
)

// maxAnswerBytes caps a legacy answer read; a longer one is no answer.
const maxAnswerBytes = 8 << 20

// ErrAsyncOnly: the route took the message and answers it only
// asynchronously, to another endpoint (HTTP 202, an empty 2xx, or an
// eb:Acknowledgment without an HL7 payload: an MHS, or the MHS adaptor,
// in async mode). No answer can come in the HTTP response, and sending the
// message again brings none: the route has it.
var ErrAsyncOnly = errors.New("the route took the message and answers only asynchronously, to another endpoint: no answer comes in the HTTP response (use a route that answers in it, e.g. the MHS adaptor in sync-async mode)")

// Request is one legacy message to send down the legacy path.
type Request struct {
	// Interaction is eb:Action (the interaction id); Service is eb:Service.
	Interaction, Service string
	// MessageID and ConversationID are sent as they were received, so
	// that the legacy answer refers to the same ids.
	MessageID, ConversationID string
	// FromParty, ToParty and CPAID address the message.
	FromParty, ToParty, CPAID string
	// Payload is the HL7 v3 message.
	Payload []byte
	// SOAP sends the request as SOAP sync (WS-Addressing) instead of ebXML;
	// FromASID, ToASID and FromAddress fill its header.
	SOAP                          bool
	FromASID, ToASID, FromAddress string
}

// Answer is the legacy path's answer.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Interaction is the answer's interaction (its root element).
	Interaction string
	// Payload is the HL7 v3 answer.
	Payload []byte
	// Took is how long the call took.
	Took time.Duration
}

// Legacy is the legacy path: the supplier's existing Spine route. It sends
// the message as it came — SOAP sync, or ebXML with eb:SyncReply — and
// takes the answer from the HTTP response, as Spine's sync service or an
// MHS in sync-async mode gives it: a multipart ebXML message carrying the
// HL7 answer, a SOAP envelope with it in its body, or the bare HL7 XML.
type Legacy struct {
	// URL is the endpoint.
	URL string
	// Client sends; nil: a client with a 30s timeout.
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Endpoint is URL without the user name and password it may carry (HTTP
// basic authentication to the route): what errors, the admin page and the
// message's wsa:To say.
func (l *Legacy) Endpoint() string {
	u, err := url.Parse(l.URL)
	if err != nil || u.User == nil {
		return l.URL
	}
	u.User = nil
	return u.String()
}

// Call sends r down the legacy path and returns its answer. A SOAP fault
// in place of the answer is an error holding a *RouteFault.
func (l *Legacy) Call(ctx context.Context, r Request) (Answer, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	client := l.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	ct, action, body, err := l.build(r, now())
	if err != nil {
		return Answer{}, fmt.Errorf("legacy path: build %s %s: %w", r.Interaction, r.MessageID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(body))
	if err != nil {
		return Answer{}, fmt.Errorf("legacy path: %w", err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", `"`+action+`"`)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("legacy path %s: %w", l.Endpoint(), err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return Answer{}, fmt.Errorf("legacy path %s: read answer: %w", l.Endpoint(), err)
	}
	a := Answer{Status: resp.StatusCode, Took: time.Since(start)}
	if len(rb) > maxAnswerBytes {
		// Cut at the cap, it would be an answer no longer whole.
		return a, fmt.Errorf("legacy path %s answered %d with more than %d bytes: no answer taken", l.Endpoint(), resp.StatusCode, maxAnswerBytes)
	}
	if f, ok := readFault(rb); ok {
		return a, fmt.Errorf("legacy path %s: %w", l.Endpoint(), &RouteFault{Status: resp.StatusCode, Fault: f})
	}
	if f, ok := readMessageError(rb); ok {
		return a, fmt.Errorf("legacy path %s: %w", l.Endpoint(), &RouteFault{Status: resp.StatusCode, Fault: f})
	}
	a.Payload, err = hl7Of(resp.Header.Get("Content-Type"), resp.Header.Get("SOAPAction"), rb)
	if err != nil && asyncOnly(resp.StatusCode, rb) {
		return a, fmt.Errorf("legacy path %s answered %d (%v): %w", l.Endpoint(), resp.StatusCode, err, ErrAsyncOnly)
	}
	if err != nil {
		return a, fmt.Errorf("legacy path %s answered %d: %w", l.Endpoint(), resp.StatusCode, err)
	}
	a.Interaction = rootTag(a.Payload)
	// An HL7 answer's root is its interaction; anything else (a proxy's
	// error page, a web server's 404) is no answer, whatever its status.
	if _, _, err := v3.Canonical(a.Interaction); err != nil {
		if asyncOnly(resp.StatusCode, rb) {
			return a, fmt.Errorf("legacy path %s answered %d with no HL7 answer: %w", l.Endpoint(), resp.StatusCode, ErrAsyncOnly)
		}
		return a, fmt.Errorf("legacy path %s answered %d with no HL7 answer (root element %q)", l.Endpoint(), resp.StatusCode, a.Interaction)
	}
	return a, nil
}

// asyncOnly reports whether an answer of status with body, which carries
// no HL7 answer, is a route taking the message to answer it elsewhere
// (ErrAsyncOnly): a 2xx that is 202 (accepted for later), empty, or an
// eb:Acknowledgment. Anything else (a proxy's error page, a 200 of
// something else) may be a route unavailable for a moment.
func asyncOnly(status int, body []byte) bool {
	if status < 200 || status > 299 {
		return false
	}
	if status == http.StatusAccepted || len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	_, err := ebxml.ParseAcknowledgment(body)
	return err == nil
}

// build writes r for the wire: its Content-Type, SOAPAction and body.
func (l *Legacy) build(r Request, now time.Time) (ct, action string, body []byte, err error) {
	svc := r.Service
	if svc == "" {
		svc = ebxml.ServiceMM
	}
	if r.SOAP {
		action = svc + "/" + r.Interaction
		body, err = ebxml.BuildSOAPRequest(ebxml.SOAPRequest{MessageID: r.MessageID, Action: action, To: l.Endpoint(),
			FromAddress: r.FromAddress, ReplyTo: r.FromAddress, ReceiverASID: r.ToASID, SenderASID: r.FromASID, Payload: r.Payload})
		return "text/xml; charset=UTF-8", action, body, err
	}
	o := ebxml.OutboundMessage{FromPartyID: orDefault(r.FromParty, "UNKNOWN"), ToPartyID: orDefault(r.ToParty, "YEA-0000806"),
		CPAID: orDefault(r.CPAID, "S0000000A0000000"), ConversationID: orDefault(r.ConversationID, r.MessageID),
		Service: svc, Action: r.Interaction, MessageID: r.MessageID, Timestamp: now.UTC(),
		SyncReply: true, DuplicateElimination: true, Payload: r.Payload}
	ct, body, err = ebxml.BuildMessage(o)
	return ct, o.SOAPAction(), body, err
}

// hl7Of finds the HL7 answer in a response body.
func hl7Of(contentType, soapAction string, body []byte) ([]byte, error) {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "multipart/") {
		m, err := ebxml.ParseRequest(contentType, soapAction, body)
		if err != nil {
			return nil, fmt.Errorf("ebXML answer: %w", err)
		}
		if m.Payload == nil || len(m.Payload.Body) == 0 {
			return nil, fmt.Errorf("ebXML answer without an HL7 payload (an async answer is not comparable here: use an MHS in sync-async mode)")
		}
		return m.Payload.Body, nil
	}
	if bytes.Contains(body[:min(len(body), 512)], []byte("Envelope")) {
		m, err := ebxml.ParseSOAPRequest(body)
		if err != nil {
			return nil, fmt.Errorf("SOAP answer: %w", err)
		}
		return m.Payload, nil
	}
	if rootTag(body) == "" {
		return nil, fmt.Errorf("answer is not HL7 v3 XML")
	}
	return body, nil
}

// rootTag returns the local name of the first element of an XML payload.
func rootTag(b []byte) string {
	s := string(b)
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			return ""
		}
		s = s[i+1:]
		if s[0] == '?' || s[0] == '!' {
			continue
		}
		end := strings.IndexAny(s, " \t\r\n/>")
		if end < 0 {
			return ""
		}
		tag := s[:end]
		if j := strings.IndexByte(tag, ':'); j >= 0 {
			tag = tag[j+1:]
		}
		return tag
	}
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
