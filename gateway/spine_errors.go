package gateway

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
)

// Description numbers of the refusals the gateway itself writes, in
// porxgate's own 91xxxx range (the ebxml package uses 90xxxx; Spine's own
// numbers, such as ebxml.NumUnknownCPAID, are used where Spine has one).
const (
	// NumBodyTooLarge: the request body is larger than --max-body.
	NumBodyTooLarge = 910001
	// NumUnknownParty: the sender's party key is not in the routing table.
	NumUnknownParty = 910002
	// NumUnsupportedInteraction: no processor handles the interaction.
	NumUnsupportedInteraction = 910003
	// NumStoreUnavailable: the message could not be stored; the sender should
	// retry. Since the NHS MHS adaptor retries only SOAP faults with Spine's
	// retryable TMS codes (see storeUnavailableFault), it appears in the
	// description of a TMS 200 fault, not in a MessageError.
	NumStoreUnavailable = 910004
	// NumNoPayload: the message has no HL7 payload part.
	NumNoPayload = 910005
	// NumUnsupportedService: eb:Service is not urn:nhs:names:services:mm.
	NumUnsupportedService = 910006
	// NumNotProcessed: an acknowledged message could not be processed and
	// went to the dead letters; the sender gets an async MessageError.
	NumNotProcessed = 910009
	// NumInternalFailure: the gateway failed while taking the message (a
	// request handler panicked); the sender should retry, in a TMS 200
	// fault as for NumStoreUnavailable.
	NumInternalFailure = 910012
	// NumAckNotAddressee: an eb:Acknowledgment names one of our pending
	// deliveries but comes from a party other than the one it was sent to;
	// the delivery keeps its retries.
	NumAckNotAddressee = 910020
	// NumUnreadableHeaders: the request's HTTP headers cannot be read (white
	// space before a colon, a Content-Type given twice, a control
	// character), so the request was refused before any door ran.
	NumUnreadableHeaders = 910022
	// NumSenderCertificate: the route of the message's eb:From party names
	// the client certificates the party's MHS presents (certNames), and the
	// message came with none of them (SecurityFailure); or --soap-asids
	// binds the party key (an ASID) and the message or SOAP request (fault
	// 300) came with none of its names (claimBound).
	NumSenderCertificate = 910023
	// NumMessageIDReused: a SOAP request's wsa:MessageID was answered, within
	// the persist duration, to another sender (its ASID or, naming none,
	// its client certificate: soapSender); the kept answer is that
	// sender's alone (fault 300).
	NumMessageIDReused = 910024
	// NumMessageIDOfOtherParty: an ebXML message's eb:MessageId was taken,
	// within the persist duration, from another eb:From party: not a
	// retry of it (a MessageId is its sender's), refused Inconsistent
	// rather than acknowledged and dropped as a duplicate.
	NumMessageIDOfOtherParty = 910041
	// NumPayloadNotAction: a request's payload root element is not the
	// interaction its wsa:Action (SOAP: fault 300) or eb:Action (ebXML:
	// MessageError Inconsistent) names: Spine routes and validates a
	// request by its action.
	NumPayloadNotAction = 910025
	// NumTimeToLiveExpired: the message's eb:TimeToLive had passed when it
	// arrived; it is not delivered (ebMS 2.0 §6.4.4, TimeToLiveExpired).
	NumTimeToLiveExpired = 910021
)

// xmlContentType is the Content-Type of every envelope the front doors
// answer with: exactly "text/xml", as Spine sends it. The NHS MHS adaptor
// compares the header with "text/xml" for equality and refuses anything
// else, parameters included (NHSDigital/integration-adaptor-mhs,
// mhs/common/mhs_common/errors/soap_handler.py and ebxml_handler.py).
const xmlContentType = "text/xml"

// storeUnavailableFault is the answer, on either front door, to a message
// that could not be recorded because the store is unavailable: HTTP 500
// with a SOAP fault carrying TMS code 200 "System failure to process
// message". Spine's SOAP faults with codes 200, 206 and 208 are the only
// errors an MHS retries (NHSDigital/integration-adaptor-mhs,
// mhs/common/mhs_common/messages/soap_fault_envelope.py SOAP_ERRORS_TO_RETRY,
// used by workflow/asynchronous_reliable.py for ebXML reliable requests);
// an eb:MessageError is taken as final. See docs/spine-errors.md.
func storeUnavailableFault(what string) *ebxml.SOAPFault {
	return fault(ebxml.TMSCodeSystemFailure, fmt.Sprintf("%d:%s could not be recorded (store unavailable); send it again", NumStoreUnavailable, what))
}

// sendMessageError answers an ebXML request with HTTP 500 and an
// eb:MessageError about received (which may be nil or incomplete).
func (g *messaging) sendMessageError(c *fiber.Ctx, received *ebxml.Message, me *ebxml.MessageError) error {
	now := g.now()
	body, err := ebxml.BuildMessageError(received, g.newID(), now, me)
	if err != nil {
		body, err = ebxml.BuildMessageError(nil, "", now, me)
	}
	if err != nil {
		return fmt.Errorf("building MessageError: %w", err)
	}
	c.Set(fiber.HeaderContentType, xmlContentType)
	return c.Status(fiber.StatusInternalServerError).Send(body)
}

// sendFault answers a SOAP request with HTTP 500 and f.
func sendFault(c *fiber.Ctx, f *ebxml.SOAPFault) error {
	body, err := ebxml.BuildSOAPFault(*f)
	if err != nil {
		return fmt.Errorf("building SOAP fault: %w", err)
	}
	c.Set(fiber.HeaderContentType, xmlContentType)
	return c.Status(fiber.StatusInternalServerError).Send(body)
}

// fault returns a Spine-style SOAP fault with one TMS error: faultcode
// SOAP:Server, faultstring "Application Exception", as in Spine's faults
// (NHSDigital/integration-adaptor-mhs,
// mhs/common/mhs_common/messages/tests/test_messages/soapfault_response_*.xml).
func fault(code, description string) *ebxml.SOAPFault {
	return &ebxml.SOAPFault{
		FaultCode: ebxml.FaultCodeServer, FaultString: "Application Exception",
		Errors: []ebxml.SOAPError{{CodeContext: ebxml.TMSCodeContext, Code: code, Severity: ebxml.SeverityError, Description: description}},
	}
}

// transportError answers a front-door request the server refused before
// the door ran in the shape the door's callers read; false when the path is
// not a front door. (A body over --max-body is the doors' own refusal: the
// server streams bodies, and readFrontBody bounds them.)
func (s *Server) transportError(c *fiber.Ctx, code int, err error) (bool, error) {
	text := err.Error()
	switch c.Path() {
	case PathEbXML:
		s.log.Warn("ebXML request refused", "transport", TransportEbXML, "status", code, "reason", text)
		s.msg.metrics.received.WithLabelValues(string(TransportEbXML), "refused").Inc()
		return true, s.msg.sendMessageError(c, nil, ebxml.NewMessageError(ebxml.CodeUnknown, 0, text))
	case PathSOAP:
		s.log.Warn("SOAP request refused", "transport", TransportSOAP, "status", code, "reason", text)
		s.msg.metrics.received.WithLabelValues(string(TransportSOAP), "refused").Inc()
		return true, sendFault(c, fault(ebxml.TMSCodeMalformed, text))
	}
	return false, nil
}

// headerReadError is a request the HTTP server could not read past its
// headers: the path its request line named (when a POST's could be read)
// and why, without the request's bytes.
type headerReadError struct {
	path, reason string
	// tooLarge: the head did not fit the read buffer (--max-header).
	tooLarge bool
}

// readUnreadableHeaders recognises the HTTP server's (fasthttp's) error for
// request headers it cannot read. Its text carries a snippet of the
// request's first bytes, payload (patient data) included: the snippet is
// used only to find which door the request line named, and dropped.
func readUnreadableHeaders(err error) (headerReadError, bool) {
	const prefix, snippet = "error when reading request headers: ", "buffer size="
	msg := err.Error()
	i := strings.Index(msg, prefix)
	if i < 0 {
		return headerReadError{}, false
	}
	reason, rest, _ := strings.Cut(msg[i+len(prefix):], snippet)
	var h headerReadError
	h.reason = strings.TrimSuffix(strings.TrimRight(reason, " "), ":")
	if _, contents, ok := strings.Cut(rest, `contents: "`); ok {
		line, _, _ := strings.Cut(contents, `\r\n`)
		if f := strings.Fields(line); len(f) >= 2 && f[0] == fiber.MethodPost {
			h.path, _, _ = strings.Cut(f[1], "?")
		}
	}
	return h, true
}

// unreadableHeaders answers a request whose headers could not be read:
// at a front door, with that door's refusal (an eb:MessageError
// MimeProblem 910022, a SOAP fault 300; for a head over --max-header,
// NotSupported 910026, as for a body over --max-body, and fault 300),
// else HTTP 400 (431 for a head too large) saying why; never with the
// request's bytes. What the sender still sends of its request is read
// and dropped before the connection closes (refusedUnread), so that the
// refusal reaches it rather than a connection reset.
func (s *Server) unreadableHeaders(c *fiber.Ctx, h headerReadError) error {
	refusedUnread(c)
	text := fmt.Sprintf("the request's HTTP headers cannot be read: %s", h.reason)
	code, num, status := ebxml.CodeMimeProblem, NumUnreadableHeaders, fiber.StatusBadRequest
	if h.tooLarge {
		text = fmt.Sprintf("the request's HTTP headers exceed the %d-byte limit (request line and headers together)", headerLimit(s.cfg))
		code, num, status = ebxml.CodeNotSupported, NumHeadersTooLarge, fiber.StatusRequestHeaderFieldsTooLarge
	}
	switch h.path {
	case PathEbXML:
		s.log.Warn("ebXML request refused", "transport", TransportEbXML, "reason", text)
		s.msg.metrics.received.WithLabelValues(string(TransportEbXML), "refused").Inc()
		me := ebxml.NewMessageError(code, num, text)
		err := s.msg.sendMessageError(c, nil, me)
		s.msg.journalEbXMLRefusal(c, nil, me)
		return err
	case PathSOAP:
		s.log.Warn("SOAP request refused", "transport", TransportSOAP, "reason", text)
		s.msg.metrics.received.WithLabelValues(string(TransportSOAP), "refused").Inc()
		f := fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:%s", num, text))
		err := sendFault(c, f)
		s.msg.journalSOAPRefusal(c, f)
		return err
	}
	return c.Status(status).JSON(fiber.Map{"error": text})
}
