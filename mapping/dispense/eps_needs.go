package dispense

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// dnSupplyPath is the v3 element a supplied line item's supply is in.
const dnSupplyPath = "DispenseNotification/pertinentInformation1/pertinentSupplyHeader/pertinentInformation1/pertinentSuppliedLineItem/component"

// EPSCannotTake says why the EPS FHIR API cannot take the dispense Bundle
// porxgate made from a v3 Dispense Notification (interaction, UK or SM
// family, names the message in the error's path), or nil when it can. The
// EPS API's dispense translation answers HTTP 500 each time for two shapes
// the MIM allows, and porxgate would retry such a notification until the
// poison rule put it in the dead letters, the pharmacy hearing nothing
// meanwhile:
//   - a dispenser AgentPerson without telecom (0..*): the first
//     MedicationDispense's performer PractitionerRole then has none, and
//     the translation reads its first telecom unchecked
//     (request/agent-person.ts,
//     createAgentPersonUsingPractitionerRoleAndOrganization, from
//     createAuthorForDispenseNotification);
//   - a supplied line item without a supply (component/
//     suppliedLineItemQuantity, as an owing or not dispensed item may come):
//     its MedicationDispense has no quantity and no dosageInstruction, and
//     the translation writes a supply of every MedicationDispense, throwing
//     "Dosage instructions not provided" (common/dosage-instructions.ts) and
//     reading quantity.code unchecked (dispense-notification.ts,
//     createDispenseNotificationSupplyHeaderPertinentInformation1). The EPS
//     API's own owing and not dispensed MedicationDispenses carry a
//     quantity of 0 and the dosage; porxgate cannot make up the dosage.
//
// The error is a *core.EPSRefusal naming the v3 element EPS needs, for an
// immediate refusal.
//
// It runs on every notification before it goes upstream, so it decodes only
// the fields it looks at (dispenseView), not the whole Bundle again.
func EPSCannotTake(interaction string, bundleJSON []byte) error {
	var b dispenseView
	if err := fhir.Unmarshal(bundleJSON, &b); err != nil {
		return nil // not a Bundle: the upstream call reports it
	}
	first := true
	for _, e := range b.Entry {
		md := e.Resource
		if md.ResourceType != "MedicationDispense" {
			continue
		}
		if first && lacksTelecom(md) {
			return core.NewEPSRefusal(interaction, "DispenseNotification/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/telecom",
				"missing: the EPS FHIR API takes a dispense notification only from a dispenser with a telecom (the performer PractitionerRole's telecom)")
		}
		first = false // the first MedicationDispense's performer is the one EPS reads
		if md.Quantity == nil || len(md.DosageInstruction) == 0 {
			return core.NewEPSRefusal(interaction, dnSupplyPath,
				"missing: the EPS FHIR API takes a dispense notification only when every supplied line item reports a supply (suppliedLineItemQuantity; an owing or not dispensed item a quantity of 0 with its supply instructions)")
		}
	}
	return nil
}

// lacksTelecom reports whether a MedicationDispense's first performer is a
// contained PractitionerRole without telecom.
func lacksTelecom(md dispenseEntry) bool {
	if len(md.Performer) == 0 || !strings.HasPrefix(md.Performer[0].Actor.Reference, "#") {
		return false
	}
	id := strings.TrimPrefix(md.Performer[0].Actor.Reference, "#")
	for _, c := range md.Contained {
		if c.ResourceType == "PractitionerRole" && c.ID == id {
			return len(c.Telecom) == 0
		}
	}
	return false
}

// dispenseView is the part of a dispense Bundle EPSCannotTake reads: each
// entry's resource type, performers, contained resources' telecoms, and
// whether it has a quantity and dosage instructions.
type dispenseView struct {
	Entry []struct {
		Resource dispenseEntry `json:"resource"`
	} `json:"entry"`
}

// dispenseEntry is one entry's resource as dispenseView reads it.
type dispenseEntry struct {
	ResourceType string                   `json:"resourceType"`
	Performer    []fhir.DispensePerformer `json:"performer"`
	Contained    []struct {
		ResourceType string     `json:"resourceType"`
		ID           string     `json:"id"`
		Telecom      []struct{} `json:"telecom"`
	} `json:"contained"`
	Quantity          *struct{}  `json:"quantity"`
	DosageInstruction []struct{} `json:"dosageInstruction"`
}
