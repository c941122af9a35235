package v3

import "fmt"

// Error is a problem found in a v3 message: it names the interaction, the
// element path (e.g. /PORX_IN020101UK31/ControlActEvent/subject/...) and
// what was wrong there.
type Error struct {
	// Interaction is the interaction id of the message, when known.
	Interaction string
	// Path is the element path of the offending element or attribute.
	Path string
	// Msg says what was wrong.
	Msg string
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Interaction != "" && e.Path != "":
		return fmt.Sprintf("%s: %s: %s", e.Interaction, e.Path, e.Msg)
	case e.Path != "":
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.Interaction, e.Msg)
	}
}
