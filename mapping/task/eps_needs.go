package task

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSCannotTake says why the EPS FHIR API cannot take a return or withdraw
// Task that porxgate made from a v3 message (interaction, UK or SM family,
// names the message in the error's path), or nil when it can. The MIM lets
// a Dispense Proposal Return leave out reversalOf, a Dispenser Withdraw its
// pertinentInformation4 (0..*), a withdraw's author name an SDS user
// (agentPersonSDS/id) rather than the dispensing organisation, and a
// return's AgentPerson have no telecom (0..*); the Task then has no focus,
// no contained Organization, or a requester without telecom. The EPS API's
// Task translation reads Task.focus.identifier unchecked
// (request/return/return.ts createReversalOf, request/withdraw/withdraw.ts
// createPertinentInformation4), a withdraw requester's contained
// Organization (createAuthorForWithdraw) and a return requester's first
// telecom (request/agent-person.ts,
// createAgentPersonUsingPractitionerRoleAndOrganization), so it answers
// such a Task HTTP 500 each time it is sent: porxgate would retry it until
// the poison rule put it in the dead letters, the sender hearing nothing
// meanwhile. The error is a *core.EPSRefusal naming the v3 element EPS
// needs, for an immediate refusal.
func EPSCannotTake(interaction string, taskJSON []byte) error {
	t, err := decodeTask(taskJSON)
	if err != nil {
		return nil // not a Task: the upstream call reports it
	}
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		return nil
	}
	refuse := func(path, msg string) error { return core.NewEPSRefusal(interaction, path, msg) }
	focus := t.Focus != nil && t.Focus.Identifier != nil && t.Focus.Identifier.Value != "" &&
		t.Focus.Identifier.System == fhir.SystemRFC4122
	switch canon {
	case v3.DispenseProposalReturn:
		if !focus {
			return refuse("DispenseProposalReturn/reversalOf",
				"missing: the EPS FHIR API takes a return only with the release response it reverses (reversalOf/priorPrescriptionReleaseResponseRef, Task.focus)")
		}
		if role := requester(t); role != nil && len(role.Telecom) == 0 {
			return refuse("DispenseProposalReturn/author/AgentPerson/telecom",
				"missing: the EPS FHIR API takes a return only from a dispenser with a telecom (the requester PractitionerRole's telecom)")
		}
	case v3.DispenserWithdraw:
		if !focus {
			return refuse("ETPWithdraw/pertinentInformation4",
				"missing: the EPS FHIR API takes a withdraw only with the dispense notification it withdraws (pertinentDispenseNotificationRef, Task.focus)")
		}
		if !requesterHasOrganization(t) {
			return refuse("ETPWithdraw/author/AgentPersonSDS/agentPersonSDS/id",
				"an SDS user id: the EPS FHIR API takes a withdraw only from a dispensing organisation named by its ODS code here (the Task's contained Organization)")
		}
	}
	return nil
}

// requester returns the Task's requester when it is a contained
// PractitionerRole, else nil.
func requester(t *fhir.Task) *fhir.PractitionerRole {
	if t.Requester == nil || !strings.HasPrefix(t.Requester.Reference, "#") {
		return nil
	}
	role, _ := t.FindContained(t.Requester.Reference).(*fhir.PractitionerRole)
	return role
}

// requesterHasOrganization reports whether the Task's requester is a
// contained PractitionerRole whose organization is a contained
// Organization with an ODS code, as EPS's withdraw translation needs.
func requesterHasOrganization(t *fhir.Task) bool {
	role := requester(t)
	if role == nil || role.Organization == nil || !strings.HasPrefix(role.Organization.Reference, "#") {
		return false
	}
	org, ok := t.FindContained(role.Organization.Reference).(*fhir.Organization)
	return ok && fhir.FindIdentifier(org.Identifier, fhir.SystemODS) != ""
}
