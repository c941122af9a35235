package mapping

import (
	"encoding/json"
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/dispense"
)

// KindOfFHIR tells which corpus kind a FHIR request body is: a message
// Bundle by its MessageHeader event (including porxgate's own events for
// the interactions EPS FHIR has no twin of), a Parameters as a release, a Task by its
// status (rejected: Return; otherwise Withdraw), a Claim as Claim.
func KindOfFHIR(body []byte) (string, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Status       string `json:"status"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return "", fmt.Errorf("FHIR body: %w", err)
	}
	switch head.ResourceType {
	case "Bundle":
		b, err := fhir.ParseBundle(body)
		if err != nil {
			return "", fmt.Errorf("FHIR Bundle: %w", err)
		}
		hs := fhir.EntriesOf[*fhir.MessageHeader](b)
		if len(hs) == 0 {
			return "", fmt.Errorf("Bundle.entry: no MessageHeader: not a FHIR message")
		}
		switch ev := hs[0].EventCoding.Code; ev {
		case fhir.EventPrescriptionOrder:
			return "Send", nil
		case fhir.EventPrescriptionOrderUpdate:
			return "Cancel", nil
		case fhir.EventDispenseNotification:
			return "Dispense", nil
		case dispense.EventRebuildDispenseHistory:
			return "RebuildDispenseHistory", nil
		case claim.EventReimbursementClaim, claim.EventDispenseNoClaimNotice:
			return "ReimbursementClaim", nil
		default:
			return "", fmt.Errorf("MessageHeader.eventCoding.code %q: not an EPS message event", ev)
		}
	case "Parameters":
		return "Release", nil
	case "Task":
		if head.Status == "rejected" {
			return "Return", nil
		}
		return "Withdraw", nil
	case "Claim":
		return "Claim", nil
	case "":
		return "", fmt.Errorf("FHIR body: no resourceType")
	}
	return "", fmt.Errorf("resourceType %s: no EPS interaction takes it", head.ResourceType)
}
