package loadgen

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/cancel"
)

// CancelUpdate turns b, a decoded prescription-order Bundle, into the
// prescription-order-update that cancels every one of its items (reason
// 0001, Prescribing Error), as a legacy prescribing system's cancel maps
// to, and returns the prescription's short-form id ("" when it has none).
// Each Practitioner without an SDS user id is given one: EPS names a
// cancel's people by it and refuses a cancellation whose Practitioner has
// none (TOO_FEW_VALUES_SUBMITTED), as the simulator does, where a
// prescription may name them by professional codes alone.
func CancelUpdate(b map[string]any) (shortForm string) {
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		r, _ := em["resource"].(map[string]any)
		switch r["resourceType"] {
		case "MessageHeader":
			r["eventCoding"] = map[string]any{"system": "https://fhir.nhs.uk/CodeSystem/message-event",
				"code": "prescription-order-update", "display": "Prescription Order Update"}
		case "MedicationRequest":
			r["status"] = "cancelled"
			r["statusReason"] = map[string]any{"coding": []any{map[string]any{
				"system": cancel.CodeSystemStatusReason, "code": "0001", "display": "Prescribing Error"}}}
			if g, _ := r["groupIdentifier"].(map[string]any); g != nil {
				shortForm, _ = g["value"].(string)
			}
		case "Practitioner":
			idents, _ := r["identifier"].([]any)
			if !strings.Contains(fmt.Sprint(idents), fhir.SystemSDSUser) {
				r["identifier"] = append([]any{map[string]any{"system": fhir.SystemSDSUser, "value": "555086689106"}}, idents...)
			}
		}
	}
	return shortForm
}
