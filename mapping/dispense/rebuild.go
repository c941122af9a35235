package dispense

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Rebuild Dispense History (PORX_IN540101UK31, MIM 4.2.00
// PORX_MT136002UK31 RebuildDispenseHistory) ↔ a porxgate-designed FHIR
// message (EPS FHIR publishes no twin): a Bundle of type message whose
// MessageHeader (event rebuild-dispense-history) focuses a Task holding the
// request (prescription id, withdraw reason, eRD issue) and whose
// Task.input lists, in sequence, the dispense notifications to rebuild the
// history from, each a nested dispense-notification Bundle entry mapped as
// PORX_IN080101UK31 is. See docs/mappings/PORX_IN540101UK31.md.

// Rebuild constants.
const (
	// EventRebuildDispenseHistory is the porxgate message event of a
	// rebuild request.
	EventRebuildDispenseHistory = "rebuild-dispense-history"
	rbdInputType                = "dispense-notification"
)

// RebuildTranslator returns the Translator for Rebuild Dispense History.
func RebuildTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "RebuildDispenseHistory",
		Interactions: []string{v3.RebuildDispenseHistory},
		ToV3:         RebuildToV3,
		ToFHIR:       RebuildToFHIR,
	}
}

// RebuildToV3 turns the porxgate rebuild-dispense-history message into the
// v3 Rebuild Dispense History with its wrappers.
func RebuildToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.RebuildDispenseHistory, env.WriteFamily())
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	c := core.NewBundleContext(b, interaction)
	msgID := core.BundleMessageID(c)
	core.CheckMessageEvent(c, EventRebuildDispenseHistory)
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3Message(meta, interaction, msgID, env)
	writeRebuild(c, subject, msgID, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// RebuildToFHIR turns a v3 Rebuild Dispense History into the porxgate
// rebuild-dispense-history message.
func RebuildToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	return core.PayloadToFHIR(payload, env, "Rebuild Dispense History (PORX_IN540101)", "RebuildDispenseHistory", readRebuild, v3.RebuildDispenseHistory)
}

// readRebuild reads <RebuildDispenseHistory> into the porxgate message.
func readRebuild(n v3.Node, env core.Env) *fhir.Bundle {
	newID := env.NewID
	core.Attrs(n, "classCode", "ACTN", "moodCode", "RQO")
	core.ExpectModel(n, "id", "effectiveTime", "component*", "pertinentInformation1", "pertinentInformation3", "pertinentInformation2")
	id := core.Root(n.Child("id"))
	eff := core.TS(n.Child("effectiveTime"))
	b := &fhir.Bundle{ResourceType: "Bundle", ID: core.FreshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(id)}}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: core.FreshID(newID)},
		EventCoding: fhir.Coding{System: core.CodeSystemPorxgateEvent, Code: EventRebuildDispenseHistory, Display: "Rebuild Dispense History"}}
	task := &fhir.Task{Base: fhir.Base{ResourceType: "Task", ID: core.FreshID(newID)},
		Identifier: []fhir.Identifier{{System: fhir.SystemRFC4122, Value: core.LowerUUID(id)}},
		Status:     "requested", Intent: "order",
		Code:       &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemPorxgateEvent, Code: EventRebuildDispenseHistory}}},
		AuthoredOn: core.FHIRTimeFromTS(n, eff)}
	mh.Focus = []fhir.Reference{{Reference: core.FullURL(task.ID)}}
	b.Add(core.FullURL(mh.ID), mh)
	b.Add(core.FullURL(task.ID), task)
	for _, comp := range n.All("component") {
		core.Attrs(comp, "typeCode", "COMP", "contextConductionInd", "true|false")
		core.ExpectModel(comp, "sequenceNumber", "seperatableInd", "templateId", "DispenseNotification")
		seq := core.TS(comp.Child("sequenceNumber"))
		if sn := comp.Opt("sequenceNumber"); sn.Exists() && sn.HasAttr("value") && seq == "" {
			// Spine's schematron: "Sequence Number must be provided for all
			// dispense components".
			sn.Fail("a sequence number must be provided for every dispense component (empty value)")
		} else if _, err := strconv.Atoi(seq); seq != "" && err != nil {
			comp.Child("sequenceNumber").Fail("%q is not a whole number", seq)
		}
		sep := comp.Child("seperatableInd")
		core.Attrs(sep, "value", "true|false")
		tpl := comp.Child("templateId")
		core.Attrs(tpl, "root", core.OIDDispenseTemplate, "extension", "*")
		core.ExpectChildren(tpl)
		if rep := comp.Opt("DispenseNotification").Opt("replacementOf"); rep.Exists() {
			// Spine's schematron: "Amendment is not supported within rebuild
			// dispense history".
			rep.Fail("an amendment is not supported within a rebuild dispense history")
		}
		dn := ReadDispenseNotification(comp.Child("DispenseNotification"), env)
		url := core.FullURL(dn.ID)
		b.Add(url, dn)
		var xb core.ExtensionBuilder
		xb.Integer("sequenceNumber", seq)
		xb.String("seperatableInd", sep.Attr("value"))
		xb.String("templateId", tpl.Attr("extension"))
		if comp.OptAttr("contextConductionInd") == "false" {
			xb.String("contextConductionInd", "false")
		}
		task.Input = append(task.Input, fhir.TaskParameter{
			Extension:      []fhir.Extension{{URL: core.PorxgateExtensionURL("RebuildComponent"), Extension: xb.Subs}},
			Type:           fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemPorxgateEvent, Code: rbdInputType}}},
			ValueReference: &fhir.Reference{Reference: url},
		})
	}
	if len(task.Input) == 0 {
		n.Child("component")
	}
	pid := core.Annotation(n.Child("pertinentInformation1"), "false", "pertinentPrescriptionID", "PID", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(pid, "code", "value")
	task.GroupIdentifier = rbdReadPrescriptionID(pid.Child("value"))
	wr := core.Annotation(n.Child("pertinentInformation3"), "false", "pertinentWithdrawReason", "PWR", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(wr, "code", "value")
	rv := wr.Child("value")
	core.Attrs(rv, "code", "*", "codeSystem", "*", "displayName", "*")
	core.ExpectChildren(rv)
	sys := "urn:oid:" + rv.Attr("codeSystem")
	if rv.Attr("codeSystem") == core.OIDWithdrawReason {
		sys = core.CodeSystemWithdrawReason
	}
	task.StatusReason = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: sys, Code: rv.Attr("code"), Display: rv.OptAttr("displayName")}}}
	if rel := n.Opt("pertinentInformation2"); rel.Exists() {
		task.Extension = append(task.Extension, core.TaskRepeatExtension(core.TaskReadRepeat(rel)))
	}
	return b
}

// rbdReadPrescriptionID reads the prescription id: a short-form id (root
// 2.16.840.1.113883.2.1.3.2.4.18.8) or a long-form one given as root only.
func rbdReadPrescriptionID(v v3.Node) *fhir.Identifier {
	core.Attrs(v, "root", "*", "extension", "*")
	core.ExpectChildren(v)
	root := v.Attr("root")
	if root == v3.OIDShortFormID {
		id := v.Attr("extension")
		if err := core.CheckShortFormID(id); err != nil && id != "" {
			v.FailAttr("extension", "%v", err)
		}
		return &fhir.Identifier{System: fhir.SystemShortFormID, Value: id}
	}
	if v.HasAttr("extension") {
		v.Fail("a long-form prescription id is the root alone")
	}
	return &fhir.Identifier{System: fhir.SystemLongFormID, Value: core.LowerUUID(root)}
}

// writeRebuild writes <RebuildDispenseHistory>.
func writeRebuild(c *core.BundleContext, parent *etree.Element, msgID string, env core.Env) {
	var task *fhir.Task
	for _, t := range fhir.EntriesOf[*fhir.Task](c.Bundle) {
		if task != nil {
			c.Fail(c.Path(t), "more than one Task")
			return
		}
		task = t
	}
	if task == nil {
		c.Fail("Bundle.entry", "no Task (the rebuild request)")
		return
	}
	tp := c.Path(task)
	r := v3.Add(parent, "RebuildDispenseHistory", "classCode", "ACTN", "moodCode", "RQO")
	v3.AddII(r, "id", core.UpperUUID(msgID), "")
	v3.AddValue(r, "effectiveTime", core.TSFromFHIR(c, task.AuthoredOn, tp+".authoredOn"))
	if len(task.Input) == 0 {
		c.Fail(tp+".input", "at least one dispense notification is required")
	}
	for i, in := range task.Input {
		ip := core.Indexed(tp+".input", i)
		rbdWriteComponent(c, r, in, ip, env)
	}
	pid := core.AddAnnotation(r, "pertinentInformation1", "false", "pertinentPrescriptionID", "PID")
	gi := task.GroupIdentifier
	switch {
	case gi == nil || gi.Value == "":
		c.Fail(tp+".groupIdentifier", "missing mandatory prescription id")
	case gi.System == fhir.SystemShortFormID:
		if err := core.CheckShortFormID(gi.Value); err != nil {
			c.Fail(tp+".groupIdentifier.value", "%v", err)
		}
		v3.AddII(pid, "value", v3.OIDShortFormID, gi.Value)
	case gi.System == fhir.SystemLongFormID:
		v3.AddII(pid, "value", core.UpperUUID(gi.Value), "")
	default:
		c.Fail(tp+".groupIdentifier.system", "system %q, want %s or %s", gi.System, fhir.SystemShortFormID, fhir.SystemLongFormID)
	}
	wr := core.AddAnnotation(r, "pertinentInformation3", "false", "pertinentWithdrawReason", "PWR")
	if task.StatusReason == nil || len(task.StatusReason.Coding) != 1 {
		c.Fail(tp+".statusReason", "want exactly one coding (the withdraw reason)")
	} else {
		cd := task.StatusReason.Coding[0]
		sys := core.OIDWithdrawReason
		if cd.System != core.CodeSystemWithdrawReason {
			if len(cd.System) <= len("urn:oid:") || cd.System[:len("urn:oid:")] != "urn:oid:" {
				c.Fail(tp+".statusReason.coding[0].system", "system %q, want %s or a urn:oid", cd.System, core.CodeSystemWithdrawReason)
			} else {
				sys = cd.System[len("urn:oid:"):]
			}
		}
		v3.AddCV(wr, "value", cd.Code, sys, cd.Display)
	}
	if issued := core.TaskRepeatInstance(c, task); issued != "" {
		core.TaskAddRepeat(r, "pertinentInformation2", issued)
	}
}

// rbdWriteComponent writes one component with its nested dispense
// notification.
func rbdWriteComponent(c *core.BundleContext, r *etree.Element, in fhir.TaskParameter, ip string, env core.Env) {
	px := fhir.FindExtension(in.Extension, core.PorxgateExtensionURL("RebuildComponent"))
	seq := core.SubExtensionString(px, "sequenceNumber")
	if seq == "" {
		c.Fail(ip+".extension", "missing the component's sequenceNumber (extension %s)", core.PorxgateExtensionURL("RebuildComponent"))
		return
	}
	if _, err := strconv.Atoi(seq); err != nil {
		c.Fail(ip+".extension", "sequenceNumber %q is not a whole number", seq)
		return
	}
	if in.ValueReference == nil {
		c.Fail(ip+".valueReference", "missing the dispense notification")
		return
	}
	nb, ok := c.Resolve(in.ValueReference, ip+".valueReference").(*fhir.Bundle)
	if !ok {
		c.Fail(ip+".valueReference", "does not reference a dispense-notification Bundle")
		return
	}
	cci := "true"
	if core.SubExtensionString(px, "contextConductionInd") == "false" {
		cci = "false"
	}
	comp := v3.Add(r, "component", "typeCode", "COMP", "contextConductionInd", cci)
	v3.AddValue(comp, "sequenceNumber", seq)
	sep := core.SubExtensionString(px, "seperatableInd")
	if sep == "" {
		sep = "false"
	}
	v3.AddValue(comp, "seperatableInd", sep)
	tpl := core.SubExtensionString(px, "templateId")
	if tpl == "" {
		tpl = dnTypeID
	}
	v3.Add(comp, "templateId", "root", core.OIDDispenseTemplate, "extension", tpl)
	WriteNested(c, nb, c.Path(nb), func(nc *core.BundleContext) { WriteDispenseNotification(nc, comp, env) })
}

// WriteNested runs write over a Bundle nested in c's bundle and records
// its first problem on c with the nested path under path.
func WriteNested(c *core.BundleContext, nb *fhir.Bundle, path string, write func(nc *core.BundleContext)) {
	nc := core.NewBundleContext(nb, c.Interaction)
	write(nc)
	if err := nc.Err(); err != nil {
		if fe, ok := err.(*core.FHIRError); ok {
			c.Fail(path+"/"+fe.Path, "%s", fe.Msg)
			return
		}
		c.Fail(path, "%v", err)
	}
}
