package gateway

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/journal"
)

// soapMessageLocal is the fiber.Ctx local under which the SOAP door keeps
// the request it has read, for the journal of a refusal (refuseSOAP).
const soapMessageLocal = "porxgate.soapMessage"

// journalRefusal records in the journal a request a front door refused
// before taking it, as any other exchange: the request as received (its
// HL7 payload, when one could be read), the refusal sent back (the body
// of the answer c holds) and the outcome "refused" with its code. The
// exchange has a new id of its own and is found by the request's
// MessageId among its ids: a refused message must not add steps to, or
// change the outcome of, an exchange of the same MessageId taken before
// (a retry past its time to live) or another sender's. Nothing is
// recorded without a journal.
func (g *messaging) journalRefusal(c *fiber.Ctx, in *Inbound, payload []byte, code, text string) {
	if g.journal == nil {
		return
	}
	id := strings.ToUpper(g.newID())
	now := g.now()
	req := &journal.Step{At: now, Kind: journal.StepLegacyRequest, Interaction: in.Interaction,
		Title: "legacy request over " + string(in.Transport) + ", refused at the front door", Headers: transportHeaders(in)}
	switch {
	case len(payload) == 0:
		req.Note = "no HL7 payload could be read from it"
	case utf8.Valid(payload):
		req.ContentType, req.Body = "application/xml", string(payload)
	default:
		req.ContentType, req.Body = "application/xml", base64.StdEncoding.EncodeToString(payload)
		req.Headers["Content-Transfer-Encoding"] = "base64"
	}
	g.journal.Record(journal.Event{Exchange: id, At: now, Interaction: in.Interaction, Transport: string(in.Transport), Party: partyOf(in),
		IDs: journal.IDs{MessageIDs: nonEmpty(in.MessageID), ConversationID: in.ConversationID, RefToMessageIDs: nonEmpty(in.RefToMessageID)}, Step: req})
	g.journal.Record(journal.Event{Exchange: id,
		Step: &journal.Step{At: now, Kind: journal.StepFault, Title: "refused before it was taken", Note: text,
			ContentType: xmlContentType, Body: string(c.Response().Body())},
		Outcome: &journal.Outcome{Result: "refused", Code: code, Text: text}})
}

// journalEbXMLRefusal is journalRefusal for the ebXML door's MessageError
// me; msg is the message as far as it could be read (nil: not at all).
func (g *messaging) journalEbXMLRefusal(c *fiber.Ctx, msg *ebxml.Message, me *ebxml.MessageError) {
	in := &Inbound{Transport: TransportEbXML}
	var payload []byte
	if msg != nil {
		in.MessageID, in.Interaction, in.Service, in.ConversationID = msg.MessageID, msg.Action, msg.Service, msg.ConversationID
		in.RefToMessageID, in.FromParty, in.ToParty, in.CPAID = msg.RefToMessageID, msg.FromPartyID, msg.ToPartyID, msg.CPAID
		if msg.Payload != nil {
			payload = msg.Payload.Body
		}
	}
	g.journalRefusal(c, in, payload, string(me.Code), me.Description())
}

// journalSOAPRefusal is journalRefusal for the SOAP door's fault f, with
// the request as far as the door read it (soapMessageLocal).
func (g *messaging) journalSOAPRefusal(c *fiber.Ctx, f *ebxml.SOAPFault) {
	in := &Inbound{Transport: TransportSOAP}
	var payload []byte
	if msg, ok := c.Locals(soapMessageLocal).(*ebxml.SOAPMessage); ok && msg != nil {
		in.MessageID, in.Interaction, in.RefToMessageID = msg.MessageUUID(), msg.Interaction(), msg.RelatesTo
		in.FromASID, in.ToASID, in.FromAddress, in.ToAddress = msg.SenderASID, msg.ReceiverASID, msg.FromAddress, msg.To
		payload = msg.Payload
	}
	g.journalRefusal(c, in, payload, firstFaultCode(f), faultText(f))
}
