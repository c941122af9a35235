package cancel

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// cancelReader reads cancellation messages with the shape reader's checks
// and the cancellation parts they share.
type cancelReader struct{ core.ShapeReader }

// CancelToFHIR reads a v3 Cancel Request (PORX_IN030101UK32 or SM32) into
// the FHIR prescription-order-update Bundle that CancelToV3 turns back into
// the same CancellationRequest, with the wrapper values in Meta. The payload
// is checked element by element (names, order, fixed attributes); anything
// unexpected is an error naming the interaction and the element path.
func CancelToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, err := v3.Parse(payload)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("cancel request: %w", err)
	}
	core.RelaxNode(root)
	if canon, _, err := v3.Canonical(root.El.Tag); err != nil || canon != v3.CancelRequest {
		return nil, core.Meta{}, cancelError(root.El.Tag, root.Path(), "root element %s is not a cancel request (%s)", root.El.Tag, v3.CancelRequest)
	}
	w, subject := v3.ReadWrapper(root)
	p := cancelReader{core.ShapeReader{Reader: r}}
	p.Shape(subject, nil, "CancellationRequest")
	b, refusal := readCancellationRequest(p, subject.Child("CancellationRequest"), env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	if refusal != nil {
		return nil, core.Meta{}, refusal
	}
	body, err := fhir.MarshalIndent(b)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("cancel request: writing FHIR: %w", err)
	}
	return body, core.MetaFromWrapper(w), nil
}

// cancelRequestParts are the values of a CancellationRequest.
type cancelRequestParts struct {
	id, effective      string
	shortID, lineItem  string
	reason, reasonText string
	// moreReasons are the reasons after the first, in order.
	moreReasons []fhir.Coding
	longID      string
}

// readCancellationRequest reads a CancellationRequest element into a
// prescription-order-update Bundle; problems are recorded on p's Reader.
// A request the MIM allows that the EPS FHIR API cannot take (see
// epsCannotCancel) gives no Bundle and that refusal.
func readCancellationRequest(p cancelReader, cr v3.Node, env core.Env) (*fhir.Bundle, error) {
	newID := env.NewID
	p.Shape(cr, map[string]bool{"pertinentInformation": true}, "id", "effectiveTime", "recordTarget", "author", "responsibleParty",
		"pertinentInformation2", "pertinentInformation1", "pertinentInformation", "pertinentInformation3")
	p.Attrs(cr, "classCode", "moodCode")
	p.Fixed(cr, "classCode", "INFO")
	p.Fixed(cr, "moodCode", "EVN")
	var v cancelRequestParts
	v.id = p.UUID(cr.Child("id"))
	v.effective = p.AttrOnly(cr.Child("effectiveTime"), "value")

	patientNode := p.Participation(cr.Child("recordTarget"), "Patient", "typeCode", "RCT")
	core.CheckOnce(patientNode, core.PatientOnce())
	core.CheckPrescribingPatient(patientNode)
	patient := readPatientLayout(patientNode, core.FreshID(newID))
	authorNode := p.Participation(cr.Child("author"), "AgentPerson", "typeCode", "AUT")
	core.CheckOnce(authorNode, core.AgentPersonOnce())
	author := readCancelAgentPersonLayout(authorNode, newID)
	resp, separate := author, false
	if rn := cr.Opt("responsibleParty"); rn.Exists() {
		respNode := p.Participation(rn, "AgentPerson", "typeCode", "RESP")
		core.CheckOnce(respNode, core.AgentPersonOnce())
		resp, separate = cancelResponsible(authorNode, respNode, author, newID)
	}
	v.shortID = p.prescriptionIDRef(cr.Child("pertinentInformation2"), env)
	if li := cr.Opt("pertinentInformation1"); li.Exists() {
		v.lineItem = p.lineItemRef(li)
	}
	// The MIM (PORX_MT135001UK32) lets a CancellationRequest give several
	// reasons (pertinentInformation 1..*). EPS FHIR takes exactly one
	// statusReason coding of the reason system (cancellation.ts,
	// getCodingForSystem), so the first is the statusReason and each other
	// travels in porxgate's ExtensionCancelV3 (cancellationReason), from
	// which the way back writes it again.
	reasons := cr.All("pertinentInformation")
	if len(reasons) == 0 {
		cr.Child("pertinentInformation")
	}
	for i, rel := range reasons {
		code, text := p.cancelReason(rel)
		if i == 0 {
			v.reason, v.reasonText = code, text
			continue
		}
		v.moreReasons = append(v.moreReasons, fhir.Coding{System: CodeSystemStatusReason, Code: code, Display: text})
	}
	if orig := cr.Opt("pertinentInformation3"); orig.Exists() {
		v.longID = p.originalPrescriptionRef(orig)
	}
	core.RefuseEmptyAttrs(cr)
	if p.Reader.Err() != nil {
		return nil, nil
	}
	if err := epsCannotCancel(p.Reader.Interaction(), &v); err != nil {
		return nil, err
	}
	return buildCancelBundle(&v, patient, author, resp, separate, newID), nil
}

// epsCannotCancel refuses a cancellation that PORX_MT135001UK32 allows and
// Spine takes but the EPS FHIR API cannot (a *core.EPSRefusal naming the
// element), nil otherwise:
//   - no pertinentInformation1 (0..1): a cancellation of the whole
//     prescription (Spine's schematron reports it as cancellationType
//     Prescription). The EPS API cancels one line item, the
//     MedicationRequest's identifier (request/cancel/cancellation.ts), and
//     refuses a Bundle of more than one, and the request names no items;
//   - no pertinentInformation3 (0..1): the EPS API reads the long-form id
//     (MedicationRequest.groupIdentifier's Extension-DM-PrescriptionId)
//     unchecked.
//
// Before, both were refused as a missing mandatory element, which they are
// not.
func epsCannotCancel(interaction string, v *cancelRequestParts) error {
	switch {
	case v.lineItem == "":
		return core.NewEPSRefusal(interaction, "CancellationRequest/pertinentInformation1",
			"missing: a cancellation of the whole prescription, which the MIM allows and Spine takes; the EPS FHIR API cancels one line item at a time (pertinentLineItemRef, MedicationRequest.identifier)")
	case v.longID == "":
		return core.NewEPSRefusal(interaction, "CancellationRequest/pertinentInformation3",
			"missing: the EPS FHIR API takes a cancellation only with the long-form id of the prescription (pertinentOriginalPrescriptionRef, MedicationRequest.groupIdentifier Extension-DM-PrescriptionId)")
	}
	return nil
}

// cancelResponsible returns the responsible party's resources: the
// author's when the two AgentPersons are the same (SameParty), else
// resources of their own (sharing the author's organisation when it is the
// same).
func cancelResponsible(authorNode, respNode v3.Node, author *core.AgentPersonResources, newID func() string) (*core.AgentPersonResources, bool) {
	if !respNode.Exists() || core.SameParty(authorNode.El, respNode.El, nil) {
		return author, false
	}
	resp := readCancelAgentPersonLayout(respNode, newID)
	if author.Organization != nil &&
		core.SameParty(core.RepresentedOrganization(authorNode).El, core.RepresentedOrganization(respNode).El, nil) {
		resp.Organization, resp.Parent = nil, nil
		resp.Role.Organization = &fhir.Reference{Reference: core.FullURL(author.Organization.ID)}
	}
	return resp, true
}

// buildCancelBundle assembles the prescription-order-update Bundle.
func buildCancelBundle(v *cancelRequestParts, patient *fhir.Patient, author, resp *core.AgentPersonResources, separate bool, newID func() string) *fhir.Bundle {
	b := &fhir.Bundle{ResourceType: "Bundle", ID: core.FreshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: strings.ToLower(v.id)}}
	var extra []fhir.Extension
	if ts, err := core.FHIRDateTimeFromV3(v.effective); err == nil {
		b.Timestamp = ts
	}
	if again, err := core.V3TimestampFromFHIR(b.Timestamp); err != nil || again != v.effective {
		extra = append(extra, cancelStringExt("effectiveTime", v.effective))
	}
	for i := range v.moreReasons {
		extra = append(extra, fhir.Extension{URL: extCancellationReason, ValueCoding: &v.moreReasons[i]})
	}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: core.FreshID(newID)},
		EventCoding: fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: fhir.EventPrescriptionOrderUpdate, Display: "Prescription Order Update"}}
	if len(extra) > 0 {
		mh.Extension = []fhir.Extension{{URL: ExtensionCancelV3, Extension: extra}}
	}
	if org := author.Organization; org != nil && len(org.Identifier) > 0 {
		mh.Sender = &fhir.Reference{Identifier: &org.Identifier[0], Display: org.Name}
		mh.Source = &fhir.MessageSource{Endpoint: "https://directory.spineservices.nhs.uk/STU3/Organization/" + org.Identifier[0].Value}
	}
	b.Add(core.FullURL(mh.ID), mh)

	mr := &fhir.MedicationRequest{
		Base:       fhir.Base{ResourceType: "MedicationRequest", ID: core.FreshID(newID)},
		Identifier: []fhir.Identifier{{System: fhir.SystemLineItemID, Value: strings.ToLower(v.lineItem)}},
		Status:     "cancelled",
		StatusReason: &fhir.CodeableConcept{Coding: []fhir.Coding{
			{System: CodeSystemStatusReason, Code: v.reason, Display: v.reasonText}}},
		Intent:                    "order",
		MedicationCodeableConcept: medicinalProduct(),
		Subject:                   &fhir.Reference{Reference: core.FullURL(patient.ID)},
		Requester:                 &fhir.Reference{Reference: core.FullURL(author.Role.ID)},
		GroupIdentifier: &fhir.Identifier{
			Extension: []fhir.Extension{{URL: fhir.ExtensionPrescriptionID,
				ValueIdentifier: &fhir.Identifier{System: fhir.SystemLongFormID, Value: strings.ToLower(v.longID)}}},
			System: fhir.SystemShortFormID,
			Value:  v.shortID,
		},
	}
	if separate {
		mr.Extension = []fhir.Extension{{URL: core.ExtensionResponsiblePractitioner,
			ValueReference: &fhir.Reference{Reference: core.FullURL(resp.Role.ID)}}}
	}
	b.Add(core.FullURL(mr.ID), mr)
	mh.Focus = []fhir.Reference{{Reference: core.FullURL(mr.ID)}, {Reference: core.FullURL(author.Role.ID)}}
	b.Add(core.FullURL(patient.ID), patient)
	b.Entry = append(b.Entry, author.Entries()...)
	if separate {
		b.Entry = append(b.Entry, resp.Entries()...)
	}
	return b
}

// medicinalProduct is the placeholder medication of a MedicationRequest
// that names no medicine, as the EPS API writes it.
func medicinalProduct() *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.SystemSNOMED, Code: codeMedicinalProduct, Display: nameMedicinalProduct}}}
}

// cancelStringExt is a sub-extension with a valueString.
func cancelStringExt(url, v string) fhir.Extension {
	return fhir.Extension{URL: url, ValueString: &v}
}

// prescriptionIDRef reads pertinentInformation2/pertinentPrescriptionID and
// returns the short-form prescription id.
func (p cancelReader) prescriptionIDRef(n v3.Node, env core.Env) string {
	act := p.Relationship(n, "false", "pertinentPrescriptionID", "OBS", "EVN", "contextConductionInd", "true", "typeCode", "PERT")
	p.Shape(act, nil, "code", "value")
	p.FixedCode(act.Child("code"), codePrescriptionID, v3.OIDPertinentCode)
	val := act.Child("value")
	id := p.II(val, v3.OIDShortFormID, true)
	if id != "" {
		// The shape is checked; the check character is Spine's to judge
		// (see CheckShortFormID).
		if err := core.CheckShortFormID(id); err != nil {
			p.Reader.Fail(val.Path()+"/@extension", "%v", err)
		}
	}
	return id
}

// lineItemRef reads pertinentInformation1/pertinentLineItemRef and returns
// the line item id.
func (p cancelReader) lineItemRef(n v3.Node) string {
	act := p.Relationship(n, "true", "pertinentLineItemRef", "SBADM", "RQO", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	p.Shape(act, nil, "id")
	return p.UUID(act.Child("id"))
}

// cancelReason reads pertinentInformation/pertinentCancellationReason and
// returns the reason code and its text.
func (p cancelReader) cancelReason(n v3.Node) (code, text string) {
	act := p.Relationship(n, "false", "pertinentCancellationReason", "OBS", "EVN", "contextConductionInd", "true", "typeCode", "PERT")
	p.Shape(act, nil, "code", "text", "value")
	p.FixedCode(act.Child("code"), codeCancelReason, v3.OIDPertinentCode)
	if tn := act.Opt("text"); tn.Exists() {
		// Its datatype is ST: an xsi:type naming it, which Spine's schema
		// validator takes, is taken; another is refused by the datatype rule.
		core.Attrs(tn, core.XSIType, "ST")
		if len(tn.El.ChildElements()) > 0 {
			p.Reader.Fail(tn.Path()+"/"+tn.El.ChildElements()[0].Tag, "unexpected element in the cancellation reason text")
		}
		text = tn.Text()
		if text == "" {
			p.Reader.Fail(tn.Path(), "empty cancellation reason text")
		}
	}
	val := act.Child("value")
	p.Shape(val, nil)
	// The value is a CV: its displayName names the code, which FHIR
	// carries with the reason text as its display (the EPS API writes no
	// displayName), so it is checked and not kept.
	p.Attrs(val, "code", "codeSystem", "displayName")
	p.Fixed(val, "codeSystem", oidCancellationReason)
	p.DisplayName(val)
	code = p.NonEmpty(val, "code")
	return code, text
}

// originalPrescriptionRef reads pertinentInformation3/
// pertinentOriginalPrescriptionRef and returns the long-form prescription id.
func (p cancelReader) originalPrescriptionRef(n v3.Node) string {
	act := p.Relationship(n, "true", "pertinentOriginalPrescriptionRef", "SBADM", "RQO", "contextConductionInd", "false", "typeCode", "PERT")
	p.Shape(act, nil, "id")
	return p.UUID(act.Child("id"))
}
