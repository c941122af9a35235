package core

import (
	"fmt"

	v3 "github.com/porxgate/porxgate/v3"
)

// EPSRefusal is a v3 message the MIM allows that the EPS FHIR API cannot
// take as porxgate maps it (its translation fails on what the message
// leaves out): the element and what EPS needs there. errors.As finds the
// *v3.Error, for the path; the text names no MIM rule, since the message
// breaks none.
type EPSRefusal struct {
	// Element is the v3 element EPS needs, with what it needs there.
	Element *v3.Error
}

// NewEPSRefusal returns the refusal of interaction's element at path (under
// ControlActEvent/subject/) with msg.
func NewEPSRefusal(interaction, path, msg string) *EPSRefusal {
	return &EPSRefusal{Element: &v3.Error{Interaction: interaction, Rule: v3.RuleConstraint,
		Path: "/" + interaction + "/ControlActEvent/subject/" + path, Msg: msg}}
}

// Error implements the error interface: "<interaction>: <path>: <what>".
func (e *EPSRefusal) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Element.Interaction, e.Element.Path, e.Element.Msg)
}

// Unwrap gives the element's *v3.Error.
func (e *EPSRefusal) Unwrap() error { return e.Element }
