package release

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Prescription Release Rejection, v3 → FHIR: the OperationOutcome the EPS
// API makes of Spine's rejection (spine-response-handler.ts): one issue
// with the reason's EPS code (and its v3 code as a urn:oid coding, so it
// comes back exactly), the reason's text as diagnostics, and the performer's
// organisation as a contained Organization named by
// Extension-Spine-supportingInfo. The rejection's own ids, the request it
// answers and a non-AE acknowledgement go into ExtensionReleaseRejection;
// what would still not come back is carried verbatim (the performer's
// AgentPerson on the Organization, else the whole PrescriptionReleaseReject).

// ReleaseRejectionToFHIR turns a v3 Prescription Release Rejection (UK or
// SM family) into an OperationOutcome, with the wrapper values that travel
// beside it.
func ReleaseRejectionToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, _, err := core.OpenV3(payload, env, "prescription release rejection (PORX_IN110101)", v3.ReleaseRejection)
	if err != nil {
		return nil, core.Meta{}, err
	}
	h, w, subject := readReleaseWrapper(root)
	core.ExpectChildren(subject, "PrescriptionReleaseReject")
	rj := subject.Child("PrescriptionReleaseReject")
	oo := readRejectBody(rj, h, env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	carryRejection(rj.El, h, oo)
	out, err := fhir.Marshal(oo)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	return out, core.MetaFromWrapper(w), nil
}

// readRejectBody reads PrescriptionReleaseReject into an OperationOutcome.
func readRejectBody(rj v3.Node, h *releaseHead, env core.Env) *fhir.OperationOutcome {
	if !rj.Exists() {
		return nil
	}
	core.ExpectChildren(rj, "id", "effectiveTime", "pertinentInformation", "reversalOf")
	h.payloadID = rj.Child("id").Attr("root")
	et := rj.Child("effectiveTime")
	h.effectiveTime = et.Value()
	// The reason (pertinentInformation 0..1 in PORX_MT121201UK30, its
	// code and value CV 0..1), which Spine always writes
	// (prescriptionReleaseRejection_PORX_MT121201UK30.xsl), is read as the
	// EPS API reads it: the value alone (the code is the fixed PRRR, never
	// read), and without one, no reason (rejectionIssue).
	rel := rj.Opt("pertinentInformation")
	core.ExpectChildren(rel, "seperatableInd", "pertinentRejectionReason")
	rr := rel.Child("pertinentRejectionReason")
	core.ExpectChildren(rr, "code", "text", "value", "performer")
	core.V3FixedCode(rr.Opt("code"), "PRRR", v3.OIDPertinentCode)
	val := rr.Opt("value")
	h.requestRef = rj.Child("reversalOf").Child("priorPrescriptionReleaseRequestRef").Child("id").Attr("root")

	oo := &fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome", ID: core.FreshID(env.NewID)}}
	if h.effectiveTime != "" {
		t, err := core.FHIRDateTimeFromV3(h.effectiveTime)
		if err != nil {
			et.Fail("%v", err)
		}
		oo.Meta = &fhir.Meta{LastUpdated: t}
	}
	iss := rejectionIssue(val)
	if tx := rr.Opt("text"); tx.Exists() {
		iss.Diagnostics = strings.TrimSpace(tx.Text())
	}
	oo.Issue = []fhir.Issue{iss}
	// As the EPS API, only a rejection "with another dispenser" names the
	// holder, and a placeholder when Spine names none; any other performer
	// is carried with the whole rejection (carryRejection).
	if withAnotherDispenser(iss) {
		var org *fhir.Organization
		if ap := rr.Opt("performer").Opt("AgentPerson"); ap.Exists() {
			var parent *fhir.Organization
			org, parent = core.ReadOrganization(ap.Child("representedOrganization"), env.NewID)
			if parent != nil {
				org.PartOf = &fhir.Reference{Identifier: &parent.Identifier[0], Display: parent.Name}
			}
		} else {
			org = &fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: core.FreshID(env.NewID)},
				Identifier: []fhir.Identifier{{System: fhir.SystemODS, Value: unknownHolder}}, Name: unknownHolder}
		}
		oo.Contained = fhir.ResourceList{org}
		oo.Extension = append(oo.Extension, fhir.Extension{URL: core.ExtensionSpineSupportingInfo,
			ValueReference: &fhir.Reference{Reference: "#" + org.ID}})
	}
	ext := fhir.Extension{URL: ExtensionReleaseRejection}
	id := func(url, v string) {
		if core.IsUUID(v) {
			v = strings.ToLower(v) // as FHIR writes a UUID; another root is kept as sent, as UpperUUID gives it back
		}
		if v != "" {
			ext.Extension = append(ext.Extension, fhir.Extension{URL: url, ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: v}})
		}
	}
	id("id", h.payloadID)
	id("messageRef", h.messageRef)
	id("requestRef", h.requestRef)
	if h.ackTypeCode != core.AckError {
		tc := h.ackTypeCode
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "acknowledgement", ValueCode: &tc})
	}
	oo.Extension = append(oo.Extension, ext)
	return oo
}

// rejectionIssue is the issue the EPS API makes of a rejection reason's
// value (OutcomeIssueFromV3); of none, the issue of its server error
// response, with no code at all (spine-response-handler.ts:
// ReleaseRejectionHandler.extractErrorCodes reads
// pertinentInformation?.pertinentRejectionReason?.value, and no code gives
// createServerErrorResponse, HTTP 500).
func rejectionIssue(val v3.Node) fhir.Issue {
	if !val.Exists() {
		return fhir.Issue{Severity: "error", Code: "invalid"}
	}
	return core.OutcomeIssueFromV3(core.SpineCode{System: val.Attr("codeSystem"), Code: val.Attr("code"),
		Display: val.OptAttr("displayName"), Severity: core.AckSeverityError})
}

// carryRejection writes the rejection back from oo and carries what would
// not come back: the performer's AgentPerson on its Organization, then (if
// still needed) the whole PrescriptionReleaseReject.
func carryRejection(rj *etree.Element, h *releaseHead, oo *fhir.OperationOutcome) {
	regen := func() *etree.Element {
		c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, "")
		rej := gatherRejection(c, oo, 400)
		if c.Failed() {
			return nil
		}
		sub := v3.NewHolder("subject")
		hh := *h
		hh.effectiveTime = viaFHIRTime(h.effectiveTime)
		writeRejectBody(c, sub, &hh, oo, rej)
		if c.Failed() {
			return nil
		}
		return sub.SelectElement("PrescriptionReleaseReject")
	}
	got := regen()
	if got != nil && core.SameElement(rj, got, nil) {
		return
	}
	if ap := rj.FindElement("pertinentInformation/pertinentRejectionReason/performer/AgentPerson"); ap != nil && len(oo.Contained) == 1 {
		var gotAP *etree.Element
		if got != nil {
			gotAP = got.FindElement("pertinentInformation/pertinentRejectionReason/performer/AgentPerson")
		}
		if gotAP == nil || !core.SameElement(ap, gotAP, nil) {
			if org, ok := oo.Contained[0].(*fhir.Organization); ok {
				org.Extension = append(org.Extension, core.V3OriginalExtension(partAgentPerson, ap))
				got = regen()
			}
		}
	}
	if got == nil || !core.SameElement(rj, got, nil) {
		oo.Extension = append(oo.Extension, core.V3OriginalExtension(partReleaseReject, rj))
	}
}

// unknownHolder is the name and ODS code of the Organization the EPS API
// contains when Spine rejects a release "with another dispenser" without
// naming it (spine-response-handler.ts ReleaseRejectionHandler
// getOrganizationInfo). It is no dispenser: porxgate writes no performer
// for it.
const unknownHolder = "UNKNOWN"

// withAnotherDispenser reports whether an issue is the EPS API's
// PRESCRIPTION_WITH_ANOTHER_DISPENSER, the one rejection whose outcome names
// the holding dispenser.
func withAnotherDispenser(iss fhir.Issue) bool {
	if iss.Details == nil {
		return false
	}
	for _, cd := range iss.Details.Coding {
		if cd.Code == "PRESCRIPTION_WITH_ANOTHER_DISPENSER" {
			return true
		}
	}
	return false
}
