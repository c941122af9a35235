package dispense

import (
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Notification, FHIR → v3, following the EPS API's translation:
// the first MedicationDispense gives the effective time (whenHandedOver),
// the prescription status, ids and the dispenser (its contained
// PractitionerRole); MedicationDispenses sharing a dispense item number
// become one supplied line item with one component per supply.

// dnDispense is one MedicationDispense of the message with its path.
type dnDispense struct {
	md   *fhir.MedicationDispense
	path string
}

// dnGroup is the MedicationDispenses of one supplied line item.
type dnGroup struct {
	itemID string
	mds    []dnDispense
}

// WriteDispenseNotification writes the <DispenseNotification> of the
// dispense-notification Bundle in c under parent. Problems are recorded on c.
func WriteDispenseNotification(c *core.BundleContext, parent *etree.Element, env core.Env) {
	b := c.Bundle
	var mh *fhir.MessageHeader
	var mds []dnDispense
	for _, e := range b.Entry {
		switch r := e.Resource.(type) {
		case *fhir.MessageHeader:
			mh = r
		case *fhir.MedicationDispense:
			mds = append(mds, dnDispense{md: r, path: c.Path(r)}) // "Bundle.entry[i].resource", made once
		}
	}
	if mh == nil {
		c.Fail("Bundle.entry", "no MessageHeader")
		return
	}
	if len(mds) == 0 {
		c.Fail("Bundle.entry", "no MedicationDispense")
		return
	}
	mhPath := c.Path(mh)
	px := core.PorxgateExtension(mh.Extension, pxDispenseNotification)
	msgID := ""
	if b.Identifier != nil {
		msgID = b.Identifier.Value
	}
	first := mds[0]
	firstMR := dnRequest(c, first)
	var perf *dnDispense
	for i := range mds {
		if len(mds[i].md.Performer) > 0 {
			perf = &mds[i]
			break
		}
	}
	if perf == nil {
		c.Fail(first.path+".performer", "no MedicationDispense names its performer (the dispenser)")
		return
	}
	rolePath := perf.path + ".performer[0].actor"
	role := core.AgentRole(c, &perf.md.Performer[0].Actor, &perf.md.Base, rolePath)
	if role == nil || firstMR == nil {
		return
	}
	var org *fhir.Organization
	if r := core.ResolveAgentAt(c, role.Organization, &perf.md.Base, rolePath, ".organization"); r != nil {
		var ok bool
		if org, ok = r.(*fhir.Organization); !ok {
			c.Fail(rolePath+".organization", "references a %s, want an Organization", r.GetResourceType())
			return
		}
	}
	if org == nil {
		return
	}

	dn := v3.AddFixed(parent, fixedDispenseNotification)
	v3.AddII(dn, "id", c.UpperUUID(msgID), "")
	v3.AddFixed(dn, fixedDispensedFocusCode)
	v3.AddValue(dn, "effectiveTime", core.TSFromFHIRAt(c, first.md.WhenHandedOver, first.path, ".whenHandedOver"))
	v3.AddFixed(dn, fixedTypeID)
	pat := v3.AddFixed(v3.AddFixed(dn, core.FixedRecordTarget), fixedPatient)
	v3.AddFixedII(pat, core.FixedNHSNumber, dnNHSNumber(c, first))
	dnWriteRecipient(c, dn, org, px)

	pi1 := v3.AddFixed(dn, fixedSupplyHeaderRel)
	v3.AddFixed(pi1, fixedSupplyHeaderTemplate)
	sh := v3.AddFixed(pi1, fixedSupplyHeader)
	shID := msgID
	if v := core.SubExtensionString(px, "supplyHeaderId"); v != "" {
		shID = v
	}
	v3.AddII(sh, "id", c.UpperUUID(shID), "")
	v3.AddFixed(sh, fixedSupplyHeaderCode)
	v3.AddFixed(sh, core.FixedEffectiveTimeNA)
	if low, high, ok := dnHeaderRepeat(c, first, firstMR); ok {
		core.AddInterval(sh, "repeatNumber", low, high)
	}
	author := v3.AddFixed(sh, core.FixedAuthor)
	// The author time: Bundle.timestamp (porxgate's v3 → FHIR puts it
	// there), else the older porxgate extension, else now as the EPS API
	// writes it.
	var authorTime string
	if v := c.Bundle.Timestamp; v != "" {
		authorTime = core.TSFromFHIR(c, v, "Bundle.timestamp")
	} else if v := core.SubExtensionString(px, "authorTime"); v != "" {
		authorTime = core.TSFromFHIR(c, v, mhPath+".extension")
	} else {
		authorTime = env.Now.UTC().Format(core.V3TimeLayout)
	}
	v3.AddValue(author, "time", authorTime)
	v3.AddFixed(author, fixedSignatureTextNA)
	core.WriteDispensingAgentPerson(c, author, role, rolePath, &perf.md.Base, perf.path)

	groups := dnGroups(c, mds)
	for _, g := range groups {
		dnWriteLineItem(c, sh, g)
	}
	if ndr := dnHeaderNonDispensing(c, mds); ndr != nil {
		core.AddCV(core.AddFixedAnnotation(sh, annotationNonDispensing), "value", *ndr, core.OIDNonDispensingReason)
	}
	ps := core.ExtCodingAt(c, first.md.Extension, core.ExtensionTaskBusinessStatus, first.path, ".extension")
	if ps == nil {
		c.Fail(first.path+".extension", "missing mandatory extension %s", core.ExtensionTaskBusinessStatus)
		return
	}
	core.AddCV(core.AddFixedAnnotation(sh, annotationPrescriptionStatus), "value", *ps, v3.OIDPrescriptionStatus)
	shortID, longID := dnPrescriptionIDs(c, firstMR, first.path)
	if err := core.CheckShortFormID(shortID); shortID != "" && err != nil {
		c.Fail(first.path+".authorizingPrescription.groupIdentifier.value", "%v", err)
	}
	v3.AddFixedII(core.AddFixedAnnotation(sh, annotationPrescriptionID), core.FixedShortFormValue, shortID)
	core.AddFixedRef(sh, refOriginalPrescription, longID)
	if v := core.SubExtensionString(px, "predecessor"); v != "" {
		core.AddFixedRef(sh, refPriorSupplyHeader, v)
	}

	pi2 := v3.AddFixed(dn, fixedCategoryRel)
	v3.AddFixed(pi2, fixedCategoryTemplate)
	cat := v3.AddFixed(pi2, fixedCategory)
	v3.AddFixed(cat, fixedCareRecordCode)
	for _, id := range dnCareRecordIDs(c, px, mds) {
		ref := v3.AddFixed(v3.AddFixed(cat, core.FixedComponent), fixedActRef)
		v3.AddII(ref, "id", c.UpperUUID(id), "")
	}
	if rep := fhir.FindExtension(mh.Extension, core.ExtensionReplacementOf); rep != nil {
		if rep.ValueIdentifier == nil || rep.ValueIdentifier.Value == "" {
			c.Fail(mhPath+".extension", "extension %s has no valueIdentifier", core.ExtensionReplacementOf)
		} else {
			msg := v3.AddFixed(v3.AddFixed(dn, fixedReplacementOf), fixedPriorMessageRef)
			v3.AddII(msg, "id", core.UpperUUID(rep.ValueIdentifier.Value), "")
		}
	}
	if mh.Response == nil || mh.Response.Identifier == "" {
		c.Fail(mhPath+".response.identifier", "missing mandatory release response id")
		return
	}
	ev := v3.AddFixed(v3.AddFixed(dn, fixedSequelTo), fixedReleaseEventRef)
	v3.AddII(ev, "id", core.UpperUUID(mh.Response.Identifier), "")
}

// The dispense notification's elements whose names and attributes are
// fixed (see v3.Fixed).
var (
	fixedDispenseNotification = v3.NewFixed("DispenseNotification", "classCode", "INFO", "moodCode", "EVN")
	fixedDispensedFocusCode   = v3.NewFixed("code", "code", core.CodeDispensedFocus, "codeSystem", core.V3SNOMED, "displayName", core.NameDispensedFocus)
	fixedTypeID               = v3.NewFixed("typeId", "root", v3.OIDTypeID, "extension", dnTypeID)
	fixedPatient              = v3.NewFixed("patient", "classCode", "PAT")
	fixedSupplyHeaderRel      = v3.NewFixed("pertinentInformation1", "contextConductionInd", "true", "typeCode", "PERT")
	fixedSupplyHeaderTemplate = core.NewFixedTemplate(core.TemplatePertinentInfo)
	fixedSupplyHeader         = v3.NewFixed("pertinentSupplyHeader", "classCode", "SBADM", "moodCode", "EVN")
	fixedSupplyHeaderCode     = v3.NewFixed("code", "code", core.CodeAdministration, "codeSystem", core.V3SNOMED)
	fixedSignatureTextNA      = v3.NewFixed("signatureText", "nullFlavor", core.NullNA)
	fixedCategoryRel          = v3.NewFixed("pertinentInformation2", "typeCode", "PERT")
	fixedCategoryTemplate     = core.NewFixedTemplate(core.TemplatePertinentInfo1)
	fixedCategory             = v3.NewFixed("pertinentCareRecordElementCategory", "classCode", "CATEGORY", "moodCode", "EVN")
	fixedCareRecordCode       = v3.NewFixed("code", "code", core.CodeCareRecord, "codeSystem", core.V3SNOMED, "displayName", core.NameCareRecord)
	fixedActRef               = v3.NewFixed("actRef", "classCode", "SBADM", "moodCode", "PRMS")
	fixedReplacementOf        = v3.NewFixed("replacementOf", "typeCode", "RPLC")
	fixedPriorMessageRef      = v3.NewFixed("priorMessageRef", "classCode", "INFO", "moodCode", "EVN")
	fixedSequelTo             = v3.NewFixed("sequelTo", "typeCode", "SEQL")
	fixedReleaseEventRef      = v3.NewFixed("priorPrescriptionReleaseEventRef", "classCode", "INFO", "moodCode", "RQO")
	fixedRecipient            = v3.NewFixed("primaryInformationRecipient", "contextControlCode", "ON", "typeCode", "PRCP")
	fixedAgentOrg             = v3.NewFixed("AgentOrg", "classCode", "AGNT")
	fixedAgentOrganization    = v3.NewFixed("agentOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")

	annotationPrescriptionStatus = core.NewFixedAnnotation("pertinentInformation3", "false", "pertinentPrescriptionStatus", "PS")
	annotationPrescriptionID     = core.NewFixedAnnotation("pertinentInformation4", "false", "pertinentPrescriptionID", "PID")

	// fulfils and succeeds: the act references' relationship attributes.
	fulfils                 = []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}
	succeeds                = []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}
	refOriginalPrescription = core.NewFixedRef("inFulfillmentOf", fulfils, "true", core.TemplateSourceOf1, "priorOriginalPrescriptionRef", "SBADM", "RQO")
	refPriorSupplyHeader    = core.NewFixedRef("predecessor", succeeds, "false", core.TemplateSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN")
)

// dnRequest returns the MedicationRequest a MedicationDispense authorises
// itself by (contained or a bundle entry).
func dnRequest(c *core.BundleContext, d dnDispense) *fhir.MedicationRequest {
	if len(d.md.AuthorizingPrescription) == 0 {
		c.Fail(d.path+".authorizingPrescription", "missing mandatory authorizingPrescription")
		return nil
	}
	r := core.ResolveAgentAt(c, &d.md.AuthorizingPrescription[0], &d.md.Base, d.path, ".authorizingPrescription[0]")
	if r == nil {
		return nil
	}
	mr, ok := r.(*fhir.MedicationRequest)
	if !ok {
		c.Fail(d.path+".authorizingPrescription[0]", "references a %s, want a MedicationRequest", r.GetResourceType())
	}
	return mr
}

// dnNHSNumber returns the patient's NHS number: the Bundle's only Patient's,
// else the first MedicationDispense's subject identifier.
func dnNHSNumber(c *core.BundleContext, first dnDispense) string {
	// The only Patient, without the list of them all that fhir.EntriesOf
	// makes.
	var pat *fhir.Patient
	n := 0
	for _, e := range c.Bundle.Entry {
		if p, ok := e.Resource.(*fhir.Patient); ok {
			pat = p
			n++
		}
	}
	if n == 1 {
		return c.RequireIdentifierAt(pat.Identifier, fhir.SystemNHSNumber, c.Path(pat), ".identifier")
	}
	s := first.md.Subject
	if s == nil || s.Identifier == nil || s.Identifier.Value == "" {
		c.Fail(first.path+".subject.identifier", "missing mandatory NHS number")
		return ""
	}
	return s.Identifier.Value
}

// dnWriteRecipient writes primaryInformationRecipient: the reimbursement
// authority named by the dispensing organisation's
// Extension-ODS-OrganisationRelationships.
func dnWriteRecipient(c *core.BundleContext, dn *etree.Element, org *fhir.Organization, px *fhir.Extension) {
	rel := fhir.FindExtension(org.Extension, core.ExtensionOrganisationRelations)
	if rel == nil {
		c.Fail(c.Path(org)+".extension", "the reimbursement authority is missing (extension %s)", core.ExtensionOrganisationRelations)
		return
	}
	ra := fhir.FindExtension(rel.Extension, "reimbursementAuthority")
	if ra == nil || ra.ValueIdentifier == nil || ra.ValueIdentifier.Value == "" {
		c.Fail(c.Path(org)+".extension", "the ODS code of the reimbursement authority is missing (extension %s, reimbursementAuthority)", core.ExtensionOrganisationRelations)
		return
	}
	ao := v3.AddFixed(v3.AddFixed(v3.AddFixed(dn, fixedRecipient), fixedAgentOrg), fixedAgentOrganization)
	v3.AddFixedII(ao, core.FixedODSCode, ra.ValueIdentifier.Value)
	typeCode := core.OrganizationTypeNotSpecified
	if v := core.SubExtensionString(px, "recipientTypeCode"); v != "" {
		typeCode = v
	}
	v3.AddCV(ao, "code", typeCode, v3.OIDOrganizationType, "")
	if v := core.SubExtensionString(px, "recipientName"); v != "" {
		v3.AddText(ao, "name", v)
	}
}

// dnHeaderRepeat returns the supply header's repeatNumber for a repeat
// dispensing notification: the issue number and the number of issues,
// FHIR's zero-based repeat counts plus one, from
// Extension-EPS-RepeatInformation on the authorising MedicationRequest's
// basedOn (where the EPS API reads it), else on the first MedicationDispense.
func dnHeaderRepeat(c *core.BundleContext, first dnDispense, mr *fhir.MedicationRequest) (low, high string, ok bool) {
	// The paths are joined only when there is an extension to read.
	ext, at := c.ExtensionAt(first.md.Extension, core.ExtensionEPSRepeatInformation, first.path, ".extension"), ".extension"
	for i := range mr.BasedOn {
		if e := fhir.FindExtension(mr.BasedOn[i].Extension, core.ExtensionEPSRepeatInformation); e != nil {
			ext, at = e, ".authorizingPrescription.basedOn.extension"
			break
		}
	}
	if ext == nil {
		return "", "", false
	}
	issued, allowed, ok := core.RepeatInfo(c, ext, first.path+at)
	if !ok {
		return "", "", false
	}
	return strconv.Itoa(issued + 1), strconv.Itoa(allowed + 1), true
}

// dnGroups groups the MedicationDispenses into supplied line items by the
// prescription line item they fulfil (their authorizing MedicationRequest's
// prescription-order-item-number), in the order each first appears, as the
// EPS API does (dispense-notification.ts, mapMedicationDispenses): the
// supplied line item takes the first one's dispense item number, and every
// MedicationDispense is one of its supplies. A MedicationDispense whose
// MedicationRequest does not resolve goes by its own dispense item number
// (the line item then records why).
func dnGroups(c *core.BundleContext, mds []dnDispense) []dnGroup {
	var groups []dnGroup
	// Each group's key, found by a look along the few groups (no map, no
	// key joined): the line item fulfilled, else the dispense item number.
	type groupKey struct {
		item bool
		id   string
	}
	var keyRoom [4]groupKey
	keys := keyRoom[:0]
	for _, d := range mds {
		id := c.RequireIdentifierAt(d.md.Identifier, fhir.SystemDispenseItemID, d.path, ".identifier")
		key := groupKey{item: true, id: dnFulfilledItem(c.Bundle, d)}
		if key.id == "" {
			key = groupKey{id: id}
		}
		i := slices.Index(keys, key)
		if i < 0 {
			i = len(groups)
			keys = append(keys, key)
			groups = append(groups, dnGroup{itemID: id})
		}
		groups[i].mds = append(groups[i].mds, d)
	}
	return groups
}

// dnFulfilledItem returns the prescription line item id (upper case) of a
// MedicationDispense's authorizing MedicationRequest, or "" when it does
// not resolve; it records nothing (dnRequest does, for the line item).
func dnFulfilledItem(b *fhir.Bundle, d dnDispense) string {
	if len(d.md.AuthorizingPrescription) == 0 {
		return ""
	}
	ref := d.md.AuthorizingPrescription[0].Reference
	var r fhir.Resource
	switch {
	case strings.HasPrefix(ref, "#"):
		r = d.md.FindContained(ref)
	case b != nil && ref != "":
		r = b.Resolve(ref)
	}
	mr, ok := r.(*fhir.MedicationRequest)
	if !ok || mr == nil {
		return ""
	}
	return strings.ToUpper(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID))
}

// dnCareRecordIDs returns the care record element ids: porxgate's list when
// the message came from v3 with a list of its own, else one per
// MedicationDispense as the EPS API writes them.
func dnCareRecordIDs(c *core.BundleContext, px *fhir.Extension, mds []dnDispense) []string {
	if subs := core.SubExtensions(px, "careRecordElement"); len(subs) > 0 {
		out := make([]string, 0, len(subs))
		for _, s := range subs {
			if s.ValueIdentifier != nil {
				out = append(out, s.ValueIdentifier.Value)
			}
		}
		return out
	}
	out := make([]string, 0, len(mds))
	for _, d := range mds {
		out = append(out, fhir.FindIdentifier(d.md.Identifier, fhir.SystemDispenseItemID))
	}
	return out
}

// dnHeaderNonDispensing returns the prescription's non-dispensing reason:
// Extension-DM-PrescriptionNonDispensingReason when every
// MedicationDispense carries it with the same code (none when only some
// do, as the EPS API does; an error when they disagree).
func dnHeaderNonDispensing(c *core.BundleContext, mds []dnDispense) *fhir.Coding {
	var found *fhir.Coding
	n := 0
	for _, d := range mds {
		cd := core.ExtCodingAt(c, d.md.Extension, core.ExtensionNonDispensingReason, d.path, ".extension")
		if cd == nil {
			continue
		}
		n++
		if found != nil && found.Code != cd.Code {
			c.Fail(d.path+".extension", "all instances of MedicationDispense.extension:NonDispensingReason must be consistent (%s, %s)", found.Code, cd.Code)
			return nil
		}
		if found == nil {
			found = cd
		}
	}
	if n != len(mds) {
		return nil
	}
	return found
}

// dnPrescriptionIDs returns the short-form and long-form prescription ids of
// a MedicationRequest's groupIdentifier.
func dnPrescriptionIDs(c *core.BundleContext, mr *fhir.MedicationRequest, mdPath string) (short, long string) {
	// The paths are joined only for a problem.
	const path, extPath = ".authorizingPrescription.groupIdentifier", ".authorizingPrescription.groupIdentifier.extension"
	gi := mr.GroupIdentifier
	if gi == nil || gi.Value == "" {
		c.Fail(mdPath+path, "missing mandatory short-form prescription id")
		return "", ""
	}
	ext := c.ExtensionAt(gi.Extension, fhir.ExtensionPrescriptionID, mdPath, extPath)
	if ext == nil || ext.ValueIdentifier == nil || ext.ValueIdentifier.Value == "" {
		c.Fail(mdPath+extPath, "missing mandatory extension %s", fhir.ExtensionPrescriptionID)
		return gi.Value, ""
	}
	return gi.Value, ext.ValueIdentifier.Value
}
