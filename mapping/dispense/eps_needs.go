package dispense

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// EPSCannotTake says why the EPS FHIR API cannot take the dispense Bundle
// porxgate made from a v3 Dispense Notification (interaction, UK or SM
// family, names the message in the error's path), or nil when it can. The
// MIM lets the dispenser's AgentPerson have no telecom (0..*); the first
// MedicationDispense's performer PractitionerRole then has none, and the EPS
// API's dispense translation reads its first telecom unchecked
// (request/agent-person.ts, createAgentPersonUsingPractitionerRoleAndOrganization,
// from createAuthorForDispenseNotification), so it answers such a
// notification HTTP 500 each time it is sent: porxgate would retry it until
// the poison rule put it in the dead letters, the pharmacy hearing nothing
// meanwhile. The error is a *core.EPSRefusal naming the v3 element EPS
// needs, for an immediate refusal.
//
// It runs on every notification before it goes upstream, so it decodes only
// the fields it looks at (performerView), not the whole Bundle again.
func EPSCannotTake(interaction string, bundleJSON []byte) error {
	var b performerView
	if err := fhir.Unmarshal(bundleJSON, &b); err != nil {
		return nil // not a Bundle: the upstream call reports it
	}
	for _, e := range b.Entry {
		md := e.Resource
		if md.ResourceType != "MedicationDispense" {
			continue
		}
		if len(md.Performer) == 0 || !strings.HasPrefix(md.Performer[0].Actor.Reference, "#") {
			return nil
		}
		id := strings.TrimPrefix(md.Performer[0].Actor.Reference, "#")
		for _, c := range md.Contained {
			if c.ResourceType == "PractitionerRole" && c.ID == id && len(c.Telecom) == 0 {
				return core.NewEPSRefusal(interaction, "DispenseNotification/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/telecom",
					"missing: the EPS FHIR API takes a dispense notification only from a dispenser with a telecom (the performer PractitionerRole's telecom)")
			}
		}
		return nil // the first MedicationDispense is the one EPS reads
	}
	return nil
}

// performerView is the part of a dispense Bundle EPSCannotTake reads: each
// entry's resource type, performers and contained resources' telecoms.
type performerView struct {
	Entry []struct {
		Resource struct {
			ResourceType string                   `json:"resourceType"`
			Performer    []fhir.DispensePerformer `json:"performer"`
			Contained    []struct {
				ResourceType string     `json:"resourceType"`
				ID           string     `json:"id"`
				Telecom      []struct{} `json:"telecom"`
			} `json:"contained"`
		} `json:"resource"`
	} `json:"entry"`
}
