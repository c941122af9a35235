package cancel

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// CancelToV3 turns a FHIR prescription-order-update Bundle into the v3
// Cancel Request (PORX_IN030101UK32, or SM32 in the SM family) with its
// transmission and ControlActEvent wrappers, following the EPS API's
// cancellation translation: the first and only MedicationRequest names the
// line item, its statusReason the reason, its requester the author and its
// ResponsiblePractitioner extension (else the requester) the responsible
// party. The transmission id is meta.MessageID when set, else the Bundle
// identifier, which is also the CancellationRequest id. The effective time
// is the Bundle's timestamp, else env.Now.
func CancelToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.CancelRequest, env.WriteFamily())
	// The Bundle is decoded and the message written in a Space of env's
	// Scratch, given back once it is serialised: nothing returned refers
	// to either, nor to body.
	sp := env.Scratch.Get()
	defer env.Scratch.Put(sp)
	b, err := core.ParseBundleIn(sp, body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	c := core.NewBundleContext(b, interaction)
	msgID := core.BundleMessageID(c)
	core.CheckMessageEvent(c, fhir.EventPrescriptionOrderUpdate)
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3MessageIn(sp, meta, interaction, msgID, env)
	WriteCancellationRequest(c, subject, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// cancelOrder is what a prescription-order-update Bundle says, gathered and
// checked before writing.
type cancelOrder struct {
	mr                *fhir.MedicationRequest
	mrPath            string
	patient           *fhir.Patient
	requester         *fhir.PractitionerRole
	reqPath           string
	responsible       *fhir.PractitionerRole
	respPath          string
	shortID, longID   string
	lineItem          string
	reason, reasonTxt string
	// moreReasons are the v3 reasons after the first (ExtensionCancelV3).
	moreReasons []fhir.Coding
	effective   string
}

// gatherCancel reads and checks the one MedicationRequest of a cancellation
// and the resources it refers to.
func gatherCancel(c *core.BundleContext, env core.Env) *cancelOrder {
	o := &cancelOrder{}
	n := 0
	for i, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			n++
			if o.mr == nil {
				o.mr, o.mrPath = mr, c.Path(mr) // "Bundle.entry[i].resource", made once
			} else {
				c.Fail(core.Indexed("Bundle.entry", i)+".resource", "a cancel request cancels one line item: more than one MedicationRequest")
				return nil
			}
		}
	}
	if n == 0 {
		c.Fail("Bundle.entry", "no MedicationRequest: a cancel request names the line item to cancel")
		return nil
	}
	mr, p := o.mr, o.mrPath
	if mr.Status != "cancelled" {
		c.Fail(p+".status", "status %q, want cancelled", mr.Status)
	}
	sr := c.CodingAt(ccList(mr.StatusReason), CodeSystemStatusReason, p, ".statusReason.coding")
	if sr == nil || sr.Code == "" {
		c.Fail(p+".statusReason.coding", "missing mandatory coding with system %s", CodeSystemStatusReason)
	} else {
		o.reason, o.reasonTxt = sr.Code, sr.Display
	}
	o.lineItem = c.RequireIdentifierAt(mr.Identifier, fhir.SystemLineItemID, p, ".identifier")
	if o.lineItem != "" && !core.IsUUID(o.lineItem) {
		c.Fail(p+".identifier", "line item id %q is not a UUID", o.lineItem)
	}
	gi := mr.GroupIdentifier
	if gi == nil {
		c.Fail(p+".groupIdentifier", "missing mandatory groupIdentifier")
		return nil
	}
	if gi.System != fhir.SystemShortFormID {
		c.Fail(p+".groupIdentifier.system", "system %q, want %s", gi.System, fhir.SystemShortFormID)
	}
	o.shortID = gi.Value
	if err := core.CheckShortFormID(o.shortID); err != nil {
		c.Fail(p+".groupIdentifier.value", "%v", err)
	}
	o.longID = core.LongFormID(c, gi, p+".groupIdentifier")
	if o.longID != "" && !core.IsUUID(o.longID) {
		c.Fail(p+".groupIdentifier.extension", "long-form prescription id %q is not a UUID", o.longID)
	}
	o.patient = core.OnlyPatient(c)
	if req, ok := c.ResolveAt(mr.Requester, p, ".requester").(*fhir.PractitionerRole); ok {
		o.requester, o.reqPath = req, c.Path(req)
	} else if !c.Failed() {
		c.Fail(p+".requester", "does not reference a PractitionerRole")
	}
	o.responsible, o.respPath = o.requester, o.reqPath
	if ext := c.ExtensionAt(mr.Extension, core.ExtensionResponsiblePractitioner, p, ".extension"); ext != nil {
		r, ok := c.Resolve(ext.ValueReference, p+".extension("+core.ExtensionResponsiblePractitioner+").valueReference").(*fhir.PractitionerRole)
		if !ok && !c.Failed() {
			c.Fail(p+".extension("+core.ExtensionResponsiblePractitioner+").valueReference", "does not reference a PractitionerRole")
		}
		o.responsible, o.respPath = r, c.Path(r)
	}
	o.effective = cancelEffectiveTime(c, env)
	o.moreReasons = cancelMoreReasons(c)
	if c.Failed() {
		return nil
	}
	return o
}

// cancelEffectiveTime is the porxgate extension's v3 effectiveTime, else
// the Bundle timestamp, else env.Now.
func cancelEffectiveTime(c *core.BundleContext, env core.Env) string {
	if v := cancelV3Value(c, "effectiveTime"); v != "" {
		return v
	}
	if ts := c.Bundle.Timestamp; ts != "" {
		t, err := core.V3TimestampFromFHIR(ts)
		if err != nil {
			c.Fail("Bundle.timestamp", "%v", err)
		}
		return t
	}
	return env.Now.UTC().Format(core.V3TimeLayout)
}

// cancelMoreReasons returns the reasons after the first that the
// MessageHeader's ExtensionCancelV3 keeps (cancellationReason), each a code
// of the reason system.
func cancelMoreReasons(c *core.BundleContext) []fhir.Coding {
	var out []fhir.Coding
	for _, e := range c.Bundle.Entry { // fhir.EntriesOf without its list
		mh, ok := e.Resource.(*fhir.MessageHeader)
		if !ok {
			continue
		}
		ext := fhir.FindExtension(mh.Extension, ExtensionCancelV3)
		if ext == nil {
			continue
		}
		for i, sub := range ext.Extension {
			if sub.URL != extCancellationReason {
				continue
			}
			path := core.Indexed(c.Path(mh)+".extension("+ExtensionCancelV3+").extension", i)
			cd := sub.ValueCoding
			switch {
			case cd == nil || cd.Code == "":
				c.Fail(path, "%s has no valueCoding with a code", extCancellationReason)
			case cd.System != CodeSystemStatusReason:
				c.Fail(path+".valueCoding.system", "system %q, want %s", cd.System, CodeSystemStatusReason)
			default:
				out = append(out, *cd)
			}
		}
	}
	return out
}

// cancelV3Value returns a sub-extension of the MessageHeader's
// ExtensionCancelV3, or "".
func cancelV3Value(c *core.BundleContext, url string) string {
	for _, e := range c.Bundle.Entry { // fhir.EntriesOf without its list
		if mh, ok := e.Resource.(*fhir.MessageHeader); ok {
			if ext := fhir.FindExtension(mh.Extension, ExtensionCancelV3); ext != nil {
				return extensionText(fhir.FindExtension(ext.Extension, url))
			}
		}
	}
	return ""
}

// extensionText returns an extension's valueString or valueCode, or "".
func extensionText(e *fhir.Extension) string {
	switch {
	case e == nil:
		return ""
	case e.ValueString != nil:
		return *e.ValueString
	case e.ValueCode != nil:
		return *e.ValueCode
	}
	return ""
}

// ccList wraps an optional CodeableConcept as a list.
func ccList(cc *fhir.CodeableConcept) []fhir.CodeableConcept {
	if cc == nil {
		return nil
	}
	// The concept itself, read only: no copy of it.
	return unsafe.Slice(cc, 1)
}

// WriteCancellationRequest writes the CancellationRequest of a
// prescription-order-update Bundle under parent (the ControlActEvent
// subject). Problems are recorded on c.
func WriteCancellationRequest(c *core.BundleContext, parent *etree.Element, env core.Env) {
	o := gatherCancel(c, env)
	if o == nil {
		return
	}
	cr := v3.AddFixed(parent, fixedCancellationRequest)
	v3.AddII(cr, "id", core.UpperUUID(c.Bundle.Identifier.Value), "")
	v3.AddValue(cr, "effectiveTime", o.effective)
	addPatientLayout(c, v3.AddFixed(cr, core.FixedRecordTarget), o.patient, c.Path(o.patient))
	addCancelAgentPerson(c, v3.AddFixed(cr, fixedAuthor), o.requester, o.reqPath, nil)
	addCancelAgentPerson(c, v3.AddFixed(cr, core.FixedResponsibleParty), o.responsible, o.respPath, nil)
	addPrescriptionIDRef(cr, o.shortID)
	addLineItemRef(cr, o.lineItem)
	addCancelReason(cr, o.reason, o.reasonTxt)
	for _, r := range o.moreReasons {
		addCancelReason(cr, r.Code, r.Display)
	}
	orig := v3.AddFixed(cr, fixedOriginalPrescription)
	v3.AddFixed(orig, core.FixedSeparatable)
	// The long-form id is a UUID (gatherCancel) or empty: UpperUUID is
	// strings.ToUpper of it in one pass.
	v3.AddII(v3.AddFixed(orig, fixedOriginalPrescriptionRef), "id", core.UpperUUID(o.longID), "")
}

// addCancelReason writes pertinentInformation/pertinentCancellationReason
// with the reason code and its text (none when empty).
func addCancelReason(cr *etree.Element, code, text string) {
	reason := cancelRelationship(cr, fixedReason, fixedReasonAct)
	v3.AddFixed(reason, fixedReasonCode)
	if text != "" {
		v3.AddText(reason, "text", text)
	}
	v3.AddCV(reason, "value", code, oidCancellationReason, "")
}

// cancelRelationship writes rel (<tag contextConductionInd="true"
// typeCode="PERT">) with seperatableInd false and act, an observation
// event, and returns the act.
func cancelRelationship(parent *etree.Element, rel, act *v3.Fixed) *etree.Element {
	r := v3.AddFixed(parent, rel)
	v3.AddFixed(r, core.FixedNotSeparatable)
	return v3.AddFixed(r, act)
}

// The Cancel Request's elements whose names and attributes are fixed (see
// v3.Fixed).
var (
	fixedCancellationRequest     = v3.NewFixed("CancellationRequest", "classCode", "INFO", "moodCode", "EVN")
	fixedAuthor                  = v3.NewFixed("author", "typeCode", "AUT")
	fixedReason                  = v3.NewFixed("pertinentInformation", "contextConductionInd", "true", "typeCode", "PERT")
	fixedReasonAct               = v3.NewFixed("pertinentCancellationReason", "classCode", "OBS", "moodCode", "EVN")
	fixedPrescriptionID          = v3.NewFixed("pertinentInformation2", "contextConductionInd", "true", "typeCode", "PERT")
	fixedPrescriptionIDAct       = v3.NewFixed("pertinentPrescriptionID", "classCode", "OBS", "moodCode", "EVN")
	fixedLineItem                = v3.NewFixed("pertinentInformation1", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	fixedLineItemRef             = v3.NewFixed("pertinentLineItemRef", "classCode", "SBADM", "moodCode", "RQO")
	fixedOriginalPrescription    = v3.NewFixed("pertinentInformation3", "contextConductionInd", "false", "typeCode", "PERT")
	fixedOriginalPrescriptionRef = v3.NewFixed("pertinentOriginalPrescriptionRef", "classCode", "SBADM", "moodCode", "RQO")
	fixedReasonCode              = v3.NewFixed("code", "code", codeCancelReason, "codeSystem", v3.OIDPertinentCode)
	fixedPrescriptionIDCode      = v3.NewFixed("code", "code", codePrescriptionID, "codeSystem", v3.OIDPertinentCode)
)

// addPrescriptionIDRef writes pertinentInformation2/pertinentPrescriptionID
// with the short-form prescription id.
func addPrescriptionIDRef(parent *etree.Element, shortID string) {
	pid := cancelRelationship(parent, fixedPrescriptionID, fixedPrescriptionIDAct)
	v3.AddFixed(pid, fixedPrescriptionIDCode)
	v3.AddFixedII(pid, core.FixedShortFormValue, shortID)
}

// addLineItemRef writes pertinentInformation1/pertinentLineItemRef.
func addLineItemRef(parent *etree.Element, lineItem string) {
	li := v3.AddFixed(parent, fixedLineItem)
	v3.AddFixed(li, core.FixedSeparatable)
	v3.AddII(v3.AddFixed(li, fixedLineItemRef), "id", strings.ToUpper(lineItem), "")
}

// cancelError is a problem found in a cancellation message outside a v3
// Reader or BundleContext.
func cancelError(interaction, path, format string, args ...any) error {
	return &v3.Error{Interaction: interaction, Path: path, Msg: fmt.Sprintf(format, args...)}
}
