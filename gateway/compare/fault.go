package compare

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
)

// RouteFault is a SOAP fault the legacy route answered with in place of an
// HL7 answer: Spine's own refusal of the message, with its TMS codes.
type RouteFault struct {
	// Status is the HTTP status it came with (Spine: 500).
	Status int
	// Fault is the fault as read.
	Fault *ebxml.SOAPFault
}

// Error implements error.
func (e *RouteFault) Error() string {
	return fmt.Sprintf("answered %d with a %s", e.Status, e.Fault.Error())
}

// readFault reads a SOAP 1.1 fault (faultcode, faultstring and Spine's
// detail/nasp:errorList) out of a response body; ok is false when the body
// is not a SOAP envelope whose Body holds a Fault. It is liberal: names
// are matched without their namespace prefixes, and what is missing is
// left empty.
func readFault(body []byte) (f *ebxml.SOAPFault, ok bool) {
	if !bytes.Contains(body, []byte("Fault")) {
		return nil, false
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(body) != nil || doc.Root() == nil || doc.Root().Tag != "Envelope" {
		return nil, false
	}
	var fe *etree.Element
	for _, c := range doc.Root().ChildElements() {
		if c.Tag == "Body" {
			if kids := c.ChildElements(); len(kids) > 0 && kids[0].Tag == "Fault" {
				fe = kids[0]
			}
			break
		}
	}
	if fe == nil {
		return nil, false
	}
	f = &ebxml.SOAPFault{FaultCode: childText(fe, "faultcode"), FaultString: childText(fe, "faultstring")}
	for _, d := range fe.ChildElements() {
		if d.Tag != "detail" {
			continue
		}
		for _, list := range d.ChildElements() {
			if list.Tag != "errorList" {
				continue
			}
			for _, e := range list.ChildElements() {
				if e.Tag != "error" {
					continue
				}
				f.Errors = append(f.Errors, ebxml.SOAPError{CodeContext: childText(e, "codeContext"), Code: childText(e, "errorCode"),
					Severity: childText(e, "severity"), Location: childText(e, "location"), Description: childText(e, "description")})
			}
		}
	}
	return f, true
}

// childText is the trimmed text of e's first child named tag, or "".
func childText(e *etree.Element, tag string) string {
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			return strings.TrimSpace(c.Text())
		}
	}
	return ""
}
