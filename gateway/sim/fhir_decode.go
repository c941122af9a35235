package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

// Reading the requests: each is decoded with the fhir package's models
// and what the state needs is taken from them.

// Names the simulator reads or writes that are not FHIR models: operation
// parameters, Task codes and its own refusals.
const (
	eventTaskRejected       = "rejected"
	taskCodeAbort           = "abort"
	paramOwner              = "owner"
	paramAgent              = "agent"
	paramGroupIdentifier    = "group-identifier"
	paramPassed             = "passedPrescriptions"
	paramFailed             = "failedPrescriptions"
	refPrefixUUID           = "urn:uuid:"
	maxDecodedEntries       = 1000
	errNotBundleOfTypeMsg   = "resourceType must be Bundle of type message"
	errNoMessageHeaderFirst = "the first entry must be a MessageHeader"
)

// firstCode returns the code of a concept's first coding in any system.
func firstCode(cc *fhir.CodeableConcept) string {
	if cc == nil || len(cc.Coding) == 0 {
		return ""
	}
	return cc.Coding[0].Code
}

// codeIn returns the code of a concept's first coding in system.
func codeIn(cc *fhir.CodeableConcept, system string) string {
	if c := fhir.FindCoding(cc, system); c != nil {
		return c.Code
	}
	return ""
}

// identifierIn returns the value of the resource's identifier in system.
func identifierIn(r fhir.Resource, system string) string {
	return fhir.FindIdentifier(fhir.Identifiers(r), system)
}

// refValue returns a reference's identifier value ("" when it has none).
func refValue(r *fhir.Reference) string {
	if r == nil || r.Identifier == nil {
		return ""
	}
	return r.Identifier.Value
}

// message is a decoded FHIR message Bundle and what its MessageHeader says.
type message struct {
	bundle     *fhir.Bundle
	body       []byte // the Bundle as received
	identifier string // Bundle.identifier.value: the message id
	event      string
	sender     string // ODS code of MessageHeader.sender
	replaces   string // Extension-replacementOf on the MessageHeader
	// raw is the Bundle's entries' resources as received, by resource
	// type, split once for the EPS checks (rawEntriesOf); nil until asked.
	raw map[string][]json.RawMessage
	// scan is the Bundle's entries' resources as received, scanned once
	// for the consistency checks' quick way (scanned); nil until asked.
	scan *rawEntries
}

// decodeMessage reads a message Bundle, its strings borrowed from body
// (borrow.go): body must not change while m, or a string taken from it,
// is held; what the State keeps is copied out first (owned).
func decodeMessage(body []byte) (*message, error) {
	res, err := fhir.DecodeResourceBorrowed(body)
	if err != nil {
		return nil, bundleError(body, err)
	}
	b, ok := res.(*fhir.Bundle)
	if !ok || b.Type != "message" {
		return nil, errors.New(errNotBundleOfTypeMsg)
	}
	if len(b.Entry) == 0 {
		return nil, errors.New("ResourceType Bundle must contain 'entry' field")
	}
	if len(b.Entry) > maxDecodedEntries {
		return nil, fmt.Errorf("Bundle has %d entries, more than %d", len(b.Entry), maxDecodedEntries)
	}
	for i, e := range b.Entry {
		if e.Resource == nil {
			return nil, fmt.Errorf("Bundle.entry[%d].resource missing", i)
		}
	}
	mh, ok := b.Entry[0].Resource.(*fhir.MessageHeader)
	if !ok {
		return nil, errors.New(errNoMessageHeaderFirst)
	}
	m := &message{bundle: b, body: body, event: mh.EventCoding.Code, sender: refValue(mh.Sender)}
	if b.Identifier != nil {
		m.identifier = b.Identifier.Value
	}
	if x := fhir.FindExtension(mh.Extension, fhir.ExtensionReplacementOf); x != nil && x.ValueIdentifier != nil {
		m.replaces = x.ValueIdentifier.Value
	}
	return m, nil
}

// bundleError says which entry of a Bundle that did not decode is at
// fault (Bundle.entry[i].resource: ...), else what the whole did.
func bundleError(body []byte, err error) error {
	var top map[string]json.RawMessage
	var entries []map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil && json.Unmarshal(top["entry"], &entries) == nil {
		for i, e := range entries {
			if raw, ok := e["resource"]; ok {
				if _, eerr := fhir.DecodeResource(raw); eerr != nil {
					return fmt.Errorf("Bundle.entry[%d].resource: %w", i, eerr)
				}
			}
		}
	}
	return named("Bundle", err)
}

// named prefixes a decoding error with the resource type expected, unless
// it already names it.
func named(resourceType string, err error) error {
	if strings.HasPrefix(err.Error(), resourceType+":") {
		return err
	}
	return fmt.Errorf("%s: %w", resourceType, err)
}

// decodeRequest decodes a request body that must be one resource of type
// T (resourceType resourceType), its strings borrowed from body as
// decodeMessage's are (borrow.go).
func decodeRequest[T fhir.Resource](body []byte, resourceType string) (T, error) {
	var zero T
	res, err := fhir.DecodeResourceBorrowed(body)
	if err != nil {
		return zero, named(resourceType, err)
	}
	r, ok := res.(T)
	if !ok {
		return zero, errors.New("resourceType must be " + resourceType)
	}
	return r, nil
}

// resolve finds the resource a Bundle-internal reference points at: by
// fullUrl, Type/id or urn:uuid:id.
func (m *message) resolve(ref string) fhir.Resource {
	if r := m.bundle.Resolve(ref); r != nil || ref == "" {
		return r
	}
	for _, e := range m.bundle.Entry {
		if h, ok := e.Resource.(interface{ GetID() string }); ok && h.GetID() != "" && ref == refPrefixUUID+h.GetID() {
			return e.Resource
		}
	}
	return nil
}

// nhsNumber returns the first Patient's NHS number.
func (m *message) nhsNumber() string {
	for _, p := range fhir.EntriesOf[*fhir.Patient](m.bundle) {
		if v := fhir.FindIdentifier(p.Identifier, fhir.SystemNHSNumber); v != "" {
			return v
		}
	}
	return ""
}

// medicationRequests returns the message's MedicationRequests, at least one.
func (m *message) medicationRequests() ([]*fhir.MedicationRequest, error) {
	out := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	if len(out) == 0 {
		return nil, errors.New("Bundle contains no MedicationRequest")
	}
	return out, nil
}

// shortFormOf returns the one short-form id shared by every MedicationRequest.
func shortFormOf(mrs []*fhir.MedicationRequest) (string, error) {
	id := ""
	for i, mr := range mrs {
		if mr.GroupIdentifier == nil || mr.GroupIdentifier.Value == "" {
			return "", fmt.Errorf("MedicationRequest[%d].groupIdentifier missing", i)
		}
		if id != "" && mr.GroupIdentifier.Value != id {
			return "", errors.New("MedicationRequest.groupIdentifier differs between MedicationRequests")
		}
		id = mr.GroupIdentifier.Value
	}
	return strings.ToUpper(id), nil
}

// repeatsAllowed is a repeat dispensing MedicationRequest's issues after
// the first: basedOn's Extension-EPS-RepeatInformation, else
// dispenseRequest.numberOfRepeatsAllowed (0 when neither says).
func repeatsAllowed(mr *fhir.MedicationRequest) int {
	n := json.Number("")
	if mr.DispenseRequest != nil && mr.DispenseRequest.NumberOfRepeatsAllowed != nil {
		n = *mr.DispenseRequest.NumberOfRepeatsAllowed
	}
	for _, b := range mr.BasedOn {
		if x := fhir.FindExtension(b.Extension, fhir.ExtensionRepeatInformation); x != nil {
			if sub := fhir.FindExtension(x.Extension, "numberOfRepeatsAllowed"); sub != nil && sub.ValueInteger != nil {
				n = *sub.ValueInteger
			}
		}
	}
	v, err := n.Int64()
	if err != nil || v < 0 || v > 99 {
		return 0
	}
	return int(v)
}

// decodePrescriptionOrder extracts what the state keeps of a
// prescription-order.
func decodePrescriptionOrder(m *message, raw []byte) (NewPrescription, error) {
	mrs, err := m.medicationRequests()
	if err != nil {
		return NewPrescription{}, err
	}
	sf, err := shortFormOf(mrs)
	if err != nil {
		return NewPrescription{}, err
	}
	np := NewPrescription{MessageID: m.identifier, ShortFormID: sf, NHSNumber: m.nhsNumber(), Prescriber: m.sender, Order: raw, OrderID: m.bundle.ID}
	for i, mr := range mrs {
		item := fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID)
		if item == "" {
			return NewPrescription{}, fmt.Errorf("MedicationRequest[%d].identifier %s missing", i, fhir.SystemLineItemID)
		}
		np.ItemIDs = append(np.ItemIDs, item)
		if x := fhir.FindExtension(mr.GroupIdentifier.Extension, fhir.ExtensionPrescriptionID); x != nil && x.ValueIdentifier != nil && np.LongFormID == "" {
			np.LongFormID = x.ValueIdentifier.Value
		}
		if mr.DispenseRequest != nil && np.Nominated == "" {
			np.Nominated = refValue(mr.DispenseRequest.Performer)
		}
		if np.CourseOfTherapy == "" {
			np.CourseOfTherapy = codeIn(mr.CourseOfTherapyType, fhir.CodeSystemCourseOfTherapyNHS)
		}
		if np.CourseOfTherapy == "" {
			np.CourseOfTherapy = codeIn(mr.CourseOfTherapyType, fhir.CodeSystemCourseOfTherapy)
		}
		if np.CourseOfTherapy == courseRepeatDispensing && np.RepeatsAllowed == 0 {
			np.RepeatsAllowed = repeatsAllowed(mr)
		}
	}
	np.PrescriberName = m.organizationName(np.Prescriber)
	if np.NHSNumber == "" {
		return NewPrescription{}, errors.New("Patient NHS number missing")
	}
	return np, nil
}

// organizationName is the name of the message's Organization with ODS
// code ods, else of its first Organization.
func (m *message) organizationName(ods string) string {
	first := ""
	for _, o := range fhir.EntriesOf[*fhir.Organization](m.bundle) {
		if ods != "" && fhir.FindIdentifier(o.Identifier, fhir.SystemODS) == ods {
			return o.Name
		}
		if first == "" {
			first = o.Name
		}
	}
	return first
}

// decodeCancel extracts a cancellation from a prescription-order-update.
func decodeCancel(m *message) (CancelRequest, error) {
	mrs, err := m.medicationRequests()
	if err != nil {
		return CancelRequest{}, err
	}
	sf, err := shortFormOf(mrs)
	if err != nil {
		return CancelRequest{}, err
	}
	req := CancelRequest{MessageID: m.identifier, ShortFormID: sf, NHSNumber: m.nhsNumber()}
	for i, mr := range mrs {
		if mr.Status != "cancelled" || firstCode(mr.StatusReason) == "" {
			return CancelRequest{}, fmt.Errorf("MedicationRequest[%d] must have status cancelled and a statusReason", i)
		}
		item := fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID)
		if item == "" {
			return CancelRequest{}, fmt.Errorf("MedicationRequest[%d].identifier %s missing", i, fhir.SystemLineItemID)
		}
		req.ItemIDs = append(req.ItemIDs, item)
		if req.Requester == "" && mr.Requester != nil {
			req.Requester = m.requesterOrganization(mr.Requester.Reference)
		}
	}
	if req.Requester == "" {
		req.Requester = m.sender
	}
	return req, nil
}

// requesterOrganization is the ODS code of the organisation the requester
// (a PractitionerRole, by reference) acts for: its organization, by
// identifier or reference; "" when the role does not say.
func (m *message) requesterOrganization(ref string) string {
	role, ok := m.resolve(ref).(*fhir.PractitionerRole)
	if !ok || role.Organization == nil {
		return ""
	}
	if v := refValue(role.Organization); v != "" {
		return v
	}
	if org := m.resolve(role.Organization.Reference); org != nil {
		return identifierIn(org, fhir.SystemODS)
	}
	return ""
}

// decodeDispense extracts a dispense notification: one MedicationDispense
// per line item, its contained MedicationRequest naming item and
// prescription.
func decodeDispense(m *message) (DispenseRequest, error) {
	mds := fhir.EntriesOf[*fhir.MedicationDispense](m.bundle)
	if len(mds) == 0 {
		return DispenseRequest{}, errors.New("Bundle contains no MedicationDispense")
	}
	req := DispenseRequest{MessageID: m.identifier, Dispenser: m.sender, ReplacementOf: m.replaces, Items: map[string]ItemStatus{}}
	for i, md := range mds {
		st := codeIn(md.Type, fhir.CodeSystemMedicationDispenseType)
		if st == "" {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d].type %s missing", i, fhir.CodeSystemMedicationDispenseType)
		}
		mr, err := authorizingRequest(md)
		if err != nil {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d]: %w", i, err)
		}
		item := strings.ToLower(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID))
		if item == "" || mr.GroupIdentifier == nil || mr.GroupIdentifier.Value == "" {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d]: MedicationRequest without line item id or groupIdentifier", i)
		}
		sf := strings.ToUpper(mr.GroupIdentifier.Value)
		if req.ShortFormID != "" && req.ShortFormID != sf {
			return DispenseRequest{}, errors.New("MedicationDispenses refer to more than one prescription")
		}
		req.ShortFormID = sf
		req.Items[item] = ItemStatus(st)
	}
	if req.Dispenser == "" {
		return DispenseRequest{}, errors.New("MessageHeader.sender ODS code missing")
	}
	return req, nil
}

// authorizingRequest returns the contained MedicationRequest that
// authorizingPrescription points at (or the only contained one).
func authorizingRequest(md *fhir.MedicationDispense) (*fhir.MedicationRequest, error) {
	want := ""
	if len(md.AuthorizingPrescription) > 0 {
		want = strings.TrimPrefix(md.AuthorizingPrescription[0].Reference, "#")
	}
	for _, r := range md.Contained {
		if mr, ok := r.(*fhir.MedicationRequest); ok && (want == "" || mr.ID == want) {
			return mr, nil
		}
	}
	return nil, errors.New("no contained MedicationRequest for authorizingPrescription")
}

// decodeRelease reads a Task/$release Parameters, checked first as the
// EPS API checks it (parameters-validator.ts, verifyParameters): an agent
// PractitionerRole is required (else, as EPS throws it, "Parameter with
// name agent not found"), and a release without an owner, or whose agent
// has no telecom, is a *validationRefusal.
func decodeRelease(body []byte) (ReleaseRequest, error) {
	p, err := decodeRequest[*fhir.Parameters](body, "Parameters")
	if err != nil {
		return ReleaseRequest{}, err
	}
	var (
		req      ReleaseRequest
		hasOwner bool
		agent    *fhir.PractitionerRole
		hasAgent bool
	)
	for _, prm := range p.Parameter {
		switch prm.Name {
		case paramOwner:
			hasOwner = hasOwner || prm.Resource != nil
			req.Owner = identifierIn(prm.Resource, fhir.SystemODS)
			if org, ok := prm.Resource.(*fhir.Organization); ok {
				req.Agent.OrgName = org.Name
			}
		case paramAgent:
			hasAgent = hasAgent || prm.Resource != nil
			if role, ok := prm.Resource.(*fhir.PractitionerRole); ok {
				agent = role
				req.Agent.RoleProfile = fhir.FindIdentifier(role.Identifier, fhir.SystemSDSRoleProfile)
				if pr := role.Practitioner; pr != nil {
					req.Agent.PersonCode, req.Agent.PersonName = refValue(pr), pr.Display
				}
				if len(role.Telecom) > 0 {
					req.Agent.Telecom = role.Telecom[0].Value
				}
			}
		case paramGroupIdentifier:
			if prm.ValueIdentifier != nil {
				req.ShortFormID = strings.ToUpper(prm.ValueIdentifier.Value)
			}
		}
	}
	switch {
	case !hasAgent:
		return ReleaseRequest{}, errors.New("Parameter with name agent not found")
	case agent == nil:
		return ReleaseRequest{}, errors.New("Parameter with name agent has wrong resourceType")
	}
	if is := agentIdentifierIssue(agent, `parameters.parameter("PractitionerRole")`); is != nil {
		return ReleaseRequest{}, &validationRefusal{issues: []fhir.Issue{*is}}
	}
	var issues []fhir.Issue
	if !hasOwner {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: "Required parameter owner is missing."})
	}
	if agent.Practitioner != nil && agent.Practitioner.Reference != "" {
		issues = append(issues, referenceNotWantedIssue(`Parameters.parameter("agent").resource.practitioner`))
	}
	if len(agent.Telecom) == 0 {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid",
			Diagnostics: `Required field Parameters.parameter("agent").resource.telecom is missing.`})
	}
	if len(issues) > 0 {
		return ReleaseRequest{}, &validationRefusal{issues: issues}
	}
	if req.Owner == "" {
		return ReleaseRequest{}, errors.New("Parameters.parameter(owner) with an ODS code is required")
	}
	return req, nil
}

// taskAction is a decoded Task: a return or a withdrawal.
type taskAction struct {
	withdraw bool
	ret      ReturnRequest
	wd       WithdrawRequest
}

// decodeTask reads a dispense proposal return (status rejected) or a
// dispenser withdraw (status in-progress, code abort); one the EPS API's
// own checks or its translation refuse is a *validationRefusal
// (taskIssues, taskTranslationIssue).
func decodeTask(body []byte) (taskAction, error) {
	t, err := decodeRequest[*fhir.Task](body, "Task")
	if err != nil {
		return taskAction{}, err
	}
	// EPS fails (HTTP 500) reading a requester, or a withdrawal's
	// requester's organisation, that is not there (isReference of
	// undefined): the gateway refuses such Tasks before sending them
	// (mapping/task, EPSCannotTake).
	if t.Requester == nil {
		return taskAction{}, serverError()
	}
	if issues := taskIssues(t); len(issues) > 0 {
		return taskAction{}, &validationRefusal{issues: issues}
	}
	if t.Status == "in-progress" {
		if role := containedRole(t.Contained, t.Requester.Reference); role != nil && role.Organization == nil {
			return taskAction{}, serverError()
		}
	}
	if is := taskTranslationIssue(t); is != nil {
		return taskAction{}, &validationRefusal{issues: []fhir.Issue{*is}}
	}
	if t.GroupIdentifier == nil || t.GroupIdentifier.Value == "" {
		return taskAction{}, errors.New("Task.groupIdentifier is required")
	}
	sf := strings.ToUpper(t.GroupIdentifier.Value)
	disp := taskDispenser(t)
	if disp == "" {
		return taskAction{}, errors.New("Task.owner or the requester's organization ODS code is required")
	}
	reason := firstCode(t.StatusReason)
	msgID := "" // Task.identifier: the HL7 message id the EPS API sends
	if len(t.Identifier) > 0 {
		msgID = t.Identifier[0].Value
	}
	switch {
	case firstCode(t.Code) == taskCodeAbort:
		// EPS withdraws the dispense notification the Task names (the
		// coordinator requires Task.focus.identifier): a repeat then names
		// a notification that is no longer the last, and is refused.
		focus := refValue(t.Focus)
		if focus == "" {
			return taskAction{}, errors.New("Task.focus.identifier (the dispense notification withdrawn) is required")
		}
		wd := WithdrawRequest{MessageID: msgID, ShortFormID: sf, Dispenser: disp, Reason: reason, DispenseID: focus}
		return taskAction{withdraw: true, wd: wd}, nil
	case t.Status == eventTaskRejected:
		return taskAction{ret: ReturnRequest{MessageID: msgID, ShortFormID: sf, Dispenser: disp, Reason: reason}}, nil
	}
	return taskAction{}, errors.New("Task must be a return (status rejected) or a withdraw (code abort)")
}

// taskDispenser finds the dispensing organisation: Task.owner, else the
// contained Organization (of the requester).
func taskDispenser(t *fhir.Task) string {
	if v := refValue(t.Owner); v != "" {
		return v
	}
	return containedODS(t.Contained)
}

// containedODS returns the ODS code of the first contained Organization
// that has one.
func containedODS(contained fhir.ResourceList) string {
	for _, r := range contained {
		if o, ok := r.(*fhir.Organization); ok {
			if v := fhir.FindIdentifier(o.Identifier, fhir.SystemODS); v != "" {
				return v
			}
		}
	}
	return ""
}

// decodeClaim reads a Claim (amendment when it has Extension-replacementOf);
// one the EPS API's own checks refuse is a *validationRefusal (claimIssues).
func decodeClaim(body []byte) (ClaimRequest, error) {
	c, err := decodeRequest[*fhir.Claim](body, "Claim")
	if err != nil {
		return ClaimRequest{}, err
	}
	if issues := claimIssues(c); len(issues) > 0 {
		return ClaimRequest{}, &validationRefusal{issues: issues}
	}
	// The EPS API's translation reads the message id first (getMessageId).
	if is := onlyIdentifierIssue(c.Identifier, fhir.SystemRFC4122, "Claim.identifier", true); is != nil {
		return ClaimRequest{}, &validationRefusal{issues: []fhir.Issue{*is}}
	}
	req := ClaimRequest{Claimant: containedODS(c.Contained)}
	if len(c.Identifier) > 0 {
		req.ClaimID = c.Identifier[0].Value
	}
	if x := fhir.FindExtension(c.Extension, fhir.ExtensionReplacementOf); x != nil && x.ValueIdentifier != nil {
		req.ReplacementOf = x.ValueIdentifier.Value
	}
	if c.Prescription != nil {
		if g := fhir.FindExtension(c.Prescription.Extension, fhir.ExtensionGroupIdentifier); g != nil {
			if sf := fhir.FindExtension(g.Extension, "shortForm"); sf != nil && sf.ValueIdentifier != nil {
				req.ShortFormID = strings.ToUpper(sf.ValueIdentifier.Value)
			}
		}
	}
	req.Issue = claimIssue(c)
	// Claim.created dates the claim (its claim period, State.Claim); one
	// of a year's or a month's precision, or unreadable, leaves it dated
	// by when it came.
	if created, err := parseFHIRTime(c.Created); err == nil {
		req.Created = created
	}
	if req.ShortFormID == "" {
		return ClaimRequest{}, errors.New("Claim.prescription group identifier shortForm is required")
	}
	if req.ClaimID == "" {
		return ClaimRequest{}, errors.New("Claim.identifier is required")
	}
	return req, nil
}

// parseFHIRTime reads a FHIR dateTime with a time and zone (RFC 3339) or
// a date alone (the start of that day, UTC).
func parseFHIRTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New("want a FHIR dateTime (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a zone)")
	}
	return t, nil
}
