package task

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSCannotTake says why the EPS FHIR API cannot take a return or withdraw
// Task that porxgate made from a v3 message the MIM allows (interaction, UK
// or SM family, names the message in the error's path), or nil when it
// can. The error is a *core.EPSRefusal naming the v3 element EPS needs,
// for an immediate refusal. Two kinds:
//   - shapes EPS's Task translation fails on with HTTP 500, every time
//     (porxgate would retry them until the poison rule put them in the dead
//     letters, the sender hearing nothing meanwhile): a return without
//     reversalOf or a withdraw without pertinentInformation4 (no
//     Task.focus.identifier, read unchecked by request/return/return.ts
//     createReversalOf and request/withdraw/withdraw.ts
//     createPertinentInformation4), a withdraw whose agentPersonSDS/id is an
//     SDS user id (no contained Organization, createAuthorForWithdraw), a
//     return whose AgentPerson has no telecom (0..*; the role's first
//     telecom, request/agent-person.ts
//     createAgentPersonUsingPractitionerRoleAndOrganization);
//   - a withdraw type other than LD (last dispense), which Spine takes: EPS
//     writes every withdraw as LD of the one notification in focus, so
//     Spine would be told another thing than the sender asked.
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
		px := core.PorxgateExtension(t.Extension, pxWithdraw)
		if wt := core.SubExtensions(px, "withdrawType"); len(wt) > 0 && wt[0].ValueCoding != nil && wt[0].ValueCoding.Code != withdrawTypeLastDispense {
			return refuse("ETPWithdraw/pertinentInformation2/pertinentWithdrawType/value",
				"withdraw type "+wt[0].ValueCoding.Code+": the EPS FHIR API withdraws only the last dispense (type "+withdrawTypeLastDispense+"), of the one notification it names; it would tell Spine "+withdrawTypeLastDispense)
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
