package claim

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Claim, FHIR → v3, following the EPS API's translation.

// WriteDispenseClaim writes the <DispenseClaim> of a Claim under parent;
// path is the Claim's FHIR path. Problems are recorded on c.
func WriteDispenseClaim(c *core.BundleContext, parent *etree.Element, claim *fhir.Claim, path string, env core.Env) {
	px := core.PorxgateExtension(claim.Extension, pxDispenseClaim)
	msgID := fhir.FindIdentifier(claim.Identifier, fhir.SystemRFC4122)
	if len(claim.Item) != 1 {
		c.Fail(path+".item", "want exactly one item, got %d", len(claim.Item))
		return
	}
	item := &claim.Item[0]
	itemPath := path + ".item[0]"
	dc := v3.Add(parent, "DispenseClaim", "classCode", "INFO", "moodCode", "EVN")
	v3.AddII(dc, "id", core.UpperUUID(msgID), "")
	v3.AddCV(dc, "code", core.CodeDispensedFocus, core.V3SNOMED, core.NameDispensedFocus)
	created := core.TSFromFHIR(c, claim.Created, path+".created")
	v3.AddValue(dc, "effectiveTime", created)
	v3.AddII(dc, "typeId", v3.OIDTypeID, claimTypeID)
	claimWriteRecipient(c, dc, claim, path, px)
	if rcv := core.SubExtensions(px, "receiver"); len(rcv) > 0 {
		claimWriteReceiver(dc, rcv[0])
	}

	pi1 := v3.Add(dc, "pertinentInformation1", "contextConductionInd", "true", "typeCode", "PERT")
	core.AddTemplate(pi1, core.TemplatePertinentInfo)
	sh := v3.Add(pi1, "pertinentSupplyHeader", "classCode", "SBADM", "moodCode", "EVN")
	shID := msgID
	if v := core.SubExtensionString(px, "supplyHeaderId"); v != "" {
		shID = v
	}
	v3.AddII(sh, "id", core.UpperUUID(shID), "")
	v3.AddCV(sh, "code", core.CodeAdministration, core.V3SNOMED, "")
	v3.Add(sh, "effectiveTime", "nullFlavor", core.NullNA)
	// As the EPS API reads it: repeat information on the item gives the
	// supply header's and each detail's its line item's; without it, the
	// older location is read: the first detail's for the header and each
	// line item's from its first subDetail.
	deprecated := false
	if ext := c.Extension(item.Extension, core.ExtensionEPSRepeatInformation, itemPath+".extension"); ext != nil {
		claimAddRepeat(c, sh, ext, itemPath+".extension")
	} else {
		deprecated = true
		if len(item.Detail) > 0 {
			if ext := fhir.FindExtension(item.Detail[0].Extension, core.ExtensionEPSRepeatInformation); ext != nil {
				claimAddRepeat(c, sh, ext, itemPath+".detail[0].extension")
			}
		}
	}
	la := v3.Add(sh, "legalAuthenticator", "contextControlCode", "OP", "typeCode", "LA")
	laTime := created
	if v := core.SubExtensionString(px, "legalAuthenticatorTime"); v != "" {
		laTime = core.TSFromFHIR(c, v, path+".extension")
	}
	v3.AddValue(la, "time", laTime)
	v3.Add(la, "signatureText", "nullFlavor", core.NullNA)
	if claim.Provider == nil {
		c.Fail(path+".provider", "missing mandatory provider")
		return
	}
	if role := core.AgentRole(c, claim.Provider, &claim.Base, path+".provider"); role != nil {
		core.WriteDispensingAgentPerson(c, la, role, path+".provider", &claim.Base, path)
	}
	if ndr := core.ExtCoding(c, item.Extension, core.ExtensionTaskBusinessStatusReason, itemPath+".extension"); ndr != nil {
		core.AddCV(core.AddAnnotation(sh, "pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR"), "value", *ndr, core.OIDNonDispensingReason)
	}
	ps := core.ExtCoding(c, item.Extension, core.ExtensionTaskBusinessStatus, itemPath+".extension")
	if ps == nil {
		c.Fail(itemPath+".extension", "missing mandatory extension %s", core.ExtensionTaskBusinessStatus)
		return
	}
	core.AddCV(core.AddAnnotation(sh, "pertinentInformation3", "false", "pertinentPrescriptionStatus", "PS"), "value", *ps, v3.OIDPrescriptionStatus)
	if len(item.Detail) == 0 {
		c.Fail(itemPath+".detail", "missing mandatory detail (a supplied line item)")
		return
	}
	for i := range item.Detail {
		claimWriteLineItem(c, sh, &item.Detail[i], core.Indexed(itemPath+".detail", i), deprecated)
	}
	shortID, longID := claimPrescriptionIDs(c, claim, path)
	if err := core.CheckShortFormID(shortID); shortID != "" && err != nil {
		c.Fail(path+".prescription.extension", "%v", err)
	}
	v3.AddII(core.AddAnnotation(sh, "pertinentInformation4", "false", "pertinentPrescriptionID", "PID"), "value", v3.OIDShortFormID, shortID)
	core.AddRef(sh, "inFulfillmentOf", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", core.TemplateSourceOf1,
		"priorOriginalPrescriptionRef", "SBADM", "RQO", longID)
	if v := core.SubExtensionString(px, "predecessor"); v != "" {
		core.AddRef(sh, "predecessor", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}, "false", core.TemplateSourceOf1,
			"priorSupplyHeaderRef", "SBADM", "EVN", v)
	}
	if v := core.SubExtensionString(px, "claimRejectRef"); v != "" {
		rel := v3.Add(dc, "pertinentInformation2", "contextConductionInd", "true", "typeCode", "PERT")
		v3.AddII(v3.Add(rel, "pertinentReimbursementClaimRejectRef", "classCode", "ADJUD", "moodCode", "EVN"), "id", core.UpperUUID(v), "")
	}
	if rep := fhir.FindExtension(claim.Extension, core.ExtensionReplacementOf); rep != nil {
		if rep.ValueIdentifier == nil || rep.ValueIdentifier.Value == "" {
			c.Fail(path+".extension", "extension %s has no valueIdentifier", core.ExtensionReplacementOf)
		} else {
			msg := v3.Add(v3.Add(dc, "replacementOf", "typeCode", "RPLC"), "priorMessageRef", "classCode", "INFO", "moodCode", "EVN")
			v3.AddII(msg, "id", core.UpperUUID(rep.ValueIdentifier.Value), "")
		}
	}
	claimWriteCoverage(c, dc, item, itemPath)
	release := core.ClaimReleasePlaceholder
	if v := core.SubExtensionString(px, "releaseEventId"); v != "" {
		release = v
	}
	ev := v3.Add(v3.Add(dc, "sequelTo", "typeCode", "SEQL"), "priorPrescriptionReleaseEventRef", "classCode", "INFO", "moodCode", "RQO")
	v3.AddII(ev, "id", core.UpperUUID(release), "")
}

// claimAddRepeat writes a repeatNumber from Extension-EPS-RepeatInformation
// (both counts plus one, as the EPS API does for claims).
func claimAddRepeat(c *core.BundleContext, parent *etree.Element, ext *fhir.Extension, path string) {
	if issued, allowed, ok := core.RepeatInfo(c, ext, path); ok {
		core.AddInterval(parent, "repeatNumber", strconv.Itoa(issued+1), strconv.Itoa(allowed+1))
	}
}

// claimWriteRecipient writes primaryInformationRecipient from the only
// insurance's coverage (the reimbursement authority: ODS code and name).
func claimWriteRecipient(c *core.BundleContext, dc *etree.Element, claim *fhir.Claim, path string, px *fhir.Extension) {
	if len(claim.Insurance) != 1 {
		c.Fail(path+".insurance", "want exactly one insurance, got %d", len(claim.Insurance))
		return
	}
	cov := claim.Insurance[0].Coverage
	if cov.Identifier == nil || cov.Identifier.Value == "" {
		c.Fail(path+".insurance[0].coverage.identifier", "missing mandatory ODS code of the reimbursement authority")
		return
	}
	ao := v3.Add(v3.Add(v3.Add(dc, "primaryInformationRecipient", "typeCode", "PRCP"), "AgentOrg", "classCode", "AGNT"),
		"agentOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")
	v3.AddII(ao, "id", v3.OIDODS, cov.Identifier.Value)
	typeCode := core.OrganizationTypeNotSpecified
	if v := core.SubExtensionString(px, "recipientTypeCode"); v != "" {
		typeCode = v
	}
	v3.AddCV(ao, "code", typeCode, v3.OIDOrganizationType, "")
	if cov.Display != "" {
		v3.AddText(ao, "name", cov.Display)
	}
}

// claimWriteReceiver writes the porxgate-kept receiver/agent.
func claimWriteReceiver(dc *etree.Element, ext fhir.Extension) {
	ag := v3.Add(v3.Add(dc, "receiver", "typeCode", "RCV"), "agent", "classCode", "AGNT")
	if v := core.SubExtensionString(&ext, "id"); v != "" {
		if subs := core.SubExtensions(&ext, "idRoot"); len(subs) > 0 && subs[0].ValueString != nil {
			v3.AddII(ag, "id", *subs[0].ValueString, v)
		}
	}
	if cd := core.SubExtensions(&ext, "code"); len(cd) > 0 && cd[0].ValueCoding != nil {
		v3.AddCV(ag, "code", cd[0].ValueCoding.Code, cd[0].ValueCoding.System, cd[0].ValueCoding.Display)
	}
	p := v3.Add(ag, "agentPerson", "classCode", "PSN", "determinerCode", "INSTANCE")
	v3.AddText(p, "name", core.SubExtensionString(&ext, "name"))
	if v := core.SubExtensionString(&ext, "telecom"); v != "" {
		v3.Add(p, "telecom", "value", v)
	}
}

// claimPrescriptionIDs returns the short-form and long-form prescription ids
// of Claim.prescription's Extension-DM-GroupIdentifier.
func claimPrescriptionIDs(c *core.BundleContext, claim *fhir.Claim, path string) (short, long string) {
	p := path + ".prescription.extension"
	if claim.Prescription == nil {
		c.Fail(path+".prescription", "missing mandatory prescription")
		return "", ""
	}
	gi := c.Extension(claim.Prescription.Extension, core.ExtensionGroupIdentifier, p)
	if gi == nil {
		c.Fail(p, "missing mandatory extension %s", core.ExtensionGroupIdentifier)
		return "", ""
	}
	get := func(url string) string {
		e := fhir.FindExtension(gi.Extension, url)
		if e == nil || e.ValueIdentifier == nil || e.ValueIdentifier.Value == "" {
			c.Fail(p+".extension", "missing mandatory %s", url)
			return ""
		}
		return e.ValueIdentifier.Value
	}
	return get("shortForm"), get("UUID")
}

// claimWriteCoverage writes coverage/coveringChargeExempt from the
// item's prescription-charge-exemption coding, with the exemption evidence
// (DM-exemption-evidence) as its authorization.
func claimWriteCoverage(c *core.BundleContext, dc *etree.Element, item *fhir.ClaimItem, itemPath string) {
	ex := c.Coding(item.ProgramCode, core.CodeSystemChargeExemption, itemPath+".programCode")
	if ex == nil {
		return
	}
	neg := "false"
	if ex.Code == "0001" {
		neg = "true"
	}
	cov := v3.Add(dc, "coverage", "contextConductionInd", "true", "typeCode", "COVBY")
	v3.AddValue(cov, "seperatableInd", "false")
	ce := v3.Add(cov, "coveringChargeExempt", "classCode", "OBS", "moodCode", "EVN", "negationInd", neg)
	v3.AddCV(ce, "code", "EX", v3.OIDPertinentCode, "")
	v3.AddCV(ce, "value", ex.Code, core.OIDChargeExemption, "")
	ev := c.Coding(item.ProgramCode, core.CodeSystemExemptionEvidence, itemPath+".programCode")
	if ev == nil {
		return
	}
	seenNeg := "true"
	if ev.Code == "evidence-seen" {
		seenNeg = "false"
	}
	auth := v3.Add(ce, "authorization", "contextConductionInd", "true", "typeCode", "AUTH")
	v3.AddValue(auth, "seperatableInd", "false")
	es := v3.Add(auth, "authorizingEvidenceSeen", "classCode", "OBS", "moodCode", "EVN", "negationInd", seenNeg)
	v3.AddCV(es, "code", "ES", v3.OIDPertinentCode, "")
}
