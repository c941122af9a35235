package ebxml

import (
	"fmt"
)

// SOAPRequest is a SOAP sync request porxgate sends, as a legacy system
// sends it to Spine (comparison mode's legacy path): the WS-Addressing
// header and the HL7 payload for the Body.
type SOAPRequest struct {
	// MessageID is the request's id, a UUID; written "uuid:" + upper case.
	MessageID string
	// Action is wsa:Action, e.g. "urn:nhs:names:services:mm/PORX_IN132004UK30".
	Action string
	// To is wsa:To, the endpoint.
	To string
	// FromAddress and ReplyTo are wsa:From/wsa:Address and
	// wsa:ReplyTo/wsa:Address; each is left out when empty.
	FromAddress, ReplyTo string
	// ReceiverASID and SenderASID fill hl7:communicationFunctionRcv and
	// hl7:communicationFunctionSnd; each is left out when empty.
	ReceiverASID, SenderASID string
	// Payload is one XML element, written into SOAP Body untouched.
	Payload []byte
}

// BuildSOAPRequest writes r as a SOAP 1.1 envelope (Content-Type text/xml)
// in the shape ParseSOAPRequest reads.
func BuildSOAPRequest(r SOAPRequest) ([]byte, error) {
	if err := missing("BuildSOAPRequest",
		[2]string{"MessageID", stripUUIDScheme(r.MessageID)}, [2]string{"Action", r.Action}); err != nil {
		return nil, err
	}
	payload, err := payloadElement(r.Payload)
	if err != nil {
		return nil, fmt.Errorf("ebxml: BuildSOAPRequest: %w", err)
	}
	var w writer
	w.soapStart(r.MessageID, r.Action)
	w.elem("    ", "wsa:To", r.To)
	for _, a := range []struct{ name, addr string }{{"wsa:From", r.FromAddress}, {"wsa:ReplyTo", r.ReplyTo}} {
		if a.addr != "" {
			w.s("    <", a.name, ">\n")
			w.elem("      ", "wsa:Address", a.addr)
			w.s("    </", a.name, ">\n")
		}
	}
	w.commFunction("communicationFunctionRcv", "RCV", r.ReceiverASID)
	w.commFunction("communicationFunctionSnd", "SND", r.SenderASID)
	w.soapEnd(payload)
	return w.Bytes(), nil
}
