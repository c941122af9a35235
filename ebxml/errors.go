package ebxml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrorCode is an ebXML messaging-service errorCode (ebMS 2.0, 4.2.3.4.1),
// written as eb:Error/@eb:errorCode.
type ErrorCode string

// The ebXML errorCode values.
const (
	// CodeValueNotRecognized: an element content or attribute value is not recognised.
	CodeValueNotRecognized ErrorCode = "ValueNotRecognized"
	// CodeNotSupported: an element, attribute or feature is not supported.
	CodeNotSupported ErrorCode = "NotSupported"
	// CodeInconsistent: an element content or attribute value is inconsistent
	// with other elements or attributes (e.g. SOAPAction against eb:Action).
	CodeInconsistent ErrorCode = "Inconsistent"
	// CodeOtherXML: any other error in the XML of the header (not
	// well-formed, not a SOAP envelope, a required element missing).
	CodeOtherXML ErrorCode = "OtherXml"
	// CodeDeliveryFailure: the message could not be delivered.
	CodeDeliveryFailure ErrorCode = "DeliveryFailure"
	// CodeTimeToLiveExpired: the message's time to live has passed.
	CodeTimeToLiveExpired ErrorCode = "TimeToLiveExpired"
	// CodeSecurityFailure: a security check failed.
	CodeSecurityFailure ErrorCode = "SecurityFailure"
	// CodeMimeProblem: the MIME packaging is wrong (content type, boundary,
	// parts, a cid reference that does not resolve).
	CodeMimeProblem ErrorCode = "MimeProblem"
	// CodeUnknown: an error of no other kind.
	CodeUnknown ErrorCode = "Unknown"
)

// SeverityError and SeverityWarning are the eb:severity (and nasp:severity) values.
const (
	// SeverityError marks an error that stops processing.
	SeverityError = "Error"
	// SeverityWarning marks a problem that did not stop processing.
	SeverityWarning = "Warning"
)

// Description numbers. Spine prefixes eb:Description with a number of its
// own ("501319:Unknown eb:CPAId"). NumUnknownCPAID is Spine's number for an
// unknown CPAId, for callers that check CPAIds against their configuration;
// the 9xxxxx numbers are porxgate's own, chosen outside Spine's range so that
// they can never be mistaken for a Spine catalogue entry.
const (
	// NumUnknownCPAID is Spine's number for "Unknown eb:CPAId" (Spine's
	// MessageError sample ebxml_response_error_single.xml in
	// NHSDigital/integration-adaptor-mhs, mhs/common/mhs_common/messages/tests/test_messages).
	NumUnknownCPAID = 501319
	// NumInvalidToParty is Spine's number for "Invalid To Party Type
	// attribute", a message whose eb:To/eb:PartyId is not the receiving
	// MHS's party key (the TMS Error Base, as the NHS MHS adaptor answers
	// such a message: NHSDigital/integration-adaptor-mhs,
	// mhs/inbound/inbound/request/handler.py).
	NumInvalidToParty = 501314
	// NumEmptyBody: the request body is empty.
	NumEmptyBody = 900001
	// NumContentType: the Content-Type is missing or not multipart/related.
	NumContentType = 900002
	// NumNoBoundary: the Content-Type has no boundary parameter.
	NumNoBoundary = 900003
	// NumMultipart: the multipart body has no parts or is truncated.
	NumMultipart = 900004
	// NumStartPart: the part named by the start parameter is absent.
	NumStartPart = 900005
	// NumPayloadPart: a part referenced by the manifest is absent.
	NumPayloadPart = 900006
	// NumTransferEncoding: a part's Content-Transfer-Encoding is unsupported or undecodable.
	NumTransferEncoding = 900007
	// NumHeaderXML: the ebXML header part cannot be read as XML (not
	// well-formed, or beyond the reader's bounds).
	NumHeaderXML = 900010
	// NumEnvelope: the header part is not a SOAP 1.1 envelope.
	NumEnvelope = 900011
	// NumNoMessageHeader: there is no eb:MessageHeader.
	NumNoMessageHeader = 900012
	// NumMissingElement: a required eb:MessageHeader element is missing or empty.
	NumMissingElement = 900013
	// NumBadValue: an element's value cannot be read (e.g. eb:Timestamp).
	NumBadValue = 900014
	// NumSOAPAction: the SOAPAction disagrees with eb:Service and eb:Action.
	NumSOAPAction = 900015
	// NumVersion: eb:version or the namespace of the header is not ebMS 2.0.
	NumVersion = 900016
)

// MessageError is an ebXML error: the errorCode and severity of an
// eb:Error, and a Spine-style description "Number:Text". ParseRequest
// returns one for every request it cannot read; BuildMessageError writes
// one or more into an eb:ErrorList.
type MessageError struct {
	// Code is the ebXML errorCode.
	Code ErrorCode
	// Severity is SeverityError (the default when empty) or SeverityWarning.
	Severity string
	// Number is the numeric prefix of the description; 0 writes Text alone.
	Number int
	// Text is the human-readable description.
	Text string
	// Location optionally points at the offending part (eb:location).
	Location string
	// Err is the underlying cause, if any; it is not written on the wire.
	Err error
}

// Refuses reports whether m is of severity Error (the default): one that
// refuses the message, where a Warning did not stop the receiver.
func (m *MessageError) Refuses() bool {
	return !strings.EqualFold(strings.TrimSpace(m.Severity), SeverityWarning)
}

// MayClearUp reports whether m's errorCode is one whose cause may clear up
// (DeliveryFailure, Unknown, or none given), so the message may be sent
// again; any other refuses it for good.
func (m *MessageError) MayClearUp() bool {
	switch m.Code {
	case CodeDeliveryFailure, CodeUnknown, "":
		return true
	}
	return false
}

// NewMessageError returns a MessageError of severity Error.
func NewMessageError(code ErrorCode, number int, text string) *MessageError {
	return &MessageError{Code: code, Severity: SeverityError, Number: number, Text: text}
}

// newErr builds a MessageError with a formatted text and optional cause.
func newErr(code ErrorCode, number int, cause error, format string, args ...any) *MessageError {
	e := NewMessageError(code, number, fmt.Sprintf(format, args...))
	e.Err = cause
	return e
}

// Description is the eb:Description text: "Number:Text", or Text alone
// when Number is 0.
func (e *MessageError) Description() string {
	if e.Number == 0 {
		return e.Text
	}
	return strconv.Itoa(e.Number) + ":" + e.Text
}

// severity returns Severity, defaulting to SeverityError.
func (e *MessageError) severity() string {
	if e.Severity == "" {
		return SeverityError
	}
	return e.Severity
}

// Error implements the error interface.
func (e *MessageError) Error() string {
	s := "ebxml " + string(e.Code) + ": " + e.Description()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *MessageError) Unwrap() error { return e.Err }

// parseDescription splits a Spine-style "501319:Unknown eb:CPAId" into its
// number and text; a description without a numeric prefix is all text.
func parseDescription(s string) (int, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 9 {
		return 0, s
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n < 0 {
		return 0, s
	}
	return n, s[i+1:]
}

// ErrorListError reports that a remote MHS answered one of our messages
// with an eb:ErrorList (a MessageError) instead of an eb:Acknowledgment.
type ErrorListError struct {
	// RefToMessageID is the MessageId of our message that was refused.
	RefToMessageID string
	// Errors are the eb:Error entries, in document order.
	Errors []*MessageError
}

// Refusing returns the errors of the list that refuse the message (of
// severity Error), in document order.
func (e *ErrorListError) Refusing() []*MessageError {
	var out []*MessageError
	for _, m := range e.Errors {
		if m.Refuses() {
			out = append(out, m)
		}
	}
	return out
}

// Error implements the error interface.
func (e *ErrorListError) Error() string {
	parts := make([]string, 0, len(e.Errors))
	for _, m := range e.Errors {
		parts = append(parts, string(m.Code)+" "+m.Description())
	}
	return fmt.Sprintf("ebxml: remote MessageError for %s: %s", e.RefToMessageID, strings.Join(parts, "; "))
}

// ErrNotAcknowledgment is returned by ParseAcknowledgment for a readable
// ebXML envelope that holds neither an eb:Acknowledgment nor an eb:ErrorList.
var ErrNotAcknowledgment = errors.New("ebxml: envelope holds neither eb:Acknowledgment nor eb:ErrorList")

// errNoRoot and errTopLevelText report XML that is not one element.
var (
	errNoRoot       = errors.New("not exactly one root element")
	errTopLevelText = errors.New("text outside the root element")
)
