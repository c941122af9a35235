package release

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Prescription Release Rejection (PORX_IN110101UK30), FHIR → v3: the
// OperationOutcome EPS answers a refused $release with becomes Spine's
// rejection (acknowledgement AE; PrescriptionReleaseReject with the reason
// as pertinentRejectionReason, a …16.34 code from the code tables of
// errors*.go, and a reversalOf the release request). When the prescription
// is with another dispenser (0004), EPS names that dispenser's organisation
// in a contained Organization (Extension-Spine-supportingInfo); it becomes
// the reason's performer, as Spine writes it.

// releaseRejection is what an OperationOutcome says for a rejection.
type releaseRejection struct {
	reason   core.SpineCode
	text     string
	org      *fhir.Organization
	orgPath  string
	unmapped []string
}

// ReleaseRejectionToV3 turns a $release OperationOutcome into a
// Prescription Release Rejection, in the family of meta.Interaction (the
// rejection itself or the request it answers), else env's. The ids and the reference
// to the release request come from the porxgate extension when the outcome
// was made from v3, else from meta and env.
func ReleaseRejectionToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.ReleaseRejection, env.WriteFamily())
	if _, fam, err := v3.Canonical(meta.Interaction); err == nil {
		interaction = v3.InFamily(v3.ReleaseRejection, fam)
	}
	oo, err := decodeOutcome(body, interaction)
	if err != nil {
		return nil, err
	}
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, interaction)
	h := &releaseHead{interaction: interaction, ackTypeCode: core.AckError, creationTime: env.Now.UTC().Format(core.V3TimeLayout)}
	h.fillFromMeta(meta)
	readRejectionExtension(c, oo, h)
	h.id = meta.MessageID
	fresh := func() string {
		if env.NewID == nil {
			c.Fail("OperationOutcome", "no id generator (Env.NewID)")
			return ""
		}
		return env.NewID()
	}
	if h.id == "" {
		h.id = h.payloadID
		if h.id == "" {
			h.id = fresh()
		}
	}
	if h.payloadID == "" {
		h.payloadID = h.id
	}
	if h.messageRef == "" {
		h.messageRef = h.id
	}
	if h.requestRef == "" {
		h.requestRef = fresh()
	}
	if oo.Meta != nil && oo.Meta.LastUpdated != "" {
		t, err := core.V3TimestampFromFHIR(oo.Meta.LastUpdated)
		if err != nil {
			c.Fail("OperationOutcome.meta.lastUpdated", "%v", err)
		}
		h.effectiveTime = t
	} else {
		h.effectiveTime = h.creationTime
	}
	rej := gatherRejection(c, oo, 400)
	if c.Failed() {
		return nil, c.Err()
	}
	return buildReleaseRejection(c, h, oo, rej)
}

// decodeOutcome decodes an OperationOutcome.
func decodeOutcome(body []byte, interaction string) (*fhir.OperationOutcome, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "OperationOutcome", Msg: err.Error()}
	}
	oo, ok := res.(*fhir.OperationOutcome)
	if !ok {
		return nil, &core.FHIRError{Interaction: interaction, Path: res.GetResourceType(), Msg: "resourceType " + res.GetResourceType() + ", want OperationOutcome"}
	}
	return oo, nil
}

// readRejectionExtension reads porxgate's rejection extension into h.
func readRejectionExtension(c *core.BundleContext, oo *fhir.OperationOutcome, h *releaseHead) {
	ext := c.Extension(oo.Extension, ExtensionReleaseRejection, "OperationOutcome.extension")
	if ext == nil {
		return
	}
	for i, sub := range ext.Extension {
		path := core.Indexed("OperationOutcome.extension.extension", i)
		switch sub.URL {
		case "id", "messageRef", "requestRef":
			if sub.ValueIdentifier == nil || sub.ValueIdentifier.Value == "" {
				c.Fail(path+".valueIdentifier", "missing mandatory identifier")
				continue
			}
			switch sub.URL {
			case "id":
				h.payloadID = sub.ValueIdentifier.Value
			case "messageRef":
				h.messageRef = sub.ValueIdentifier.Value
			default:
				h.requestRef = sub.ValueIdentifier.Value
			}
		case "acknowledgement":
			if sub.ValueCode == nil || !core.AckTypeCodeOK(*sub.ValueCode) {
				c.Fail(path+".valueCode", "acknowledgement type code must be AA, AE or AR")
				continue
			}
			h.ackTypeCode = *sub.ValueCode
		default:
			c.Fail(path+".url", "unexpected sub-extension %q", sub.URL)
		}
	}
}

// gatherRejection reads the reason (the first release rejection code the
// code tables give; any other code becomes 5000 with its text), the
// diagnostics and the holding organisation of an outcome.
func gatherRejection(c *core.BundleContext, oo *fhir.OperationOutcome, httpStatus int) releaseRejection {
	var rej releaseRejection
	e, err := core.V3ErrorFromOutcome(oo, httpStatus, core.ErrorFamilyRelease)
	if err != nil {
		c.Fail("OperationOutcome.issue", "%v", err)
		return rej
	}
	rej.unmapped = e.Unmapped
	for _, code := range e.Codes {
		if code.System == v3.OIDDispenseErrorCode {
			rej.reason = code
			break
		}
	}
	if rej.reason.Code == "" {
		first := e.Codes[0]
		sys, code, _ := core.FamilyCode(core.ErrorFamilyRelease, core.KindGeneric)
		rej.reason = core.SpineCode{System: sys, Code: code, Display: core.UnableToProcess + " - " + core.FirstNonEmpty(first.Display, first.Code)}
		rej.unmapped = append(rej.unmapped, first.System+"|"+first.Code)
	}
	rej.reason.Severity = ""
	for _, iss := range oo.Issue {
		if iss.Diagnostics != "" {
			rej.text = core.V3LineEnds(iss.Diagnostics)
			break
		}
	}
	if ext := c.Extension(oo.Extension, core.ExtensionSpineSupportingInfo, "OperationOutcome.extension"); ext != nil {
		ref := ext.ValueReference
		if ref == nil || ref.Reference == "" {
			c.Fail("OperationOutcome.extension.valueReference", "missing mandatory reference to the holding organisation")
			return rej
		}
		for i, r := range oo.Contained {
			if "#"+relResourceID(r) != ref.Reference {
				continue
			}
			org, ok := r.(*fhir.Organization)
			if !ok {
				c.Fail(core.Indexed("OperationOutcome.contained", i), "resourceType %s, want Organization", r.GetResourceType())
				return rej
			}
			rej.org, rej.orgPath = org, core.Indexed("OperationOutcome.contained", i)
		}
		if rej.org == nil {
			c.Fail("OperationOutcome.extension.valueReference.reference", "reference %q does not resolve to a contained resource", ref.Reference)
		} else if ods := fhir.FindIdentifier(rej.org.Identifier, fhir.SystemODS); ods == unknownHolder && len(rej.org.Extension) == 0 {
			// EPS's placeholder: Spine named no holder.
			rej.org = nil
		}
	}
	return rej
}

// buildReleaseRejection writes the rejection document.
func buildReleaseRejection(c *core.BundleContext, h *releaseHead, oo *fhir.OperationOutcome, rej releaseRejection) ([]byte, error) {
	doc, subject := buildReleaseWrapper(h)
	writeRejectBody(c, subject, h, oo, rej)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return writeSignedDocument(c, doc, nil)
}

// writeRejectBody writes PrescriptionReleaseReject under subject: the
// carried element when the outcome has one, else the reason (with the
// holding organisation as performer) and the reversal of the request.
func writeRejectBody(c *core.BundleContext, subject *etree.Element, h *releaseHead, oo *fhir.OperationOutcome, rej releaseRejection) {
	if el := core.CarriedPart(c, oo.Extension, partReleaseReject, "OperationOutcome"); el != nil {
		subject.AddChild(el)
		return
	}
	rj := v3.Add(subject, "PrescriptionReleaseReject", "classCode", "INFO", "moodCode", "EVN")
	v3.AddII(rj, "id", core.UpperUUID(h.payloadID), "")
	v3.AddValue(rj, "effectiveTime", h.effectiveTime)
	rel := v3.Add(rj, "pertinentInformation", "type", "ActRelationship", "typeCode", "PERT", "contextConductionInd", "true")
	v3.AddValue(rel, "seperatableInd", "false")
	rr := v3.Add(rel, "pertinentRejectionReason", "type", "Observation", "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(rr, "code", "PRRR", v3.OIDPertinentCode, "")
	if rej.text != "" {
		v3.AddText(rr, "text", rej.text)
	}
	v3.AddCV(rr, "value", rej.reason.Code, rej.reason.System, rej.reason.Display)
	if rej.org != nil {
		perf := v3.Add(rr, "performer", "typeCode", "PRF")
		if el := core.CarriedPart(c, rej.org.Extension, partAgentPerson, rej.orgPath); el != nil {
			perf.AddChild(el)
		} else {
			writeHoldingOrganization(c, v3.Add(perf, "AgentPerson", "classCode", "AGNT"), rej.org, rej.orgPath)
		}
	}
	rev := v3.Add(rj, "reversalOf", "type", "ActRelationship", "typeCode", "REV")
	v3.AddValue(rev, "seperatableInd", "true")
	ref := v3.Add(rev, "priorPrescriptionReleaseRequestRef", "type", "ControlAct", "classCode", "INFO", "moodCode", "RQO")
	v3.AddII(ref, "id", core.UpperUUID(h.requestRef), "")
}

// writeHoldingOrganization writes the representedOrganization of the
// dispenser holding a prescription: its ODS code, type (999 unless a v3
// organisation type coding says otherwise), name, telecoms and addresses;
// EPS may name it by ODS code alone.
func writeHoldingOrganization(c *core.BundleContext, ap *etree.Element, org *fhir.Organization, path string) {
	rep := v3.Add(ap, "representedOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")
	ods := c.RequireIdentifier(org.Identifier, fhir.SystemODS, path+".identifier")
	v3.AddII(rep, "id", v3.OIDODS, ods)
	typeCode := core.OrganizationTypeNotSpecified
	if cd := c.Coding(org.Type, core.CodeSystemV3OrganizationType, path+".type"); cd != nil && cd.Code != "" {
		typeCode = cd.Code
	}
	v3.AddCV(rep, "code", typeCode, v3.OIDOrganizationType, "")
	if org.Name != "" {
		v3.AddText(rep, "name", org.Name)
	}
	for i, t := range org.Telecom {
		core.AddTelecom(c, rep, t, core.Indexed(path+".telecom", i))
	}
	for i, a := range org.Address {
		core.AddAddress(c, rep, a, core.Indexed(path+".address", i))
	}
}
