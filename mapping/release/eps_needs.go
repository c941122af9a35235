package release

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSCannotTake says why the EPS FHIR API cannot take the $release
// Parameters porxgate made from a v3 release request (interaction, UK or SM
// family, names the message in the error's path), or nil when it can. The
// MIM lets the requesting dispenser's AgentPerson have no telecom (0..*);
// the agent PractitionerRole then has none, and the EPS API refuses such a
// release before translating it (validation/parameters-validator.ts:
// HTTP 400, missing required field Parameters.parameter("agent").resource
// .telecom; past that check, request/agent-person.ts
// createAgentPersonUsingPractitionerRoleAndOrganization reads the first
// telecom unchecked and would fail with HTTP 500). Sending it would only
// earn the pharmacy a refusal in EPS's FHIR terms, which no Spine code
// names; the error is a *core.EPSRefusal naming the v3 element EPS needs,
// for an immediate refusal in Spine's terms.
func EPSCannotTake(interaction string, paramsJSON []byte) error {
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		return nil
	}
	res, err := fhir.DecodeResource(paramsJSON)
	if err != nil {
		return nil // not Parameters: the upstream call reports it
	}
	p, ok := res.(*fhir.Parameters)
	if !ok {
		return nil
	}
	ag := p.Find(ParamAgent)
	if ag == nil {
		return nil
	}
	role, ok := ag.Resource.(*fhir.PractitionerRole)
	if !ok || len(role.Telecom) > 0 {
		return nil
	}
	return core.NewEPSRefusal(interaction, releaseRequestPayload(canon)+"/author/AgentPerson/telecom",
		"missing: the EPS FHIR API takes a release request only from a dispenser with a telecom (the agent PractitionerRole's telecom)")
}
