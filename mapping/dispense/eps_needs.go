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
func EPSCannotTake(interaction string, bundleJSON []byte) error {
	b, err := fhir.ParseBundle(bundleJSON)
	if err != nil {
		return nil // not a Bundle: the upstream call reports it
	}
	mds := fhir.EntriesOf[*fhir.MedicationDispense](b)
	if len(mds) == 0 || len(mds[0].Performer) == 0 || !strings.HasPrefix(mds[0].Performer[0].Actor.Reference, "#") {
		return nil
	}
	role, ok := mds[0].FindContained(mds[0].Performer[0].Actor.Reference).(*fhir.PractitionerRole)
	if !ok || len(role.Telecom) > 0 {
		return nil
	}
	return core.NewEPSRefusal(interaction, "DispenseNotification/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/telecom",
		"missing: the EPS FHIR API takes a dispense notification only from a dispenser with a telecom (the performer PractitionerRole's telecom)")
}
