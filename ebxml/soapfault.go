package ebxml

import (
	"strings"

	"github.com/beevik/etree"
)

// SOAP fault codes and the TMS error codes this package names.
const (
	// FaultCodeServer is the faultcode Spine uses for its SOAP faults.
	FaultCodeServer = "SOAP:Server"
	// FaultCodeClient is the faultcode for a request the client must fix.
	FaultCodeClient = "SOAP:Client"
	// FaultCodeVersionMismatch is SOAP 1.1's faultcode for an Envelope in
	// another namespace (SOAP 1.1 §4.4.1), e.g. a SOAP 1.2 envelope: SOAP 1.2
	// Appendix A has a SOAP 1.1 node answer a SOAP 1.2 message with it.
	FaultCodeVersionMismatch = "SOAP:VersionMismatch"
	// TMSCodeSystemFailure is TMS error 200, "System failure to process
	// message"; senders retry it. Source: NHSDigital/integration-adaptor-mhs,
	// mhs/common/mhs_common/messages/soap_fault_envelope.py
	// (SYSTEM_FAILURE_TO_PROCESS_MESSAGE_ERROR_CODE, in SOAP_ERRORS_TO_RETRY
	// with 206 and 208) and its Spine sample soapfault_response_single_error.xml.
	TMSCodeSystemFailure = "200"
	// TMSCodeNotWellFormed is TMS error 201, "The message is not well
	// formed", as Spine sends it (a Spine fault sample in
	// NHSDigital/integration-adaptor-mhs,
	// mhs/common/mhs_common/messages/tests/test_messages/soapfault_response_multiple_errors.xml);
	// senders do not retry it.
	TMSCodeNotWellFormed = "201"
	// TMSCodeMalformed is the TMS code ParseSOAPRequest puts in its faults:
	// 300, a code Spine uses that senders do not retry (a malformed request
	// fails the same way every time). The choice of 300 is porxgate's; the
	// code is Spine's (sample soapfault_response_single_error_300.xml in
	// NHSDigital/integration-adaptor-mhs, mhs/common/mhs_common/messages/tests/test_messages).
	TMSCodeMalformed = "300"
)

// SOAPError is one nasp:error of a Spine SOAP fault's nasp:errorList.
type SOAPError struct {
	// CodeContext is nasp:codeContext; TMSCodeContext when empty.
	CodeContext string
	// Code is nasp:errorCode, e.g. "200", "206", "300".
	Code string
	// Severity is nasp:severity; SeverityError when empty.
	Severity string
	// Location is nasp:location (written empty when empty).
	Location string
	// Description is nasp:description.
	Description string
}

// SOAPFault is a Spine-style SOAP 1.1 fault: faultcode, faultstring and a
// detail/nasp:errorList. ParseSOAPRequest returns one as its error;
// BuildSOAPFault writes one (the HTTP 500 body).
type SOAPFault struct {
	// FaultCode is the faultcode QName; FaultCodeServer when empty.
	FaultCode string
	// FaultString is faultstring; "System failure to process message" when empty.
	FaultString string
	// Errors are the nasp:error entries.
	Errors []SOAPError
	// Err is the underlying cause, if any; it is not written on the wire.
	Err error
}

// Error implements the error interface.
func (f *SOAPFault) Error() string {
	var b strings.Builder
	b.WriteString("soap fault ")
	b.WriteString(f.faultString())
	for _, e := range f.Errors {
		b.WriteString("; ")
		b.WriteString(e.Code)
		b.WriteString(" ")
		b.WriteString(e.Description)
	}
	if f.Err != nil {
		b.WriteString(": ")
		b.WriteString(f.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (f *SOAPFault) Unwrap() error { return f.Err }

// Retryable reports whether a sender would retry the request that drew
// this fault: true when every error's code is retryable (and there is at
// least one).
func (f *SOAPFault) Retryable() bool {
	if len(f.Errors) == 0 {
		return false
	}
	for _, e := range f.Errors {
		if !IsRetryableFaultCode(e.Code) {
			return false
		}
	}
	return true
}

// faultString returns FaultString or its default.
func (f *SOAPFault) faultString() string {
	if f.FaultString == "" {
		return "System failure to process message"
	}
	return f.FaultString
}

// IsRetryableFaultCode reports whether a Spine TMS fault code is one that
// senders retry: 200, 206 and 208. Every other code is final. Source: the
// NHS MHS adaptor's SOAP_ERRORS_TO_RETRY (NHSDigital/integration-adaptor-mhs,
// mhs/common/mhs_common/messages/soap_fault_envelope.py), used by its
// asynchronous reliable workflow.
func IsRetryableFaultCode(code string) bool {
	switch strings.TrimSpace(code) {
	case "200", "206", "208":
		return true
	}
	return false
}

// malformed returns the fault for a SOAP request that cannot be read.
func malformed(cause error, location, description string) *SOAPFault {
	return &SOAPFault{
		FaultCode:   FaultCodeServer,
		FaultString: "Application Exception",
		Errors: []SOAPError{{
			CodeContext: TMSCodeContext, Code: TMSCodeMalformed, Severity: SeverityError,
			Location: location, Description: description,
		}},
		Err: cause,
	}
}

// BuildSOAPFault writes f as a SOAP 1.1 fault envelope in the shape Spine
// uses (the HTTP 500 body, Content-Type text/xml):
// SOAP:Body/SOAP:Fault with faultcode, faultstring and
// detail/nasp:errorList/nasp:error (codeContext, errorCode, severity,
// location, description). f must hold at least one error.
func BuildSOAPFault(f SOAPFault) ([]byte, error) {
	if len(f.Errors) == 0 {
		return nil, &BuildError{What: "BuildSOAPFault", Missing: []string{"Errors"}}
	}
	code := f.FaultCode
	if code == "" {
		code = FaultCodeServer
	}
	var w writer
	w.s(xmlDecl, `<SOAP:Envelope xmlns:SOAP="`, NSSOAP, "\">\n  <SOAP:Body>\n    <SOAP:Fault>\n")
	w.elem("      ", "faultcode", code)
	w.elem("      ", "faultstring", f.faultString())
	w.s("      <detail>\n", `        <nasp:errorList xmlns:nasp="`, NSNASP, "\">\n")
	const in = "            "
	for _, e := range f.Errors {
		ctx, sev := e.CodeContext, e.Severity
		if ctx == "" {
			ctx = TMSCodeContext
		}
		if sev == "" {
			sev = SeverityError
		}
		w.s("          <nasp:error>\n")
		w.elem(in, "nasp:codeContext", ctx)
		w.elem(in, "nasp:errorCode", e.Code)
		w.elem(in, "nasp:severity", sev)
		if e.Location == "" {
			w.s(in, "<nasp:location/>\n")
		} else {
			w.elem(in, "nasp:location", e.Location)
		}
		w.elem(in, "nasp:description", e.Description)
		w.s("          </nasp:error>\n")
	}
	w.s("        </nasp:errorList>\n      </detail>\n    </SOAP:Fault>\n  </SOAP:Body>\n</SOAP:Envelope>\n")
	return w.Bytes(), nil
}

// ParseSOAPFaultWith reads a SOAP 1.1 fault envelope (a receiver's HTTP
// 500 answer) with read (nil: etree's reader): faultcode, faultstring and
// the errors of Spine-style detail/nasp:errorList elements, if any (of
// every list, in order). faultcode, faultstring and detail are taken
// unqualified or qualified, as senders write them. It reports false when
// body is no SOAP envelope whose Body holds a SOAP Fault. It is the one
// reader of SOAP faults: the delivery worker judges a receiver's fault
// with it, and comparison mode reads Spine's with it, so that the two
// never read one fault two ways.
func ParseSOAPFaultWith(read XMLReader, body []byte) (*SOAPFault, bool) {
	b := trimXMLStart(body)
	if len(b) == 0 {
		return nil, false
	}
	env, merr := readEnvelope(b, read)
	if merr != nil {
		return nil, false
	}
	fault := child(child(env, NSSOAP, "Body"), NSSOAP, "Fault")
	if fault == nil {
		return nil, false
	}
	f := &SOAPFault{FaultCode: localText(fault, "faultcode"), FaultString: localText(fault, "faultstring")}
	var detail *etree.Element
	for _, c := range fault.ChildElements() {
		if c.Tag == "detail" {
			detail = c
		}
	}
	if detail == nil {
		return f, true
	}
	// Every nasp:errorList: a code senders do not retry in a second list
	// refuses the message as much as one in the first.
	for _, list := range detail.ChildElements() {
		if list.Tag != "errorList" || list.NamespaceURI() != NSNASP {
			continue
		}
		for _, e := range list.ChildElements() {
			if e.Tag != "error" || e.NamespaceURI() != NSNASP {
				continue
			}
			f.Errors = append(f.Errors, SOAPError{
				CodeContext: childText(e, NSNASP, "codeContext"), Code: childText(e, NSNASP, "errorCode"),
				Severity: childText(e, NSNASP, "severity"), Location: childText(e, NSNASP, "location"),
				Description: childText(e, NSNASP, "description"),
			})
		}
	}
	return f, true
}

// IsClient reports whether the fault's faultcode is of SOAP 1.1's Client
// class (e.g. "SOAP:Client", "soap:Client.Auth"): the message itself is
// wrong, and sent again unchanged it fails again (SOAP 1.1 §4.4.1).
func (f *SOAPFault) IsClient() bool {
	code := f.FaultCode
	if _, local, ok := strings.Cut(code, ":"); ok {
		code = local
	}
	cls, _, _ := strings.Cut(code, ".")
	return cls == "Client"
}

// localText returns the trimmed text of e's first child named local, in
// any namespace, or "".
func localText(e *etree.Element, local string) string {
	for _, c := range e.ChildElements() {
		if c.Tag == local {
			return strings.TrimSpace(c.Text())
		}
	}
	return ""
}
