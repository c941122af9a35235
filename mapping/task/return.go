package task

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Proposal Return (PORX_IN100101UK31, MIM 4.2.00
// PORX_MT121301UK31) ↔ the EPS FHIR Task with status rejected: the return
// reason in statusReason, the release response being reversed in
// focus.identifier, the dispenser in the contained requester role and
// organisation, an eRD issue in Extension-EPS-RepeatInformation.

// pxReturn names porxgate's extension on a return Task: v3 indicators EPS
// FHIR has no element for, kept only where they differ from what the EPS
// API writes (a reason's contextConductionInd true, a reversalOf's
// inversionInd false).
const pxReturn = "Return"

// ReturnTranslator returns the Translator for the corpus kind "Return".
func ReturnTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Return",
		Interactions: []string{v3.DispenseProposalReturn},
		ToV3:         ReturnToV3,
		ToFHIR:       ReturnToFHIR,
	}
}

// ReturnToV3 turns a FHIR return Task into the v3 Dispense Proposal Return
// with its wrappers.
func ReturnToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	return taskToV3(body, meta, env, v3.DispenseProposalReturn, func(c *core.BundleContext, subject *etree.Element, task *fhir.Task) {
		writeReturn(c, subject, task, env)
	})
}

// ReturnToFHIR turns a v3 Dispense Proposal Return into the FHIR Task.
func ReturnToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	return core.PayloadToFHIR(payload, env, "Dispense Proposal Return (PORX_IN100101)", "DispenseProposalReturn", readReturn, v3.DispenseProposalReturn)
}

// writeReturn writes <DispenseProposalReturn>.
func writeReturn(c *core.BundleContext, parent *etree.Element, task *fhir.Task, env core.Env) {
	if task.Status != "rejected" {
		c.Fail("Task.status", "status %q, a return is rejected", task.Status)
	}
	r := v3.Add(parent, "DispenseProposalReturn", "classCode", "INFO", "moodCode", "EVN")
	v3.AddII(r, "id", core.UpperUUID(fhir.FindIdentifier(task.Identifier, fhir.SystemRFC4122)), "")
	v3.AddValue(r, "effectiveTime", taskAuthoredOn(c, task))
	author := v3.Add(r, "author", "typeCode", "AUT")
	if role := taskRequester(c, task); role != nil {
		core.WriteDispensingAgentPerson(c, author, role, "Task.requester", &task.Base, "Task")
	}
	v3.AddII(core.AddAnnotation(r, "pertinentInformation1", "false", "pertinentPrescriptionID", "PID"), "value", v3.OIDShortFormID, taskShortFormID(c, task, env))
	if issued := core.TaskRepeatInstance(c, task); issued != "" {
		core.TaskAddRepeat(r, "pertinentInformation2", issued)
	}
	px := core.PorxgateExtension(task.Extension, pxReturn)
	reason := taskReason(c, task, core.CodeSystemReturnReason)
	cci := "false"
	if core.SubExtensionString(px, "reasonContextConductionInd") == "true" {
		cci = "true"
	}
	rel := v3.Add(r, "pertinentInformation3", "contextConductionInd", cci, "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	rr := v3.Add(rel, "pertinentReturnReason", "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(rr, "code", "RR", v3.OIDPertinentCode, "")
	core.AddCV(rr, "value", reason, core.OIDReturnReason)
	if id := taskFocusID(task); id != "" {
		inv := "true"
		if core.SubExtensionString(px, "reversalInversionInd") == "false" {
			inv = "false"
		}
		core.AddRef(r, "reversalOf", []string{"inversionInd", inv, "negationInd", "false", "typeCode", "REV"}, "true", "",
			"priorPrescriptionReleaseResponseRef", "INFO", "EVN", id)
	}
}

// readReturn reads <DispenseProposalReturn> into the return Task.
func readReturn(r v3.Node, env core.Env) *fhir.Task {
	core.Attrs(r, "classCode", "INFO", "moodCode", "EVN")
	core.ExpectModel(r, "id", "effectiveTime", "author", "pertinentInformation1", "pertinentInformation2", "pertinentInformation3", "reversalOf")
	id := core.Root(r.Child("id"))
	eff := core.TS(r.Child("effectiveTime"))
	author := r.Child("author")
	core.Attrs(author, "typeCode", "AUT")
	core.ExpectModel(author, "AgentPerson")
	agent := core.ReadDispensingAgentPerson(author.Child("AgentPerson"), "requester", env.NewID)
	short := core.ReadPrescriptionID(r.Child("pertinentInformation1"), "pertinentPrescriptionID", "PID")
	issued := ""
	if rel := r.Opt("pertinentInformation2"); rel.Exists() {
		issued = core.TaskReadRepeat(rel)
	}
	px := core.ExtensionBuilder{Name: pxReturn}
	if r.Opt("pertinentInformation3").OptAttr("contextConductionInd") == "true" {
		px.String("reasonContextConductionInd", "true")
	}
	rr := core.Annotation(r.Child("pertinentInformation3"), "false", "pertinentReturnReason", "RR", "contextConductionInd", "true|false", "typeCode", "PERT")
	core.ExpectModel(rr, "code", "value")
	reason := core.CV(rr.Child("value"), core.OIDReturnReason)
	release := ""
	if rev := r.Opt("reversalOf"); rev.Exists() {
		core.Rel(rev, "true", "inversionInd", "true|false", "negationInd", "false", "typeCode", "REV")
		if rev.OptAttr("inversionInd") == "false" {
			px.String("reversalInversionInd", "false")
		}
		core.ExpectModel(rev, "seperatableInd", "priorPrescriptionReleaseResponseRef")
		ref := rev.Child("priorPrescriptionReleaseResponseRef")
		core.Attrs(ref, "classCode", "INFO", "moodCode", "EVN")
		core.ExpectModel(ref, "id")
		release = core.Root(ref.Child("id"))
	}

	task := taskBase(id, eff, short, r, env.NewID)
	task.Status = "rejected"
	task.Code = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemTaskCode, Code: "change", Display: "Change the focal resource"}}}
	task.Focus = taskFocus(release)
	task.StatusReason = core.Concept(core.CodeSystemReturnReason, reason)
	if issued != "" {
		task.Extension = append(task.Extension, core.TaskRepeatExtension(issued))
	}
	task.Extension = px.AppendTo(task.Extension)
	if agent != nil && agent.Organization != nil {
		org := agent.Organization
		org.ID = "organisation"
		agent.Role.Organization = &fhir.Reference{Reference: "#organisation"}
		task.Contained = fhir.ResourceList{agent.Role}
		task.Contained = append(task.Contained, org)
		if p := agent.Parent; p != nil {
			p.ID = "parentOrganisation"
			org.PartOf = &fhir.Reference{Reference: "#parentOrganisation"}
			task.Contained = append(task.Contained, p)
		}
		if ods := fhir.FindIdentifier(org.Identifier, fhir.SystemODS); ods != "" {
			task.Owner = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: ods}}
		}
	}
	return task
}
