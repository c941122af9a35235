package claim

import (
	"fmt"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Reimbursement Claim (PORX_IN370101UK31) and Dispense No Claim
// Notification (PORX_IN460101UK31) share one payload, MIM 4.2.00
// PORX_MT142006UK31 ReimbursmentClaim (sic): a batch for the reimbursement
// agency holding the prescription (component1), the claim (component2), the
// dispense notification (component4) and the dispense notification with
// claim (component3), each an embedded message, and a replacement
// indicator. EPS FHIR publishes no twin for it; porxgate maps it to a
// Bundle of type message whose MessageHeader (event reimbursement-claim or
// dispense-no-claim-notification) focuses, in order, the embedded messages
// as their own FHIR shapes (a prescription-order Bundle, a Claim, a
// dispense-notification Bundle). See docs/mappings/PORX_IN370101UK31.md and
// PORX_IN460101UK31.md.

// Porxgate message events of the reimbursement batch.
const (
	EventReimbursementClaim    = "reimbursement-claim"
	EventDispenseNoClaimNotice = "dispense-no-claim-notification"
	pxReimbursement            = "ReimbursementClaim"
	pxReimbursementComponent   = "ReimbursementComponent"
)

// rmbSlot is one component of a ReimbursmentClaim with its template OID.
type rmbSlot struct{ tag, oid string }

// rmbSlots returns the components of a ReimbursmentClaim in schema order.
func rmbSlots() [4]rmbSlot {
	return [4]rmbSlot{
		{"component1", "2.16.840.1.113883.2.1.3.2.4.17.119"},
		{"component2", "2.16.840.1.113883.2.1.3.2.4.17.112"},
		{"component4", "2.16.840.1.113883.2.1.3.2.4.17.114"},
		{"component3", "2.16.840.1.113883.2.1.3.2.4.17.115"},
	}
}

// ReimbursementTranslator returns the Translator for the reimbursement
// batch interactions (PORX_IN370101UK31, PORX_IN460101UK31).
func ReimbursementTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "ReimbursementClaim",
		Interactions: []string{v3.DispenseReimbursementClaim, v3.DispenseNoClaimNotification},
		ToV3:         ReimbursementToV3,
		ToFHIR:       ReimbursementToFHIR,
	}
}

// ReimbursementToV3 turns the porxgate reimbursement message into the v3
// interaction its event names, with its wrappers.
func ReimbursementToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: v3.InFamily(v3.DispenseReimbursementClaim, env.WriteFamily()), Path: "Bundle", Msg: err.Error()}
	}
	interaction := v3.DispenseReimbursementClaim
	mhs := fhir.EntriesOf[*fhir.MessageHeader](b)
	if len(mhs) == 1 && mhs[0].EventCoding.Code == EventDispenseNoClaimNotice {
		interaction = v3.DispenseNoClaimNotification
	}
	interaction = v3.InFamily(interaction, env.WriteFamily())
	c := core.NewBundleContext(b, interaction)
	msgID := core.BundleMessageID(c)
	if len(mhs) != 1 {
		c.Fail("Bundle.entry", "want exactly one MessageHeader")
	} else if ev := mhs[0].EventCoding.Code; ev != EventReimbursementClaim && ev != EventDispenseNoClaimNotice {
		c.Fail(c.Path(mhs[0])+".eventCoding.code", "message event %q, want %s or %s", ev, EventReimbursementClaim, EventDispenseNoClaimNotice)
	}
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3Message(meta, interaction, msgID, env)
	sig := writeReimbursement(c, subject, mhs[0], msgID, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, sig)
}

// ReimbursementToFHIR turns a v3 Dispense Reimbursement Claim or Dispense
// No Claim Notification into the porxgate reimbursement message.
func ReimbursementToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, canon, err := core.OpenV3(payload, env, "Dispense Reimbursement Claim (PORX_IN370101) or Dispense No Claim Notification (PORX_IN460101)", v3.DispenseReimbursementClaim, v3.DispenseNoClaimNotification)
	if err != nil {
		return nil, core.Meta{}, err
	}
	event := EventReimbursementClaim
	if canon == v3.DispenseNoClaimNotification {
		event = EventDispenseNoClaimNotice
	}
	w, subject := v3.ReadWrapper(root)
	core.ExpectChildren(subject, "ReimbursmentClaim")
	b := readReimbursement(subject.Child("ReimbursmentClaim"), event, payload, env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	out, err := fhir.Marshal(b)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	return out, core.MetaFromWrapper(w), nil
}

// readReimbursement reads <ReimbursmentClaim>.
func readReimbursement(n v3.Node, event string, raw []byte, env core.Env) *fhir.Bundle {
	newID := env.NewID
	core.Attrs(n, "classCode", "INFO", "moodCode", "EVN")
	core.ExpectModel(n, "id", "effectiveTime", "component1", "component2", "component4", "component3", "pertinentInformation")
	id := core.Root(n.Child("id"))
	eff := core.TS(n.Child("effectiveTime"))
	b := &fhir.Bundle{ResourceType: "Bundle", ID: core.FreshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(id)}}
	display := "Dispense Reimbursement Claim"
	if event == EventDispenseNoClaimNotice {
		display = "Dispense No Claim Notification"
	}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: core.FreshID(newID)},
		EventCoding: fhir.Coding{System: core.CodeSystemPorxgateEvent, Code: event, Display: display}}
	b.Add(core.FullURL(mh.ID), mh)
	for i, slot := range rmbSlots() {
		comp := n.Opt(slot.tag)
		if i == 0 {
			comp = n.Child(slot.tag)
		}
		if !comp.Exists() {
			continue
		}
		res, url, ext := rmbReadComponent(comp, slot.oid, raw, env)
		if res == nil {
			continue
		}
		b.Add(url, res)
		mh.Focus = append(mh.Focus, fhir.Reference{Reference: url, Extension: []fhir.Extension{ext}})
	}
	pi := n.Child("pertinentInformation")
	a := core.Annotation(pi, "false", "pertinentReplacementInd", "RPL", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(a, "code", "value")
	v := a.Child("value")
	core.Attrs(v, "value", "true|false")
	core.ExpectChildren(v)
	px := core.ExtensionBuilder{Name: pxReimbursement}
	px.String("effectiveTime", eff)
	px.String("replacement", v.Attr("value"))
	mh.Extension = px.AppendTo(mh.Extension)
	return b
}

// rmbReadComponent reads one component and its embedded message.
func rmbReadComponent(comp v3.Node, oid string, raw []byte, env core.Env) (fhir.Resource, string, fhir.Extension) {
	core.Attrs(comp, "typeCode", "COMP", "contextConductionInd", "true|false")
	sep := comp.Child("seperatableInd")
	core.Attrs(sep, "value", "true|false")
	core.ExpectChildren(sep)
	tpl := comp.Child("templateId")
	core.Attrs(tpl, "root", oid, "extension", "*")
	core.ExpectChildren(tpl)
	tpl.Attr("root")
	var payload v3.Node
	for _, e := range comp.Elements() {
		if e.El.Tag == "seperatableInd" || e.El.Tag == "templateId" {
			continue
		}
		if payload.Exists() {
			e.Fail("more than one embedded message")
			return nil, "", fhir.Extension{}
		}
		payload = e
	}
	if !payload.Exists() {
		comp.Fail("missing the embedded message")
		return nil, "", fhir.Extension{}
	}
	var res fhir.Resource
	var id string
	switch payload.El.Tag {
	case "ParentPrescription":
		pb := prescribe.ReadParentPrescription(payload, raw, env)
		res, id = pb, pb.ID
	case "DispenseClaim":
		cl := ReadDispenseClaim(payload, env)
		core.RefuseEmptyAttrs(payload)
		res, id = cl, cl.ID
	case "DispenseNotification":
		dn := dispense.ReadDispenseNotification(payload, env)
		core.RefuseEmptyAttrs(payload)
		res, id = dn, dn.ID
	default:
		payload.Fail("unsupported embedded message (want ParentPrescription, DispenseClaim or DispenseNotification)")
		return nil, "", fhir.Extension{}
	}
	var xb core.ExtensionBuilder
	xb.String("component", comp.El.Tag)
	xb.String("contextConductionInd", comp.OptAttr("contextConductionInd"))
	xb.String("seperatableInd", sep.Attr("value"))
	xb.String("templateId", tpl.Attr("extension"))
	return res, core.FullURL(id), fhir.Extension{URL: core.PorxgateExtensionURL(pxReimbursementComponent), Extension: xb.Subs}
}

// writeReimbursement writes <ReimbursmentClaim> and returns the placement
// of the embedded prescription's signature, if any.
func writeReimbursement(c *core.BundleContext, parent *etree.Element, mh *fhir.MessageHeader, msgID string, env core.Env) *core.SignaturePlacement {
	mhPath := c.Path(mh)
	px := core.PorxgateExtension(mh.Extension, pxReimbursement)
	rc := v3.Add(parent, "ReimbursmentClaim", "classCode", "INFO", "moodCode", "EVN")
	v3.AddII(rc, "id", core.UpperUUID(msgID), "")
	eff := core.SubExtensionString(px, "effectiveTime")
	if eff == "" {
		c.Fail(mhPath+".extension", "missing the effective time (extension %s)", core.PorxgateExtensionURL(pxReimbursement))
	}
	v3.AddValue(rc, "effectiveTime", eff)
	byTag := map[string]int{}
	for i := range mh.Focus {
		ext := fhir.FindExtension(mh.Focus[i].Extension, core.PorxgateExtensionURL(pxReimbursementComponent))
		tag := core.SubExtensionString(ext, "component")
		if _, dup := byTag[tag]; dup {
			c.Fail(core.Indexed(mhPath+".focus", i), "component %s given twice", tag)
			return nil
		}
		byTag[tag] = i
	}
	var sig *core.SignaturePlacement
	for _, slot := range rmbSlots() {
		i, ok := byTag[slot.tag]
		if !ok {
			if slot.tag == "component1" {
				c.Fail(mhPath+".focus", "missing the prescription (component1)")
			}
			continue
		}
		delete(byTag, slot.tag)
		if s := rmbWriteComponent(c, rc, mh.Focus[i], core.Indexed(mhPath+".focus", i), slot.tag, slot.oid, env); s != nil {
			sig = s
		}
	}
	for tag, i := range byTag {
		c.Fail(core.Indexed(mhPath+".focus", i), "unknown component %q", tag)
	}
	repl := core.SubExtensionString(px, "replacement")
	if repl != "true" && repl != "false" {
		c.Fail(mhPath+".extension", "missing the replacement indicator (true or false)")
	}
	v3.AddValue(core.AddAnnotation(rc, "pertinentInformation", "false", "pertinentReplacementInd", "RPL"), "value", repl)
	return sig
}

// rmbWriteComponent writes one component with its embedded message.
func rmbWriteComponent(c *core.BundleContext, rc *etree.Element, ref fhir.Reference, path, tag, oid string, env core.Env) *core.SignaturePlacement {
	ext := fhir.FindExtension(ref.Extension, core.PorxgateExtensionURL(pxReimbursementComponent))
	res := c.Resolve(&ref, path)
	if res == nil {
		return nil
	}
	cci := core.SubExtensionString(ext, "contextConductionInd")
	comp := v3.Add(rc, tag, "typeCode", "COMP")
	if cci != "" {
		comp.CreateAttr("contextConductionInd", cci)
	}
	sep := core.SubExtensionString(ext, "seperatableInd")
	if sep == "" {
		sep = "false"
	}
	v3.AddValue(comp, "seperatableInd", sep)
	v3.Add(comp, "templateId", "root", oid, "extension", core.SubExtensionString(ext, "templateId"))
	rpath := c.Path(res)
	var sig *core.SignaturePlacement
	switch r := res.(type) {
	case *fhir.Bundle:
		hs := fhir.EntriesOf[*fhir.MessageHeader](r)
		if len(hs) != 1 {
			c.Fail(rpath, "an embedded message Bundle needs one MessageHeader")
			return nil
		}
		switch ev := hs[0].EventCoding.Code; ev {
		case fhir.EventPrescriptionOrder:
			dispense.WriteNested(c, r, rpath, func(nc *core.BundleContext) { sig = prescribe.WriteParentPrescription(nc, comp, env) })
		case fhir.EventDispenseNotification:
			dispense.WriteNested(c, r, rpath, func(nc *core.BundleContext) { dispense.WriteDispenseNotification(nc, comp, env) })
		default:
			c.Fail(rpath, "embedded message event %q not supported", ev)
		}
	case *fhir.Claim:
		holder := &fhir.Bundle{ResourceType: "Bundle"}
		dispense.WriteNested(c, holder, rpath, func(nc *core.BundleContext) { WriteDispenseClaim(nc, comp, r, "Claim", env) })
	default:
		c.Fail(rpath, "a %s cannot be embedded", res.GetResourceType())
	}
	return sig
}
