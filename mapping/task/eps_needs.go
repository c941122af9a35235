package task

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSCannotTake says why the EPS FHIR API cannot take a return or withdraw
// Task that porxgate made from a v3 message (interaction, UK or SM family,
// names the message in the error's path), or nil when it can. The MIM lets
// a Dispense Proposal Return leave out reversalOf, a Dispenser Withdraw its
// pertinentInformation4 (0..*), and a withdraw's author name an SDS user
// (agentPersonSDS/id) rather than the dispensing organisation; the Task
// then has no focus, or no contained Organization. The EPS API's Task
// translation reads Task.focus.identifier unchecked
// (request/return/return.ts createReversalOf, request/withdraw/withdraw.ts
// createPertinentInformation4) and a withdraw requester's contained
// Organization (createAuthorForWithdraw), so it answers such a Task HTTP
// 500 each time it is sent: porxgate would retry it until the poison rule
// put it in the dead letters, the sender hearing nothing meanwhile. The
// error wraps a *v3.Error naming the v3 element EPS needs, for an immediate
// refusal; its text names no MIM rule, since the MIM allows the message.
func EPSCannotTake(interaction string, taskJSON []byte) error {
	t, err := decodeTask(taskJSON)
	if err != nil {
		return nil // not a Task: the upstream call reports it
	}
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		return nil
	}
	refuse := func(path, msg string) error {
		return &epsRefusal{el: &v3.Error{Interaction: interaction, Path: "/" + interaction + "/ControlActEvent/subject/" + path, Msg: msg, Rule: v3.RuleConstraint}}
	}
	focus := t.Focus != nil && t.Focus.Identifier != nil && t.Focus.Identifier.Value != "" &&
		t.Focus.Identifier.System == fhir.SystemRFC4122
	switch canon {
	case v3.DispenseProposalReturn:
		if !focus {
			return refuse("DispenseProposalReturn/reversalOf",
				"missing: the EPS FHIR API takes a return only with the release response it reverses (reversalOf/priorPrescriptionReleaseResponseRef, Task.focus)")
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

// epsRefusal is a message the MIM allows and the EPS FHIR API cannot take:
// its element (errors.As finds the *v3.Error, for the path) and what EPS
// needs there.
type epsRefusal struct{ el *v3.Error }

func (e *epsRefusal) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.el.Interaction, e.el.Path, e.el.Msg)
}

func (e *epsRefusal) Unwrap() error { return e.el }

// requesterHasOrganization reports whether the Task's requester is a
// contained PractitionerRole whose organization is a contained
// Organization with an ODS code, as EPS's withdraw translation needs.
func requesterHasOrganization(t *fhir.Task) bool {
	if t.Requester == nil {
		return false
	}
	var role *fhir.PractitionerRole
	for _, r := range t.Contained {
		if pr, ok := r.(*fhir.PractitionerRole); ok && "#"+pr.ID == t.Requester.Reference {
			role = pr
		}
	}
	if role == nil || role.Organization == nil {
		return false
	}
	ref, ok := strings.CutPrefix(role.Organization.Reference, "#")
	if !ok {
		return false
	}
	for _, r := range t.Contained {
		if org, isOrg := r.(*fhir.Organization); isOrg && org.ID == ref {
			return fhir.FindIdentifier(org.Identifier, fhir.SystemODS) != ""
		}
	}
	return false
}
