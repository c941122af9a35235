package task

import (
	"fmt"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Task helpers shared by Dispense Proposal Return and Dispenser Withdraw:
// both are an EPS FHIR Task naming the prescription by groupIdentifier, the
// dispenser by a contained PractitionerRole (requester), the reason by
// statusReason and an eRD issue by Extension-EPS-RepeatInformation.

// decodeTask decodes a Task resource.
func decodeTask(body []byte) (*fhir.Task, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, err
	}
	task, ok := res.(*fhir.Task)
	if !ok {
		return nil, fmt.Errorf("resourceType %s, want Task", res.GetResourceType())
	}
	return task, nil
}

// taskToV3 is the common frame of a Task → v3 translation: decode, check,
// build the wrappers and let write fill the payload under subject.
func taskToV3(body []byte, meta core.Meta, env core.Env, interaction string, write func(c *core.BundleContext, subject *etree.Element, task *fhir.Task)) ([]byte, error) {
	interaction = v3.InFamily(interaction, env.WriteFamily())
	task, err := decodeTask(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Task", Msg: err.Error()}
	}
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, interaction)
	msgID := c.RequireIdentifier(task.Identifier, fhir.SystemRFC4122, "Task.identifier")
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3Message(meta, interaction, msgID, env)
	write(c, subject, task)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// taskShortFormID returns Task.groupIdentifier's short-form prescription id.
func taskShortFormID(c *core.BundleContext, task *fhir.Task, env core.Env) string {
	gi := task.GroupIdentifier
	if gi == nil || gi.Value == "" {
		c.Fail("Task.groupIdentifier", "missing mandatory short-form prescription id")
		return ""
	}
	if gi.System != fhir.SystemShortFormID {
		c.Fail("Task.groupIdentifier.system", "system %q, want %s", gi.System, fhir.SystemShortFormID)
	}
	if err := core.CheckShortFormID(gi.Value); err != nil {
		c.Fail("Task.groupIdentifier.value", "%v", err)
	}
	return gi.Value
}

// taskReason returns the coding of Task.statusReason in a code system.
func taskReason(c *core.BundleContext, task *fhir.Task, system string) fhir.Coding {
	if task.StatusReason == nil {
		c.Fail("Task.statusReason", "missing mandatory statusReason")
		return fhir.Coding{}
	}
	cd := c.CodingOf(task.StatusReason, system, "Task.statusReason")
	if cd == nil {
		c.Fail("Task.statusReason.coding", "no coding with system %s", system)
		return fhir.Coding{}
	}
	return *cd
}

// taskFocusID returns the id in Task.focus.identifier, or "".
func taskFocusID(task *fhir.Task) string {
	if task.Focus == nil || task.Focus.Identifier == nil {
		return ""
	}
	return task.Focus.Identifier.Value
}

// taskFocus makes Task.focus for a v3 message id.
func taskFocus(id string) *fhir.Reference {
	if id == "" {
		return nil
	}
	return &fhir.Reference{Type: "Bundle", Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(id)}}
}

// taskAuthoredOn turns Task.authoredOn into the v3 effectiveTime.
func taskAuthoredOn(c *core.BundleContext, task *fhir.Task) string {
	return core.TSFromFHIR(c, task.AuthoredOn, "Task.authoredOn")
}

// taskRequester resolves Task.requester to its contained PractitionerRole.
func taskRequester(c *core.BundleContext, task *fhir.Task) *fhir.PractitionerRole {
	if task.Requester == nil {
		c.Fail("Task.requester", "missing mandatory requester")
		return nil
	}
	return core.AgentRole(c, task.Requester, &task.Base, "Task.requester")
}

// taskBase returns a Task with the fields a v3 return or withdraw fills in
// the same way.
func taskBase(id, effective, shortID string, n v3.Node, newID func() string) *fhir.Task {
	return &fhir.Task{
		Base:            fhir.Base{ResourceType: "Task", ID: core.FreshID(newID)},
		Identifier:      []fhir.Identifier{{System: fhir.SystemRFC4122, Value: core.LowerUUID(id)}},
		Intent:          "order",
		GroupIdentifier: &fhir.Identifier{System: fhir.SystemShortFormID, Value: shortID},
		AuthoredOn:      core.FHIRTimeFromTS(n, effective),
		Requester:       &fhir.Reference{Reference: "#requester"},
	}
}
