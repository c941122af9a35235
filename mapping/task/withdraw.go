package task

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispenser Withdraw (PORX_IN510101UK31, MIM 4.2.00 PORX_MT136001UK31
// ETPWithdraw; the eRD issue, pertinentInformation1, follows the withdraw id
// as the schema orders them) ↔ the EPS FHIR Task
// with status in-progress and code abort: the withdraw reason in
// statusReason, the dispense notification withdrawn in focus.identifier,
// the patient in for, an eRD issue in Extension-EPS-RepeatInformation. The
// withdraw type is always LD (last dispense) as the EPS API writes it;
// another type travels in a porxgate extension.

// Withdraw constants.
const (
	withdrawTypeLastDispense = "LD"
	withdrawTypeDisplay      = "Last Dispense"
	pxWithdraw               = "Withdraw"
)

// WithdrawTranslator returns the Translator for the corpus kind "Withdraw".
func WithdrawTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Withdraw",
		Interactions: []string{v3.DispenserWithdraw},
		ToV3:         WithdrawToV3,
		ToFHIR:       WithdrawToFHIR,
	}
}

// WithdrawToV3 turns a FHIR withdraw Task into the v3 Dispenser Withdraw
// with its wrappers.
func WithdrawToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	return taskToV3(body, meta, env, v3.DispenserWithdraw, func(c *core.BundleContext, subject *etree.Element, task *fhir.Task) {
		writeWithdraw(c, subject, task, env)
	})
}

// WithdrawToFHIR turns a v3 Dispenser Withdraw into the FHIR Task.
func WithdrawToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	return core.PayloadToFHIR(payload, env, "Dispenser Withdraw (PORX_IN510101)", "ETPWithdraw", readWithdraw, v3.DispenserWithdraw)
}

// writeWithdraw writes <ETPWithdraw>.
func writeWithdraw(c *core.BundleContext, parent *etree.Element, task *fhir.Task, env core.Env) {
	px := core.PorxgateExtension(task.Extension, pxWithdraw)
	w := v3.Add(parent, "ETPWithdraw", "classCode", "ALRT", "moodCode", "EVN")
	v3.AddII(w, "id", core.UpperUUID(fhir.FindIdentifier(task.Identifier, fhir.SystemRFC4122)), "")
	v3.AddValue(w, "effectiveTime", taskAuthoredOn(c, task))
	nhs := ""
	if task.For != nil && task.For.Identifier != nil && task.For.Identifier.System == fhir.SystemNHSNumber {
		nhs = task.For.Identifier.Value
	}
	if nhs == "" {
		c.Fail("Task.for.identifier", "missing mandatory NHS number")
	}
	v3.AddII(v3.Add(v3.Add(w, "recordTarget", "typeCode", "RCT"), "patient", "classCode", "PAT"), "id", v3.OIDNHSNumber, nhs)
	if role := taskRequester(c, task); role != nil {
		writeWithdrawAuthor(c, w, role, task)
	}
	widCCI := "false"
	if core.SubExtensionString(px, "withdrawIdContextConductionInd") == "true" {
		widCCI = "true"
	}
	wid := v3.Add(w, "pertinentInformation3", "contextConductionInd", widCCI, "typeCode", "PERT")
	v3.AddValue(wid, "seperatableInd", "false")
	wa := v3.Add(wid, "pertinentWithdrawID", "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(wa, "code", "WID", v3.OIDPertinentCode, "")
	v3.AddII(wa, "value", v3.OIDShortFormID, taskShortFormID(c, task, env))
	if issued := core.TaskRepeatInstance(c, task); issued != "" {
		core.TaskAddRepeat(w, "pertinentInformation1", issued)
	}
	wt := fhir.Coding{Code: withdrawTypeLastDispense, Display: withdrawTypeDisplay}
	if subs := core.SubExtensions(px, "withdrawType"); len(subs) > 0 && subs[0].ValueCoding != nil {
		wt = *subs[0].ValueCoding
	}
	core.AddCV(core.AddAnnotation(w, "pertinentInformation2", "false", "pertinentWithdrawType", "PWT"), "value", wt, core.OIDWithdrawType)
	core.AddCV(core.AddAnnotation(w, "pertinentInformation5", "false", "pertinentWithdrawReason", "PWR"), "value", taskReason(c, task, core.CodeSystemWithdrawReason), core.OIDWithdrawReason)
	refs := []string{}
	if id := taskFocusID(task); id != "" {
		refs = append(refs, id)
	}
	for _, s := range core.SubExtensions(px, "dispenseNotificationRef") {
		if s.ValueIdentifier != nil {
			refs = append(refs, s.ValueIdentifier.Value)
		}
	}
	for _, id := range refs {
		core.AddRef(w, "pertinentInformation4", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "PERT"}, "true", "",
			"pertinentDispenseNotificationRef", "INFO", "EVN", id)
	}
}

// writeWithdrawAuthor writes author/AgentPersonSDS: the role profile id and,
// as agentPersonSDS/id, the dispensing organisation's ODS code when the role
// names one (as the EPS API's examples carry it), else the SDS user id.
func writeWithdrawAuthor(c *core.BundleContext, w *etree.Element, role *fhir.PractitionerRole, task *fhir.Task) {
	aps := v3.Add(v3.Add(w, "author", "typeCode", "AUT"), "AgentPersonSDS", "classCode", "AGNT")
	v3.AddII(aps, "id", v3.OIDSDSRoleProfile, c.RequireIdentifier(role.Identifier, fhir.SystemSDSRoleProfile, "Task.contained.identifier"))
	person := ""
	if role.Organization != nil {
		if org, ok := core.ResolveAgent(c, role.Organization, &task.Base, "Task.contained.organization").(*fhir.Organization); ok {
			person = c.RequireIdentifier(org.Identifier, fhir.SystemODS, "Task.contained.organization.identifier")
		}
	} else if p := role.Practitioner; p != nil && p.Identifier != nil {
		person = p.Identifier.Value
	}
	if person == "" {
		c.Fail("Task.contained.practitioner", "missing SDS user id (or organisation)")
	}
	v3.AddII(v3.Add(aps, "agentPersonSDS", "classCode", "PSN", "determinerCode", "INSTANCE"), "id", v3.OIDSDSUser, person)
}

// withdrawRequester returns the Task's contained requester and its owner
// from the v3 author's role profile id and agentPersonSDS/id. The EPS API
// writes the dispensing organisation's ODS code in agentPersonSDS/id (its
// Task.contained Organization, whose ODS code it takes from there) and EPS
// requires that contained Organization, so an alphanumeric value there is
// read as the ODS code: a contained Organization referenced by the
// PractitionerRole, and Task.owner. An all-digit value is an SDS user id, as
// the MIM names the element: it becomes the practitioner's identifier and
// the Task has no owner (the v3 names no organisation).
//
// EPS also requires the PractitionerRole to name its practitioner by SDS user
// id; with an ODS code in agentPersonSDS/id that is the ControlActEvent
// author's (sessionUser), the user the message was sent as. It does not
// travel back into the ETPWithdraw, which EPS writes from the organisation.
func withdrawRequester(roleProfile, user, sessionUser string) (fhir.ResourceList, *fhir.Reference) {
	role := &fhir.PractitionerRole{Base: fhir.Base{ResourceType: "PractitionerRole", ID: "requester"},
		Identifier: []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: roleProfile}}}
	if isSDSUserID(user) {
		role.Practitioner = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: user}}
		return fhir.ResourceList{role}, nil
	}
	if sessionUser != "" {
		role.Practitioner = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: sessionUser}}
	}
	ods := fhir.Identifier{System: fhir.SystemODS, Value: user}
	org := &fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: "organization"}, Identifier: []fhir.Identifier{ods}}
	role.Organization = &fhir.Reference{Reference: "#organization"}
	return fhir.ResourceList{role, org}, &fhir.Reference{Identifier: &ods}
}

// sessionUserID returns the SDS user id of the ControlActEvent author above
// an interaction's subject element, "" when there is none.
func sessionUserID(subjectChild v3.Node) string {
	if !subjectChild.Exists() {
		return ""
	}
	subject := subjectChild.El.Parent()
	if subject == nil || subject.Parent() == nil {
		return ""
	}
	id := subject.Parent().FindElement("author/AgentPersonSDS/agentPersonSDS/id")
	if id == nil {
		return ""
	}
	return id.SelectAttrValue("extension", "")
}

// isSDSUserID reports whether v is shaped as an SDS user id (digits only);
// ODS codes always hold a letter.
func isSDSUserID(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// readWithdraw reads <ETPWithdraw> into the withdraw Task.
func readWithdraw(w v3.Node, env core.Env) *fhir.Task {
	core.Attrs(w, "classCode", "ALRT", "moodCode", "EVN")
	core.ExpectModel(w, "id", "effectiveTime", "recordTarget", "author", "pertinentInformation1", "pertinentInformation3",
		"pertinentInformation2", "pertinentInformation5", "pertinentInformation4*")
	id := core.Root(w.Child("id"))
	eff := core.TS(w.Child("effectiveTime"))
	nhs := core.ReadRecordTarget(w.Child("recordTarget"))
	author := w.Child("author")
	core.Attrs(author, "typeCode", "AUT")
	core.ExpectModel(author, "AgentPersonSDS")
	aps := author.Child("AgentPersonSDS")
	core.Attrs(aps, "classCode", "AGNT")
	core.ExpectModel(aps, "id", "agentPersonSDS")
	rid := aps.Child("id")
	core.Attrs(rid, "root", v3.OIDSDSRoleProfile, "extension", "*")
	roleProfile := core.V3ID(rid, v3.OIDSDSRoleProfile)
	ps := aps.Child("agentPersonSDS")
	core.Attrs(ps, "classCode", "PSN", "determinerCode", "INSTANCE")
	core.ExpectModel(ps, "id")
	pid := ps.Child("id")
	core.Attrs(pid, "root", v3.OIDSDSUser, "extension", "*")
	user := core.V3ID(pid, v3.OIDSDSUser)
	issued := ""
	if rel := w.Opt("pertinentInformation1"); rel.Exists() {
		issued = core.TaskReadRepeat(rel)
	}
	wid := core.ReadPrescriptionID(w.Child("pertinentInformation3"), "pertinentWithdrawID", "WID", "contextConductionInd", "true|false", "typeCode", "PERT")
	wt := core.Annotation(w.Child("pertinentInformation2"), "false", "pertinentWithdrawType", "PWT", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(wt, "code", "value")
	wtype := core.CV(wt.Child("value"), core.OIDWithdrawType)
	wr := core.Annotation(w.Child("pertinentInformation5"), "false", "pertinentWithdrawReason", "PWR", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(wr, "code", "value")
	reason := core.CV(wr.Child("value"), core.OIDWithdrawReason)
	var refs []string
	rels := w.All("pertinentInformation4")
	if len(rels) > 1 && wtype.Code == withdrawTypeLastDispense {
		// Spine's schematron for PORX_IN510101UK31 faults this
		// (ErrorBase1634.UNABLE_TO_PROCESS): a last-dispense withdraw
		// withdraws one notification.
		rels[1].Fail("only a single dispense notification ref may be provided for a withdraw of type %s (last dispense)", withdrawTypeLastDispense)
	}
	for _, rel := range rels {
		core.Rel(rel, "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
		core.ExpectModel(rel, "seperatableInd", "pertinentDispenseNotificationRef")
		ref := rel.Child("pertinentDispenseNotificationRef")
		core.Attrs(ref, "classCode", "INFO", "moodCode", "EVN")
		core.ExpectModel(ref, "id")
		refs = append(refs, core.Root(ref.Child("id")))
	}

	task := taskBase(id, eff, wid, w, env.NewID)
	task.Status = "in-progress"
	task.Code = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemTaskCode, Code: "abort", Display: "Mark the focal resource as no longer active"}}}
	task.For = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: nhs}}
	task.StatusReason = core.Concept(core.CodeSystemWithdrawReason, reason)
	task.Contained, task.Owner = withdrawRequester(roleProfile, user, sessionUserID(w))
	if issued != "" {
		task.Extension = append(task.Extension, core.TaskRepeatExtension(issued))
	}
	if len(refs) > 0 {
		task.Focus = taskFocus(refs[0])
	}
	px := core.ExtensionBuilder{Name: pxWithdraw}
	if w.Opt("pertinentInformation3").OptAttr("contextConductionInd") == "true" {
		px.String("withdrawIdContextConductionInd", "true")
	}
	if wtype.Code != withdrawTypeLastDispense || wtype.Display != withdrawTypeDisplay {
		px.Coding("withdrawType", core.Coding(core.CodeSystemWithdrawType, wtype))
	}
	for _, r := range refs[min(1, len(refs)):] {
		px.ID("dispenseNotificationRef", r)
	}
	task.Extension = px.AppendTo(task.Extension)
	return task
}
