package cancel

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// The gateway's answers to a legacy prescriber's Cancel Request. Spine
// answers with a Cancel Response that repeats the request's patient, author
// and responsible party, so porxgate makes it from the prescriber's own v3
// request (copied element for element) and the code of EPS's answer. When
// EPS says the cancellation is pending (0002, 0003: the item is with a
// dispenser), the gateway tracks it and later sends the Subsequent Cancel
// Response made by SubsequentCancelResponse.

// CancelRequestInfo is what the gateway keeps of a Cancel Request to track
// it and answer it.
type CancelRequestInfo struct {
	// Interaction is the request's interaction id (UK or SM family).
	Interaction string
	// MessageID is the transmission id (the ebXML MessageId normally
	// matches it).
	MessageID string
	// CancellationID is the CancellationRequest id, which responses refer to.
	CancellationID string
	// PrescriptionID is the short-form prescription id.
	PrescriptionID string
	// LongFormID is the long-form prescription id (the original
	// prescription's UUID).
	LongFormID string
	// LineItemID is the line item to cancel (upper-case UUID as in v3).
	LineItemID string
	// SenderASID and ReceiverASID are the request's transmission devices.
	SenderASID, ReceiverASID string
	// ReasonCodes are the codes (…16.27) of the request's cancellation
	// reasons, in order: 0007 is Notification of Death, after which Spine
	// sends no Subsequent Cancel Response.
	ReasonCodes []string
}

// cancelRequestNodes are the parts of a v3 Cancel Request a response copies.
type cancelRequestNodes struct {
	info                         CancelRequestInfo
	family                       v3.Family
	patient, author, responsible *etree.Element
}

// ReadCancelRequestInfo reads the ids of a v3 Cancel Request, checking the
// whole request as CancelToFHIR does.
func ReadCancelRequestInfo(request []byte) (CancelRequestInfo, error) {
	n, err := readCancelRequestNodes(request)
	if err != nil {
		return CancelRequestInfo{}, err
	}
	return n.info, nil
}

// readCancelRequestNodes checks a v3 Cancel Request and returns its ids and
// the elements a response repeats (normalised: no namespace prefixes).
func readCancelRequestNodes(request []byte) (*cancelRequestNodes, error) {
	r, root, fam, err := parseCancelRequest(request)
	if err != nil {
		return nil, err
	}
	w, subject := v3.ReadWrapper(root)
	p := cancelReader{core.ShapeReader{Reader: r}}
	p.Shape(subject, nil, "CancellationRequest")
	cr := subject.Child("CancellationRequest")
	// Check the whole request; the bundle itself is not needed.
	_, refusal := readCancellationRequest(p, cr, core.Env{NewID: core.CountingIDs()})
	if err := r.Err(); err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return cancelRequestNodesOf(root, w, cr, fam)
}

// parseCancelRequest parses a v3 message that must be a Cancel Request
// (either family).
func parseCancelRequest(request []byte) (*v3.Reader, v3.Node, v3.Family, error) {
	r, root, err := v3.Parse(request)
	if err != nil {
		return nil, v3.Node{}, "", fmt.Errorf("cancel request: %w", err)
	}
	canon, fam, err := v3.Canonical(root.El.Tag)
	if err != nil || canon != v3.CancelRequest {
		return nil, v3.Node{}, "", cancelError(root.El.Tag, root.Path(), "root element %s is not a cancel request (%s)", root.El.Tag, v3.CancelRequest)
	}
	return r, root, fam, nil
}

// cancelRequestNodesOf takes the ids and the elements a response repeats
// from a Cancel Request's wrapper w and CancellationRequest cr, as they
// are (a value missing is ""): the patient, author and responsible party
// (the author's when it names none), normalised. It fails when one of the
// three is missing or written in another namespace.
func cancelRequestNodesOf(root v3.Node, w v3.Wrapper, cr v3.Node, fam v3.Family) (*cancelRequestNodes, error) {
	out := &cancelRequestNodes{family: fam}
	out.info = CancelRequestInfo{
		Interaction:    root.El.Tag,
		MessageID:      w.ID,
		CancellationID: cr.Opt("id").OptAttr("root"),
		PrescriptionID: cr.Opt("pertinentInformation2").Opt("pertinentPrescriptionID").Opt("value").OptAttr("extension"),
		LongFormID:     cr.Opt("pertinentInformation3").Opt("pertinentOriginalPrescriptionRef").Opt("id").OptAttr("root"),
		LineItemID:     cr.Opt("pertinentInformation1").Opt("pertinentLineItemRef").Opt("id").OptAttr("root"),
		SenderASID:     w.SenderASID,
		ReceiverASID:   w.ReceiverASID,
	}
	for _, rel := range cr.All("pertinentInformation") {
		out.info.ReasonCodes = append(out.info.ReasonCodes, rel.Opt("pertinentCancellationReason").Opt("value").OptAttr("code"))
	}
	if n := cr.Opt("recordTarget").Opt("Patient"); n.Exists() {
		out.patient = normalizedV3(n.El)
	}
	if n := cr.Opt("author").Opt("AgentPerson"); n.Exists() {
		out.author = normalizedV3(n.El)
	}
	out.responsible = out.author
	if rp := cr.Opt("responsibleParty"); rp.Exists() {
		out.responsible = nil
		if n := rp.Opt("AgentPerson"); n.Exists() {
			out.responsible = normalizedV3(n.El)
		}
	}
	if out.patient == nil || out.author == nil || out.responsible == nil {
		return nil, cancelError(root.El.Tag, cr.Path(), "the patient or a person is missing, or written in a namespace other than %s", v3.Namespace)
	}
	if out.responsible == out.author {
		out.responsible = out.author.Copy()
	}
	return out, nil
}

// CancelReplyEnds are the transmission ends of a response porxgate sends a
// prescriber as Spine would.
type CancelReplyEnds struct {
	// SenderASID is porxgate's own ASID answering as Spine; it is also the
	// ControlActEvent author1 system. Empty: Spine's (DefaultReceiverASID).
	SenderASID string
	// ReceiverASID is the prescriber's ASID. Empty: the request's sender.
	ReceiverASID string
}

// CancelOutcome is what EPS said about a cancel request.
type CancelOutcome struct {
	// Code is the cancellation response code (…17.19) with its displayName.
	Code core.SpineCode
	// FHIRCode is the medicationrequest-status-history code (R-0001…).
	FHIRCode string
	// TypeCode is the acknowledgement typeCode of the Cancel Response: AA
	// or AE.
	TypeCode string
	// Pending is true when the item is with a dispenser and marked for
	// cancellation (0002, 0003): the gateway tracks it and sends a
	// Subsequent Cancel Response once it resolves.
	Pending bool
	// Request holds the cancel request's ids.
	Request CancelRequestInfo
	// DispenserODS is the ODS code of the dispenser holding the item, when
	// EPS names one.
	DispenserODS string
	// Unmapped lists FHIR codes no table row knew (see V3Error.Unmapped).
	Unmapped []string
}

// CancelResponseFromEPS makes the Cancel Response (PORX_IN050101UK31, in
// the request's family) for a legacy Cancel Request that the gateway sent
// to EPS, from EPS's answer: a prescription-order-response Bundle (the code
// from its MedicationRequest's status history, the dispenser from
// dispenseRequest.performer) or an OperationOutcome (the code from
// V3ErrorFromOutcome for the cancel family), with the HTTP status it came
// with (2xx: AA; otherwise AE; 0 means unknown: CancelAckTypeCode). The
// patient, author and responsible party are the request's own; the ids are
// fresh (env.NewID, upper case; messageRef = the response's own id, as
// Spine writes), creationTime and (without a Bundle timestamp)
// effectiveTime are env.Now. An outcome that only carries acknowledgement
// codes (…17.32, e.g. a duplicate) is an error here: AckFromOutcome
// answers it.
func CancelResponseFromEPS(request, answer []byte, httpStatus int, ends CancelReplyEnds, env core.Env) ([]byte, CancelOutcome, error) {
	nodes, err := readCancelRequestNodes(request)
	if err != nil {
		return nil, CancelOutcome{}, err
	}
	out := CancelOutcome{Request: nodes.info}
	interaction := v3.InFamily(v3.CancelResponse, nodes.family)
	d := newReplyDoc(interaction, nodes, ends, env)
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if len(answer) > 0 {
		if err := json.Unmarshal(answer, &head); err != nil {
			return nil, out, fmt.Errorf("EPS answer to cancel request %s: %w", nodes.info.CancellationID, err)
		}
	}
	switch head.ResourceType {
	case "Bundle":
		if err := d.fromEPSBundle(answer, nodes, &out); err != nil {
			return nil, out, err
		}
	case "OperationOutcome", "":
		var oo *fhir.OperationOutcome
		if head.ResourceType != "" {
			oo = &fhir.OperationOutcome{}
			if err := fhir.Unmarshal(answer, oo); err != nil {
				return nil, out, fmt.Errorf("EPS answer to cancel request %s: %w", nodes.info.CancellationID, err)
			}
		}
		ve, err := core.V3ErrorFromOutcome(oo, httpStatus, core.ErrorFamilyCancel)
		if err != nil {
			return nil, out, fmt.Errorf("EPS answer to cancel request %s: %w", nodes.info.CancellationID, err)
		}
		out.Unmapped = ve.Unmapped
		reasons := ve.Reasons()
		if len(reasons) == 0 || reasons[0].System != v3.OIDCancellationCode {
			return nil, out, fmt.Errorf("EPS answer to cancel request %s: no cancellation response code (only acknowledgement codes): answer with AckFromOutcome", nodes.info.CancellationID)
		}
		d.code = reasons[0]
		d.code.Severity = ""
	default:
		return nil, out, fmt.Errorf("EPS answer to cancel request %s: resourceType %s, want Bundle or OperationOutcome", nodes.info.CancellationID, head.ResourceType)
	}
	switch {
	case httpStatus >= 200 && httpStatus < 300:
		d.typeCode = core.AckAccepted
	case httpStatus == 0:
		d.typeCode = CancelAckTypeCode(d.code.Code)
	default:
		d.typeCode = core.AckError
	}
	d.code.Display = core.V3LineEnds(d.code.Display)
	out.Code, out.TypeCode, out.Pending = d.code, d.typeCode, CancelPending(d.code.Code)
	if canc, err := core.CancellationFromV3(d.code.Code, d.code.Display); err == nil {
		out.FHIRCode = canc.FHIR.Code
	}
	msg, err := d.write()
	if err != nil {
		return nil, out, err
	}
	return msg, out, nil
}

// newReplyDoc starts a cancel response to a request: fresh ids, env's
// clock, the request's people and ids.
func newReplyDoc(interaction string, nodes *cancelRequestNodes, ends CancelReplyEnds, env core.Env) *cancelResponseDoc {
	id := strings.ToUpper(env.NewID())
	now := env.Now.UTC().Format(core.V3TimeLayout)
	return &cancelResponseDoc{
		interaction:  interaction,
		id:           id,
		creationTime: now,
		senderASID:   core.FirstNonEmpty(ends.SenderASID, core.DefaultReceiverASID),
		receiverASID: core.FirstNonEmpty(ends.ReceiverASID, nodes.info.SenderASID),
		responseID:   id,
		effective:    now,
		patient:      nodes.patient,
		author:       nodes.author,
		responsible:  nodes.responsible,
		shortID:      nodes.info.PrescriptionID,
		lineItem:     strings.ToUpper(nodes.info.LineItemID),
		requestRef:   strings.ToUpper(nodes.info.CancellationID),
	}
}

// fromEPSBundle takes the code, time and dispenser of an EPS
// prescription-order-response Bundle.
func (d *cancelResponseDoc) fromEPSBundle(answer []byte, nodes *cancelRequestNodes, out *CancelOutcome) error {
	b, err := fhir.ParseBundle(answer)
	if err != nil {
		return fmt.Errorf("EPS answer to cancel request %s: %w", nodes.info.CancellationID, err)
	}
	c := core.NewBundleContext(b, d.interaction)
	mr, mrPath := onlyMedicationRequest(c)
	if mr != nil {
		d.code = cancelCodeOf(c, mr, mrPath)
		if li := c.Identifier(mr.Identifier, fhir.SystemLineItemID, mrPath+".identifier"); li != "" && !strings.EqualFold(li, nodes.info.LineItemID) {
			c.Fail(mrPath+".identifier", "line item %s is not the one the request cancels (%s)", li, nodes.info.LineItemID)
		}
		if b.Timestamp != "" {
			if t, err := core.V3TimestampFromFHIR(b.Timestamp); err == nil {
				d.effective = t
			}
		}
		if dr := mr.DispenseRequest; dr != nil && dr.Performer != nil {
			d.performer, out.DispenserODS = epsPerformer(c, mr, dr.Performer, mrPath+".dispenseRequest.performer")
		}
	}
	return c.Err()
}

// performerPlace is the dispenser's place among the parties of an EPS
// cancellation response sharing its PractitionerRole, as answerPlaces
// gives it: the roles are told apart by reference, the cancel requester's
// (ResponsiblePractitioner) and the original author's (requester) before
// the dispenser's, each counted when it is the dispenser's.
func performerPlace(mr *fhir.MedicationRequest, perf *fhir.Reference) *answerPlace {
	ref := func(r *fhir.Reference) string {
		if r == nil {
			return ""
		}
		return r.Reference
	}
	author, requester := ref(mr.Requester), ""
	if e := fhir.FindExtension(mr.Extension, core.ExtensionResponsiblePractitioner); e != nil {
		requester = ref(e.ValueReference)
	}
	if requester == "" {
		requester = author
	}
	own := ref(perf)
	if own == "" {
		return &answerPlace{of: 1}
	}
	return placesOf("", requester, author, own)[2]
}

// epsPerformer writes the AgentPerson of the dispenser EPS names: the
// DispensingPerformer role when the answer carries it, else an AgentPerson
// with only the organisation (ODS code and name).
func epsPerformer(c *core.BundleContext, mr *fhir.MedicationRequest, ref *fhir.Reference, path string) (*etree.Element, string) {
	ods := ""
	if ref.Identifier != nil {
		ods = ref.Identifier.Value
	}
	holder := etree.NewElement("holder")
	if e := c.Extension(ref.Extension, ExtensionDispensingPerformer, path+".extension"); e != nil {
		if role, rolePath := resolveRole(c, e.ValueReference, path+".extension("+ExtensionDispensingPerformer+").valueReference"); role != nil {
			return addCancelAgentPerson(c, holder, role, rolePath, performerPlace(mr, e.ValueReference)), ods
		}
		return nil, ods
	}
	if ods == "" || ref.Display == "" {
		// v3 needs the organisation's name; without it the performer,
		// which is optional, is left out.
		return nil, ods
	}
	return orgOnlyAgentPerson(holder, ods, ref.Display), ods
}

// orgOnlyAgentPerson writes an AgentPerson that names only an organisation.
func orgOnlyAgentPerson(parent *etree.Element, ods, name string) *etree.Element {
	ap := v3.Add(parent, "AgentPerson", "classCode", "AGNT")
	org := v3.Add(ap, "representedOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")
	v3.AddII(org, "id", v3.OIDODS, ods)
	v3.AddCV(org, "code", core.OrganizationTypeNotSpecified, v3.OIDOrganizationType, "")
	v3.AddText(org, "name", name)
	return ap
}

// CancelPerformer names the dispenser in a Subsequent Cancel Response.
type CancelPerformer struct {
	// ODS is the dispenser's ODS code.
	ODS string
	// Name is the organisation's name (mandatory in v3).
	Name string
	// Time is when the dispenser acted; zero writes time nullFlavor UNK.
	Time time.Time
}

// SubsequentCancelResponse makes the Subsequent Cancel Response
// (PORX_IN050102UK32, in the request's family) that tells a prescriber how
// a pending cancellation resolved: code is the …17.19 code (0001 cancelled,
// 0004 dispensed, 0010 not dispensed, 0005 expired …), with its table
// displayName. The acknowledgement typeCode is CancelAckTypeCode(code),
// times env.Now; performer, when given, names the dispenser. env.NewID is
// called once, for the message id (also the CancellationResponse id and
// messageRef): a caller that returns the id it chose when tracking started
// makes a resend after a crash the same message, which the prescriber's
// duplicate elimination drops.
func SubsequentCancelResponse(request []byte, code string, performer *CancelPerformer, ends CancelReplyEnds, env core.Env) ([]byte, error) {
	nodes, err := readCancelRequestNodes(request)
	if err != nil {
		return nil, err
	}
	canc, err := core.CancellationFromV3(code, "")
	if err != nil {
		return nil, fmt.Errorf("subsequent cancel response to %s: %w", nodes.info.CancellationID, err)
	}
	d := newReplyDoc(v3.InFamily(v3.SubsequentCancelResponse, nodes.family), nodes, ends, env)
	d.code = canc.V3
	d.typeCode = CancelAckTypeCode(code)
	if performer != nil {
		if performer.ODS == "" || performer.Name == "" {
			return nil, fmt.Errorf("subsequent cancel response to %s: the performer needs an ODS code and a name", nodes.info.CancellationID)
		}
		d.performer = orgOnlyAgentPerson(etree.NewElement("holder"), performer.ODS, performer.Name)
		if !performer.Time.IsZero() {
			d.performerTime = performer.Time.UTC().Format(core.V3TimeLayout)
		}
	}
	return d.write()
}
