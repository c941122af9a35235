package mapping

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
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
func RebuildTranslator() *Translator {
	return &Translator{
		Kind:         "RebuildDispenseHistory",
		Interactions: []string{v3.RebuildDispenseHistory},
		ToV3:         RebuildToV3,
		ToFHIR:       RebuildToFHIR,
	}
}

// RebuildToV3 turns the porxgate rebuild-dispense-history message into the
// v3 Rebuild Dispense History with its wrappers.
func RebuildToV3(body []byte, meta Meta, env Env) ([]byte, error) {
	interaction := v3.InFamily(v3.RebuildDispenseHistory, env.family())
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return nil, &FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	c := NewBundleContext(b, interaction)
	msgID := bundleMessageID(c)
	checkMessageEvent(c, EventRebuildDispenseHistory)
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := newV3Message(meta, interaction, msgID, env)
	writeRebuild(c, subject, msgID, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return writeDocument(c, doc, nil)
}

// RebuildToFHIR turns a v3 Rebuild Dispense History into the porxgate
// rebuild-dispense-history message.
func RebuildToFHIR(payload []byte, env Env) ([]byte, Meta, error) {
	return payloadToFHIR(payload, env, "Rebuild Dispense History (PORX_IN540101)", "RebuildDispenseHistory", readRebuild, v3.RebuildDispenseHistory)
}

// readRebuild reads <RebuildDispenseHistory> into the porxgate message.
func readRebuild(n v3.Node, env Env) *fhir.Bundle {
	newID := env.NewID
	dspAttrs(n, "classCode", "ACTN", "moodCode", "RQO")
	expectChildren(n, "id", "effectiveTime", "component", "pertinentInformation1", "pertinentInformation3", "pertinentInformation2")
	id := dspRoot(n.Child("id"))
	eff := dspTS(n.Child("effectiveTime"))
	b := &fhir.Bundle{ResourceType: "Bundle", ID: freshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: dspLowerUUID(id)}}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: freshID(newID)},
		EventCoding: fhir.Coding{System: CodeSystemPorxgateEvent, Code: EventRebuildDispenseHistory, Display: "Rebuild Dispense History"}}
	task := &fhir.Task{Base: fhir.Base{ResourceType: "Task", ID: freshID(newID)},
		Identifier: []fhir.Identifier{{System: fhir.SystemRFC4122, Value: dspLowerUUID(id)}},
		Status:     "requested", Intent: "order",
		Code:       &fhir.CodeableConcept{Coding: []fhir.Coding{{System: CodeSystemPorxgateEvent, Code: EventRebuildDispenseHistory}}},
		AuthoredOn: dspFHIRTime(n, eff)}
	mh.Focus = []fhir.Reference{{Reference: FullURL(task.ID)}}
	b.Add(FullURL(mh.ID), mh)
	b.Add(FullURL(task.ID), task)
	for _, comp := range n.All("component") {
		dspAttrs(comp, "typeCode", "COMP", "contextConductionInd", "true|false")
		expectChildren(comp, "sequenceNumber", "seperatableInd", "templateId", "DispenseNotification")
		seq := dspTS(comp.Child("sequenceNumber"))
		if _, err := strconv.Atoi(seq); seq != "" && err != nil {
			comp.Child("sequenceNumber").Fail("%q is not a whole number", seq)
		}
		sep := comp.Child("seperatableInd")
		dspAttrs(sep, "value", "true|false")
		tpl := comp.Child("templateId")
		dspAttrs(tpl, "root", oidDispenseTemplate, "extension", "*")
		expectChildren(tpl)
		dn := ReadDispenseNotification(comp.Child("DispenseNotification"), env)
		url := FullURL(dn.ID)
		b.Add(url, dn)
		var xb pxBuilder
		xb.integer("sequenceNumber", seq)
		xb.str("seperatableInd", sep.Attr("value"))
		xb.str("templateId", tpl.Attr("extension"))
		task.Input = append(task.Input, fhir.TaskParameter{
			Extension:      []fhir.Extension{{URL: pxURL("RebuildComponent"), Extension: xb.subs}},
			Type:           fhir.CodeableConcept{Coding: []fhir.Coding{{System: CodeSystemPorxgateEvent, Code: rbdInputType}}},
			ValueReference: &fhir.Reference{Reference: url},
		})
	}
	if len(task.Input) == 0 {
		n.Child("component")
	}
	pid := dspAnnotation(n.Child("pertinentInformation1"), "false", "pertinentPrescriptionID", "PID", "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(pid, "code", "value")
	task.GroupIdentifier = rbdReadPrescriptionID(pid.Child("value"))
	wr := dspAnnotation(n.Child("pertinentInformation3"), "false", "pertinentWithdrawReason", "PWR", "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(wr, "code", "value")
	rv := wr.Child("value")
	dspAttrs(rv, "code", "*", "codeSystem", "*", "displayName", "*")
	expectChildren(rv)
	sys := "urn:oid:" + rv.Attr("codeSystem")
	if rv.Attr("codeSystem") == oidWithdrawReason {
		sys = CodeSystemWithdrawReason
	}
	task.StatusReason = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: sys, Code: rv.Attr("code"), Display: rv.OptAttr("displayName")}}}
	if rel := n.Opt("pertinentInformation2"); rel.Exists() {
		task.Extension = append(task.Extension, taskRepeatExtension(taskReadRepeat(rel)))
	}
	return b
}

// rbdReadPrescriptionID reads the prescription id: a short-form id (root
// 2.16.840.1.113883.2.1.3.2.4.18.8) or a long-form one given as root only.
func rbdReadPrescriptionID(v v3.Node) *fhir.Identifier {
	dspAttrs(v, "root", "*", "extension", "*")
	expectChildren(v)
	root := v.Attr("root")
	if root == v3.OIDShortFormID {
		id := v.Attr("extension")
		if err := CheckShortFormID(id); err != nil && id != "" {
			at := v
			at.Path += "/@extension"
			at.Fail("%v", err)
		}
		return &fhir.Identifier{System: fhir.SystemShortFormID, Value: id}
	}
	if v.HasAttr("extension") {
		v.Fail("a long-form prescription id is the root alone")
	}
	return &fhir.Identifier{System: fhir.SystemLongFormID, Value: dspLowerUUID(root)}
}

// writeRebuild writes <RebuildDispenseHistory>.
func writeRebuild(c *BundleContext, parent *etree.Element, msgID string, env Env) {
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
	v3.AddII(r, "id", upperUUID(msgID), "")
	v3.AddValue(r, "effectiveTime", dspTime(c, task.AuthoredOn, tp+".authoredOn"))
	if len(task.Input) == 0 {
		c.Fail(tp+".input", "at least one dispense notification is required")
	}
	for i, in := range task.Input {
		ip := indexed(tp+".input", i)
		rbdWriteComponent(c, r, in, ip, env)
	}
	pid := addAnnotation(r, "pertinentInformation1", "false", "pertinentPrescriptionID", "PID")
	gi := task.GroupIdentifier
	switch {
	case gi == nil || gi.Value == "":
		c.Fail(tp+".groupIdentifier", "missing mandatory prescription id")
	case gi.System == fhir.SystemShortFormID:
		if err := CheckShortFormID(gi.Value); err != nil {
			c.Fail(tp+".groupIdentifier.value", "%v", err)
		}
		v3.AddII(pid, "value", v3.OIDShortFormID, gi.Value)
	case gi.System == fhir.SystemLongFormID:
		v3.AddII(pid, "value", upperUUID(gi.Value), "")
	default:
		c.Fail(tp+".groupIdentifier.system", "system %q, want %s or %s", gi.System, fhir.SystemShortFormID, fhir.SystemLongFormID)
	}
	wr := addAnnotation(r, "pertinentInformation3", "false", "pertinentWithdrawReason", "PWR")
	if task.StatusReason == nil || len(task.StatusReason.Coding) != 1 {
		c.Fail(tp+".statusReason", "want exactly one coding (the withdraw reason)")
	} else {
		cd := task.StatusReason.Coding[0]
		sys := oidWithdrawReason
		if cd.System != CodeSystemWithdrawReason {
			if len(cd.System) <= len("urn:oid:") || cd.System[:len("urn:oid:")] != "urn:oid:" {
				c.Fail(tp+".statusReason.coding[0].system", "system %q, want %s or a urn:oid", cd.System, CodeSystemWithdrawReason)
			} else {
				sys = cd.System[len("urn:oid:"):]
			}
		}
		v3.AddCV(wr, "value", cd.Code, sys, cd.Display)
	}
	if issued := taskRepeatIssued(c, task); issued != "" {
		taskAddRepeat(r, "pertinentInformation2", issued)
	}
}

// rbdWriteComponent writes one component with its nested dispense
// notification.
func rbdWriteComponent(c *BundleContext, r *etree.Element, in fhir.TaskParameter, ip string, env Env) {
	px := fhir.FindExtension(in.Extension, pxURL("RebuildComponent"))
	seq := pxString(px, "sequenceNumber")
	if seq == "" {
		c.Fail(ip+".extension", "missing the component's sequenceNumber (extension %s)", pxURL("RebuildComponent"))
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
	comp := v3.Add(r, "component", "typeCode", "COMP", "contextConductionInd", "true")
	v3.AddValue(comp, "sequenceNumber", seq)
	sep := pxString(px, "seperatableInd")
	if sep == "" {
		sep = "false"
	}
	v3.AddValue(comp, "seperatableInd", sep)
	tpl := pxString(px, "templateId")
	if tpl == "" {
		tpl = dnTypeID
	}
	v3.Add(comp, "templateId", "root", oidDispenseTemplate, "extension", tpl)
	dspWriteNested(c, nb, c.Path(nb), func(nc *BundleContext) { WriteDispenseNotification(nc, comp, env) })
}

// dspWriteNested runs write over a Bundle nested in c's bundle and records
// its first problem on c with the nested path under path.
func dspWriteNested(c *BundleContext, nb *fhir.Bundle, path string, write func(nc *BundleContext)) {
	nc := NewBundleContext(nb, c.Interaction)
	write(nc)
	if err := nc.Err(); err != nil {
		if fe, ok := err.(*FHIRError); ok {
			c.Fail(path+"/"+fe.Path, "%s", fe.Msg)
			return
		}
		c.Fail(path, "%v", err)
	}
}
