package v3

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a problem found in a v3 message: it names the interaction, the
// element path (e.g. /PORX_IN020101UK31/ControlActEvent/subject/...), what
// was wrong there and the rule of the MIM 4.2.00 schemas it breaks.
type Error struct {
	// Interaction is the interaction id of the message, when known.
	Interaction string
	// Path is the element path of the offending element or attribute.
	Path string
	// Msg says what was wrong.
	Msg string
	// Rule names the MIM rule broken (RuleCardinality, RuleVocabulary...);
	// empty, it is told from Msg (RuleOf).
	Rule string
}

// The kinds of MIM rule a refusal names.
const (
	// RuleCardinality: a mandatory element (1..1, 1..*) is missing or an
	// element occurs more often than the model allows.
	RuleCardinality = "cardinality (mandatory element or attribute, or repeated beyond the model)"
	// RuleModel: an element or attribute the message model has no place
	// for here, or in another order than the model's.
	RuleModel = "message model (element or attribute not allowed here)"
	// RuleFixed: a structural attribute or code with the one value the
	// model fixes (classCode, moodCode, typeCode, a template's code).
	RuleFixed = "fixed value"
	// RuleVocabulary: a code outside the code system or value set the
	// model binds the element to.
	RuleVocabulary = "vocabulary binding (code system or value set)"
	// RuleIdentifier: an identifier whose root is not the one the model
	// names for the role, or whose value has not its shape.
	RuleIdentifier = "identifier (root or format)"
	// RuleDatatype: a value its datatype does not allow (TS, PQ, BL, INT,
	// II, a well-formed document).
	RuleDatatype = "datatype"
	// RuleConstraint: any other constraint of the message's specification.
	RuleConstraint = "message constraint"
)

// RuleOf tells the MIM rule a problem message breaks, for errors recorded
// without one.
func RuleOf(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "missing mandatory"), strings.Contains(m, "repeated"),
		strings.Contains(m, "more than one"), strings.Contains(m, "expected exactly"):
		return RuleCardinality
	case strings.Contains(m, "unexpected"), strings.Contains(m, "not in the hl7 v3 namespace"), strings.Contains(m, "out of order"):
		return RuleModel
	case strings.Contains(m, "code system"), strings.Contains(m, "unhandled"), strings.Contains(m, "unknown code"):
		return RuleVocabulary
	case strings.Contains(m, "identifier root"), strings.Contains(m, "short-form"), strings.Contains(m, "checksum"), strings.Contains(m, "uuid"):
		return RuleIdentifier
	case strings.Contains(m, "not supported (want"), strings.Contains(m, ", want "), strings.Contains(m, "unexpected code"):
		return RuleFixed
	case strings.Contains(m, "timestamp"), strings.Contains(m, "decimal"), strings.Contains(m, "boolean"),
		strings.Contains(m, "whole number"), strings.Contains(m, "well-formed"), strings.Contains(m, "empty value"),
		strings.Contains(m, "utf-8"), strings.Contains(m, "namespace"):
		return RuleDatatype
	}
	return RuleConstraint
}

// rule returns Rule, or the rule told from Msg.
func (e *Error) rule() string {
	if e.Rule != "" {
		return e.Rule
	}
	return RuleOf(e.Msg)
}

// Error implements the error interface: "<interaction>: <path>: <what> [MIM
// rule: <rule>]".
func (e *Error) Error() string {
	var s string
	switch {
	case e.Interaction != "" && e.Path != "":
		s = fmt.Sprintf("%s: %s: %s", e.Interaction, e.Path, e.Msg)
	case e.Path != "":
		s = fmt.Sprintf("%s: %s", e.Path, e.Msg)
	default:
		s = fmt.Sprintf("%s: %s", e.Interaction, e.Msg)
	}
	return s + " [MIM rule: " + e.rule() + "]"
}

// ErrorList is every problem found in one message, in the order they were
// met. errors.As finds the first *Error in it.
type ErrorList []*Error

// Error implements the error interface: the first problem, and how many
// more there are (Errors lists them all).
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", l[0].Error(), len(l)-1)
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Errors returns every *Error err holds: the members of an ErrorList, an
// *Error itself, or an *Error wrapped anywhere in its chain; nil for none.
func Errors(err error) []*Error {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}
