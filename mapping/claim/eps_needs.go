package claim

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// EPSCannotTake says why the EPS FHIR API cannot take a Claim that
// porxgate made from a v3 Dispense Claim (interaction, UK or SM family,
// names the message in the error's path), or nil when it can. The MIM lets
// the claim's AgentPerson (legalAuthenticator) have no telecom (0..*); the
// Claim's provider PractitionerRole then has none, and the EPS API's claim
// translation reads its first telecom unchecked (request/agent-person.ts,
// createAgentPersonUsingPractitionerRoleAndOrganization, from
// createLegalAuthenticator), so it answers such a Claim HTTP 500 each time
// it is sent: porxgate would retry it until the poison rule put it in the
// dead letters, the sender hearing nothing meanwhile. The error is a
// *core.EPSRefusal naming the v3 element EPS needs, for an immediate
// refusal.
func EPSCannotTake(interaction string, claimJSON []byte) error {
	c, err := decodeClaim(claimJSON)
	if err != nil || c.Provider == nil || !strings.HasPrefix(c.Provider.Reference, "#") {
		return nil // not a Claim as porxgate writes it: the upstream call reports it
	}
	role, ok := c.FindContained(c.Provider.Reference).(*fhir.PractitionerRole)
	if !ok || len(role.Telecom) > 0 {
		return nil
	}
	return core.NewEPSRefusal(interaction, "DispenseClaim/pertinentInformation1/pertinentSupplyHeader/legalAuthenticator/AgentPerson/telecom",
		"missing: the EPS FHIR API takes a claim only from a dispenser with a telecom (the provider PractitionerRole's telecom)")
}
