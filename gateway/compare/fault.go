package compare

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

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
	if isMessageError(e.Fault) {
		return fmt.Sprintf("answered %d with an ebXML MessageError: %s", e.Status, faultErrors(e.Fault))
	}
	return fmt.Sprintf("answered %d with a %s", e.Status, e.Fault.Error())
}

// messageErrorFaultCode is the FaultCode of a RouteFault that stands for
// an eb:ErrorList (readMessageError), not a SOAP fault.
const messageErrorFaultCode = "eb:MessageError"

// isMessageError reports whether f stands for an eb:ErrorList.
func isMessageError(f *ebxml.SOAPFault) bool { return f.FaultCode == messageErrorFaultCode }

// RefusalKind names what a path refused with: "SOAP fault", or "ebXML
// MessageError" for a fault that stands for Spine's eb:ErrorList.
func RefusalKind(f *ebxml.SOAPFault) string {
	if isMessageError(f) {
		return "ebXML MessageError"
	}
	return "SOAP fault"
}

// readMessageError reads an ebXML MessageError (an eb:ErrorList, as Spine
// answers an ebXML message it will not take: HTTP 500) that refuses the
// message for good, as a fault whose errors are the eb:Errors of severity
// Error (their errorCode, e.g. ValueNotRecognized, and description, e.g.
// "501319:Unknown eb:CPAId"); none of them is a code senders retry. ok is
// false when the body is no eb:ErrorList, holds warnings only (nothing
// refused), or every error may clear up (DeliveryFailure, Unknown): the
// route gave no answer, to be tried again.
func readMessageError(body []byte) (f *ebxml.SOAPFault, ok bool) {
	_, err := ebxml.ParseSignal(body)
	var el *ebxml.ErrorListError
	if !errors.As(err, &el) {
		return nil, false
	}
	final := false
	for _, e := range el.Refusing() {
		final = final || !e.MayClearUp()
	}
	return MessageErrorRefusal(el.Refusing()...), final
}

// MessageErrorRefusal is a refusal with an ebXML MessageError holding
// errs, as CompareRefusals takes it: a fault whose errors are errs' codes
// (e.g. ValueNotRecognized) and descriptions (e.g. "501319:Unknown
// eb:CPAId").
func MessageErrorRefusal(errs ...*ebxml.MessageError) *ebxml.SOAPFault {
	f := &ebxml.SOAPFault{FaultCode: messageErrorFaultCode, FaultString: "ebXML MessageError"}
	for _, e := range errs {
		f.Errors = append(f.Errors, ebxml.SOAPError{CodeContext: ebxml.ErrorCodeContext, Code: string(e.Code),
			Severity: ebxml.SeverityError, Location: e.Location, Description: e.Description()})
	}
	return f
}

// faultErrors lists a fault's errors: code and description each.
func faultErrors(f *ebxml.SOAPFault) string {
	parts := make([]string, 0, len(f.Errors))
	for _, e := range f.Errors {
		parts = append(parts, e.Code+" "+e.Description)
	}
	return strings.Join(parts, "; ")
}

// readFault reads a SOAP 1.1 fault (faultcode, faultstring and Spine's
// detail/nasp:errorList) out of a response body; ok is false when the body
// is not a SOAP envelope whose Body holds a Fault. It reads it as the
// delivery worker reads a receiver's fault (ebxml.ParseSOAPFaultWith, the
// one reader): before, a reader of its own took namespace-less envelopes
// for faults, missed a Fault after another body entry, and read errors
// outside nasp and of every list, so that one fault could be retryable to
// one and final to the other.
func readFault(body []byte) (f *ebxml.SOAPFault, ok bool) {
	if !bytes.Contains(body, []byte("Fault")) {
		return nil, false
	}
	return ebxml.ParseSOAPFaultWith(nil, body)
}

// CompareRefusals compares two paths' outcomes of which at least one is a
// SOAP fault: fa (or, when nil, the answer a) against fb (or the answer
// b). Two faults match when they carry the same TMS codes; a fault against
// an answer is a difference. A retryable fault (200, 206, 208: the path
// unavailable for a moment) says nothing of the translation: notCompared
// says so, and there are no differences.
func CompareRefusals(fa *ebxml.SOAPFault, a []byte, fb *ebxml.SOAPFault, b []byte, nameA, nameB string) (diffs []string, notCompared error) {
	for _, s := range []struct {
		f    *ebxml.SOAPFault
		name string
	}{{fa, nameA}, {fb, nameB}} {
		if s.f != nil && s.f.Retryable() {
			return nil, fmt.Errorf("%s refused with a retryable SOAP fault %s (unavailable for a moment): not compared", s.name, faultCodes(s.f))
		}
	}
	switch {
	case fa != nil && fb != nil:
		if ca, cb := faultCodes(fa), faultCodes(fb); ca != cb {
			return []string{fmt.Sprintf("SOAP fault code: %s has %s, %s has %s", nameA, ca, nameB, cb)}, nil
		}
		return nil, nil
	case fa != nil:
		return []string{refusedNotAnswered(fa, nameA, b, nameB)}, nil
	case fb != nil:
		return []string{refusedNotAnswered(fb, nameB, a, nameA)}, nil
	}
	return nil, errors.New("compare: no SOAP fault to compare")
}

// CompareOutcomes compares two paths' outcomes of one request: their
// answers a and b (Compare), or, when either path refused the request
// (fa or fb, a SOAP fault or an ebXML MessageError), the refusals
// (CompareRefusals). Online comparison and the offline replay compare
// with it alike.
func CompareOutcomes(fa *ebxml.SOAPFault, a []byte, fb *ebxml.SOAPFault, b []byte, request []byte, nameA, nameB string) (diffs []string, notCompared error) {
	if fa != nil || fb != nil {
		return CompareRefusals(fa, a, fb, b, nameA, nameB)
	}
	return Compare(a, b, request, nameA, nameB)
}

// refusedNotAnswered says that the path named refused refused with f where
// the path named answered answered with answer.
func refusedNotAnswered(f *ebxml.SOAPFault, refused string, answer []byte, answered string) string {
	s := fmt.Sprintf("%s refused with %s %s", refused, RefusalKind(f), faultCodes(f))
	if len(f.Errors) > 0 && f.Errors[0].Description != "" {
		s += " (" + f.Errors[0].Description + ")"
	}
	return s + "; " + answered + " answered " + rootTag(answer)
}

// faultCodes lists a fault's TMS error codes, sorted, or its faultcode
// when it has none.
func faultCodes(f *ebxml.SOAPFault) string {
	if len(f.Errors) == 0 {
		return f.FaultCode
	}
	codes := make([]string, len(f.Errors))
	for i, e := range f.Errors {
		codes[i] = e.Code
	}
	sort.Strings(codes)
	return strings.Join(codes, ",")
}
