package ebxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SOAPResponse is a SOAP sync response porxgate sends: the WS-Addressing
// header of Spine's sync answers and the HL7 payload for the Body.
type SOAPResponse struct {
	// MessageID is the response's own id, a UUID; written "uuid:" + upper case.
	MessageID string
	// Action is wsa:Action, e.g. "urn:nhs:names:services:mm/MCCI_IN010000UK13".
	Action string
	// To is wsa:To (written empty when empty, as Spine does).
	To string
	// FromAddress is wsa:From/wsa:Address; wsa:From is left out when empty.
	FromAddress string
	// ReceiverASID and SenderASID fill hl7:communicationFunctionRcv and
	// hl7:communicationFunctionSnd; each is left out when empty.
	ReceiverASID, SenderASID string
	// RelatesTo is the request's wsa:MessageID, written as given.
	RelatesTo string
	// Payload is one XML element (an XML declaration or BOM before it is
	// dropped), written into SOAP Body untouched. It must declare the
	// namespaces it uses itself.
	Payload []byte
}

// BuildSOAPResponse writes r as a SOAP 1.1 envelope (Content-Type
// text/xml) in the shape of Spine's sync responses: wsa:MessageID,
// wsa:Action, wsa:To, wsa:From, the communication-function ASIDs and
// wsa:RelatesTo in the header, the payload in the Body.
func BuildSOAPResponse(r SOAPResponse) ([]byte, error) {
	if err := missing("BuildSOAPResponse",
		[2]string{"MessageID", stripUUIDScheme(r.MessageID)}, [2]string{"Action", r.Action},
		[2]string{"RelatesTo", r.RelatesTo}); err != nil {
		return nil, err
	}
	payload, err := payloadElement(r.Payload)
	if err != nil {
		return nil, fmt.Errorf("ebxml: BuildSOAPResponse: %w", err)
	}
	var w writer
	w.soapStart(r.MessageID, r.Action)
	if r.To == "" {
		w.s("    <wsa:To/>\n")
	} else {
		w.elem("    ", "wsa:To", r.To)
	}
	if r.FromAddress != "" {
		w.s("    <wsa:From>\n")
		w.elem("      ", "wsa:Address", r.FromAddress)
		w.s("    </wsa:From>\n")
	}
	w.commFunction("communicationFunctionRcv", "RCV", r.ReceiverASID)
	w.commFunction("communicationFunctionSnd", "SND", r.SenderASID)
	w.elem("    ", "wsa:RelatesTo", r.RelatesTo)
	w.soapEnd(payload)
	return w.Bytes(), nil
}

// soapStart opens a SOAP sync envelope and its header with wsa:MessageID
// (uuid:, upper case) and wsa:Action: what requests and responses share.
func (w *writer) soapStart(messageID, action string) {
	w.s(xmlDecl, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="`, NSSOAP, `" xmlns:wsa="`, NSWSA, `" xmlns:hl7="`, NSHL7, "\">\n", "  <SOAP-ENV:Header>\n")
	w.elem("    ", "wsa:MessageID", "uuid:"+strings.ToUpper(stripUUIDScheme(messageID)))
	w.elem("    ", "wsa:Action", action)
}

// soapEnd closes the header, writes payload as the Body and closes the
// envelope.
func (w *writer) soapEnd(payload []byte) {
	w.s("  </SOAP-ENV:Header>\n  <SOAP-ENV:Body>\n")
	w.Write(payload)
	w.s("\n  </SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n")
}

// commFunction writes an hl7:communicationFunctionRcv/Snd header holding
// one device ASID; nothing when asid is empty.
func (w *writer) commFunction(name, typeCode, asid string) {
	if asid == "" {
		return
	}
	w.s("    <hl7:", name, ` typeCode="`, typeCode, "\">\n",
		"      <hl7:device classCode=\"DEV\" determinerCode=\"INSTANCE\">\n",
		`        <hl7:id root="`, ASIDRoot, `" extension="`)
	w.t(asid)
	w.s("\"/>\n      </hl7:device>\n    </hl7:", name, ">\n")
}

// payloadElement drops a BOM, an XML declaration and surrounding white
// space from p and checks that what is left is one well-formed element.
func payloadElement(p []byte) ([]byte, error) {
	p = trimXMLStart(p)
	if bytes.HasPrefix(p, []byte("<?xml")) {
		end := bytes.Index(p, []byte("?>"))
		if end < 0 {
			return nil, errors.New("payload XML declaration not closed")
		}
		p = trimXMLStart(p[end+2:])
	}
	p = bytes.TrimRight(p, " \t\r\n")
	if len(p) == 0 {
		return nil, errors.New("empty payload")
	}
	d := xml.NewDecoder(bytes.NewReader(p))
	d.CharsetReader = passThroughCharset
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("payload is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("payload has text outside its element")
			}
		case xml.ProcInst, xml.Directive:
			if depth == 0 {
				return nil, errors.New("payload has a processing instruction or directive outside its element")
			}
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("payload has %d root elements, want 1", roots)
	}
	return p, nil
}
