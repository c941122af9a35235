package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The small slice of EPS FHIR R4 that the simulator reads. Only the fields
// the state needs are decoded; everything else is kept as received.

// FHIR systems and extension URLs read or written by the simulator.
const (
	sysODS             = "https://fhir.nhs.uk/Id/ods-organization-code"
	sysNHSNumber       = "https://fhir.nhs.uk/Id/nhs-number"
	sysShortFormID     = "https://fhir.nhs.uk/Id/prescription-order-number"
	sysLongFormID      = "https://fhir.nhs.uk/Id/prescription"
	sysLineItem        = "https://fhir.nhs.uk/Id/prescription-order-item-number"
	sysRoleProfile     = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	sysUserID          = "https://fhir.nhs.uk/Id/sds-user-id"
	sysRFC4122         = "https://tools.ietf.org/html/rfc4122"
	sysMessageEvent    = "https://fhir.nhs.uk/CodeSystem/message-event"
	sysTaskStatus      = "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status"
	sysDispenseType    = "https://fhir.nhs.uk/CodeSystem/medicationdispense-type"
	sysStatusHistory   = "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history"
	sysSpineError      = "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode"
	sysEPSIssue        = "https://fhir.nhs.uk/CodeSystem/EPS-IssueCode"
	extPrescriptionID  = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId"
	extReplacementOf   = "https://fhir.nhs.uk/StructureDefinition/Extension-replacementOf"
	extGroupIdentifier = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier"
	extStatusHistory   = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory"
	extMessageID       = "https://fhir.nhs.uk/StructureDefinition/Extension-MessageHeader-messageId"
	extSupportingInfo  = "https://fhir.nhs.uk/StructureDefinition/Extension-Spine-supportingInfo"
	extDispensingInfo  = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation"
	extEPSPrescription = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription"
	extRepeatInfo      = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"
	extReleaseInfo     = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingReleaseInformation"
	sysCourseOfTherapy = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
	// sysCourseOfTherapyNHS holds continuous-repeat-dispensing, which HL7's
	// system lacks (EPS's models write it under this one).
	sysCourseOfTherapyNHS = "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy"
)

// Message event codes.
const (
	eventPrescriptionOrder  = "prescription-order"
	eventOrderUpdate        = "prescription-order-update"
	eventDispense           = "dispense-notification"
	eventOrderResponse      = "prescription-order-response"
	eventTaskRejected       = "rejected"
	taskCodeAbort           = "abort"
	paramOwner              = "owner"
	paramGroupIdentifier    = "group-identifier"
	paramPassed             = "passedPrescriptions"
	paramFailed             = "failedPrescriptions"
	refPrefixUUID           = "urn:uuid:"
	maxDecodedEntries       = 1000
	errNotBundleOfTypeMsg   = "resourceType must be Bundle of type message"
	errNoMessageHeaderFirst = "the first entry must be a MessageHeader"
)

type identifier struct {
	System    string      `json:"system"`
	Value     string      `json:"value"`
	Extension []extension `json:"extension"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
}

func (c *codeableConcept) code(system string) string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if system == "" || cd.System == system {
			return cd.Code
		}
	}
	return ""
}

type reference struct {
	Reference  string      `json:"reference"`
	Identifier *identifier `json:"identifier"`
}

type extension struct {
	URL             string       `json:"url"`
	ValueIdentifier *identifier  `json:"valueIdentifier"`
	ValueCoding     *coding      `json:"valueCoding"`
	ValueReference  *reference   `json:"valueReference"`
	ValueInteger    *json.Number `json:"valueInteger"`
	Extension       []extension  `json:"extension"`
}

func findExt(exts []extension, url string) *extension {
	for i := range exts {
		if exts[i].URL == url {
			return &exts[i]
		}
	}
	return nil
}

func identifierValue(ids []identifier, system string) string {
	for _, id := range ids {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

type resourceHead struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
}

type bundleJSON struct {
	ResourceType string     `json:"resourceType"`
	ID           string     `json:"id"`
	Identifier   identifier `json:"identifier"`
	Type         string     `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type messageHeaderJSON struct {
	Extension   []extension `json:"extension"`
	EventCoding coding      `json:"eventCoding"`
	Sender      reference   `json:"sender"`
	Focus       []reference `json:"focus"`
}

type medicationRequestJSON struct {
	ID              string           `json:"id"`
	Identifier      []identifier     `json:"identifier"`
	Status          string           `json:"status"`
	StatusReason    *codeableConcept `json:"statusReason"`
	GroupIdentifier *identifier      `json:"groupIdentifier"`
	Requester       reference        `json:"requester"`
	CourseOfTherapy *codeableConcept `json:"courseOfTherapyType"`
	BasedOn         []struct {
		Extension []extension `json:"extension"`
	} `json:"basedOn"`
	DispenseRequest *struct {
		Performer              *reference   `json:"performer"`
		NumberOfRepeatsAllowed *json.Number `json:"numberOfRepeatsAllowed"`
	} `json:"dispenseRequest"`
}

// repeatsAllowed is a repeat dispensing MedicationRequest's issues after
// the first: basedOn's Extension-EPS-RepeatInformation, else
// dispenseRequest.numberOfRepeatsAllowed (0 when neither says).
func (mr *medicationRequestJSON) repeatsAllowed() int {
	n := json.Number("")
	if mr.DispenseRequest != nil && mr.DispenseRequest.NumberOfRepeatsAllowed != nil {
		n = *mr.DispenseRequest.NumberOfRepeatsAllowed
	}
	for _, b := range mr.BasedOn {
		if x := findExt(b.Extension, extRepeatInfo); x != nil {
			if sub := findExt(x.Extension, "numberOfRepeatsAllowed"); sub != nil && sub.ValueInteger != nil {
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

type organizationJSON struct {
	Identifier []identifier `json:"identifier"`
	Name       string       `json:"name"`
}

type medicationDispenseJSON struct {
	Identifier              []identifier      `json:"identifier"`
	Type                    codeableConcept   `json:"type"`
	Contained               []json.RawMessage `json:"contained"`
	AuthorizingPrescription []reference       `json:"authorizingPrescription"`
}

type withIdentifiers struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier"`
	Organization *reference   `json:"organization"`
}

// entry is one decoded Bundle entry.
type entry struct {
	fullURL string
	head    resourceHead
	raw     json.RawMessage
}

// message is a decoded FHIR message Bundle.
type message struct {
	id         string
	identifier string // Bundle.identifier.value: the message id
	event      string
	sender     string // ODS code of MessageHeader.sender
	replaces   string // Extension-replacementOf on the MessageHeader
	entries    []entry
}

// decodeMessage reads a message Bundle's envelope.
func decodeMessage(body []byte) (*message, error) {
	var b bundleJSON
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("Bundle: %w", err)
	}
	if b.ResourceType != "Bundle" || b.Type != "message" {
		return nil, errors.New(errNotBundleOfTypeMsg)
	}
	if len(b.Entry) == 0 {
		return nil, errors.New("ResourceType Bundle must contain 'entry' field")
	}
	if len(b.Entry) > maxDecodedEntries {
		return nil, fmt.Errorf("Bundle has %d entries, more than %d", len(b.Entry), maxDecodedEntries)
	}
	m := &message{id: b.ID, identifier: b.Identifier.Value}
	for i, e := range b.Entry {
		var h resourceHead
		if err := json.Unmarshal(e.Resource, &h); err != nil {
			return nil, fmt.Errorf("Bundle.entry[%d].resource: %w", i, err)
		}
		m.entries = append(m.entries, entry{fullURL: e.FullURL, head: h, raw: e.Resource})
	}
	if m.entries[0].head.ResourceType != "MessageHeader" {
		return nil, errors.New(errNoMessageHeaderFirst)
	}
	var mh messageHeaderJSON
	if err := json.Unmarshal(m.entries[0].raw, &mh); err != nil {
		return nil, fmt.Errorf("MessageHeader: %w", err)
	}
	m.event = mh.EventCoding.Code
	if mh.Sender.Identifier != nil {
		m.sender = mh.Sender.Identifier.Value
	}
	if x := findExt(mh.Extension, extReplacementOf); x != nil && x.ValueIdentifier != nil {
		m.replaces = x.ValueIdentifier.Value
	}
	return m, nil
}

// ofType returns the entries whose resourceType is rt.
func (m *message) ofType(rt string) []entry {
	var out []entry
	for _, e := range m.entries {
		if e.head.ResourceType == rt {
			out = append(out, e)
		}
	}
	return out
}

// resolve finds the entry a Bundle-internal reference points at.
func (m *message) resolve(ref string) (entry, bool) {
	if ref == "" {
		return entry{}, false
	}
	for _, e := range m.entries {
		if e.fullURL == ref || (e.head.ID != "" && (ref == e.head.ResourceType+"/"+e.head.ID || ref == refPrefixUUID+e.head.ID)) {
			return e, true
		}
	}
	return entry{}, false
}

// nhsNumber returns the first Patient's NHS number.
func (m *message) nhsNumber() string {
	for _, e := range m.ofType("Patient") {
		var p withIdentifiers
		if json.Unmarshal(e.raw, &p) == nil {
			if v := identifierValue(p.Identifier, sysNHSNumber); v != "" {
				return v
			}
		}
	}
	return ""
}

func (m *message) medicationRequests() ([]medicationRequestJSON, error) {
	var out []medicationRequestJSON
	for i, e := range m.ofType("MedicationRequest") {
		var mr medicationRequestJSON
		if err := json.Unmarshal(e.raw, &mr); err != nil {
			return nil, fmt.Errorf("MedicationRequest[%d]: %w", i, err)
		}
		out = append(out, mr)
	}
	if len(out) == 0 {
		return nil, errors.New("Bundle contains no MedicationRequest")
	}
	return out, nil
}

// shortFormOf returns the one short-form id shared by every MedicationRequest.
func shortFormOf(mrs []medicationRequestJSON) (string, error) {
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
	np := NewPrescription{ShortFormID: sf, NHSNumber: m.nhsNumber(), Prescriber: m.sender, Order: raw}
	for i, mr := range mrs {
		item := identifierValue(mr.Identifier, sysLineItem)
		if item == "" {
			return NewPrescription{}, fmt.Errorf("MedicationRequest[%d].identifier %s missing", i, sysLineItem)
		}
		np.ItemIDs = append(np.ItemIDs, item)
		if x := findExt(mr.GroupIdentifier.Extension, extPrescriptionID); x != nil && x.ValueIdentifier != nil && np.LongFormID == "" {
			np.LongFormID = x.ValueIdentifier.Value
		}
		if mr.DispenseRequest != nil && mr.DispenseRequest.Performer != nil && mr.DispenseRequest.Performer.Identifier != nil && np.Nominated == "" {
			np.Nominated = mr.DispenseRequest.Performer.Identifier.Value
		}
		if np.CourseOfTherapy == "" {
			np.CourseOfTherapy = mr.CourseOfTherapy.code(sysCourseOfTherapyNHS)
		}
		if np.CourseOfTherapy == "" {
			np.CourseOfTherapy = mr.CourseOfTherapy.code(sysCourseOfTherapy)
		}
		if np.CourseOfTherapy == "continuous-repeat-dispensing" && np.RepeatsAllowed == 0 {
			np.RepeatsAllowed = mr.repeatsAllowed()
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
	for _, e := range m.ofType("Organization") {
		var o organizationJSON
		if json.Unmarshal(e.raw, &o) != nil {
			continue
		}
		if ods != "" && identifierValue(o.Identifier, sysODS) == ods {
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
	req := CancelRequest{ShortFormID: sf, NHSNumber: m.nhsNumber()}
	for i, mr := range mrs {
		if mr.Status != "cancelled" || mr.StatusReason.code("") == "" {
			return CancelRequest{}, fmt.Errorf("MedicationRequest[%d] must have status cancelled and a statusReason", i)
		}
		item := identifierValue(mr.Identifier, sysLineItem)
		if item == "" {
			return CancelRequest{}, fmt.Errorf("MedicationRequest[%d].identifier %s missing", i, sysLineItem)
		}
		req.ItemIDs = append(req.ItemIDs, item)
		if req.Requester == "" {
			req.Requester = m.requesterID(mr.Requester.Reference)
		}
	}
	return req, nil
}

// requesterID names a requester by its SDS role profile id when the
// reference resolves, else by the reference itself.
func (m *message) requesterID(ref string) string {
	if e, ok := m.resolve(ref); ok {
		var r withIdentifiers
		if json.Unmarshal(e.raw, &r) == nil {
			if v := identifierValue(r.Identifier, sysRoleProfile); v != "" {
				return v
			}
		}
	}
	return ref
}

// decodeDispense extracts a dispense notification: one MedicationDispense
// per line item, its contained MedicationRequest naming item and
// prescription.
func decodeDispense(m *message) (DispenseRequest, error) {
	mds := m.ofType("MedicationDispense")
	if len(mds) == 0 {
		return DispenseRequest{}, errors.New("Bundle contains no MedicationDispense")
	}
	req := DispenseRequest{MessageID: m.identifier, Dispenser: m.sender, ReplacementOf: m.replaces, Items: map[string]ItemStatus{}}
	for i, e := range mds {
		var md medicationDispenseJSON
		if err := json.Unmarshal(e.raw, &md); err != nil {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d]: %w", i, err)
		}
		st := md.Type.code(sysDispenseType)
		if st == "" {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d].type %s missing", i, sysDispenseType)
		}
		mr, err := authorizingRequest(md)
		if err != nil {
			return DispenseRequest{}, fmt.Errorf("MedicationDispense[%d]: %w", i, err)
		}
		item := strings.ToLower(identifierValue(mr.Identifier, sysLineItem))
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
func authorizingRequest(md medicationDispenseJSON) (medicationRequestJSON, error) {
	want := ""
	if len(md.AuthorizingPrescription) > 0 {
		want = strings.TrimPrefix(md.AuthorizingPrescription[0].Reference, "#")
	}
	for _, raw := range md.Contained {
		var h resourceHead
		if json.Unmarshal(raw, &h) != nil || h.ResourceType != "MedicationRequest" {
			continue
		}
		if want != "" && h.ID != want {
			continue
		}
		var mr medicationRequestJSON
		if err := json.Unmarshal(raw, &mr); err != nil {
			return medicationRequestJSON{}, fmt.Errorf("contained MedicationRequest: %w", err)
		}
		return mr, nil
	}
	return medicationRequestJSON{}, errors.New("no contained MedicationRequest for authorizingPrescription")
}

type parametersJSON struct {
	ResourceType string `json:"resourceType"`
	Parameter    []struct {
		Name            string          `json:"name"`
		ValueIdentifier *identifier     `json:"valueIdentifier"`
		ValueCode       string          `json:"valueCode"`
		Resource        json.RawMessage `json:"resource"`
	} `json:"parameter"`
}

// decodeRelease reads a Task/$release Parameters.
func decodeRelease(body []byte) (ReleaseRequest, error) {
	var p parametersJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return ReleaseRequest{}, fmt.Errorf("Parameters: %w", err)
	}
	if p.ResourceType != "Parameters" {
		return ReleaseRequest{}, errors.New("resourceType must be Parameters")
	}
	var req ReleaseRequest
	for _, prm := range p.Parameter {
		switch prm.Name {
		case paramOwner:
			var org withIdentifiers
			if err := json.Unmarshal(prm.Resource, &org); err != nil {
				return ReleaseRequest{}, fmt.Errorf("Parameters.parameter(owner).resource: %w", err)
			}
			req.Owner = identifierValue(org.Identifier, sysODS)
		case paramGroupIdentifier:
			if prm.ValueIdentifier != nil {
				req.ShortFormID = strings.ToUpper(prm.ValueIdentifier.Value)
			}
		}
	}
	if req.Owner == "" {
		return ReleaseRequest{}, errors.New("Parameters.parameter(owner) with an ODS code is required")
	}
	return req, nil
}

type taskJSON struct {
	ResourceType    string            `json:"resourceType"`
	Contained       []json.RawMessage `json:"contained"`
	Identifier      []identifier      `json:"identifier"`
	Status          string            `json:"status"`
	StatusReason    *codeableConcept  `json:"statusReason"`
	Code            *codeableConcept  `json:"code"`
	GroupIdentifier *identifier       `json:"groupIdentifier"`
	Focus           *reference        `json:"focus"`
	Owner           *reference        `json:"owner"`
	Requester       *reference        `json:"requester"`
}

// taskAction is a decoded Task: a return or a withdrawal.
type taskAction struct {
	withdraw bool
	ret      ReturnRequest
	wd       WithdrawRequest
}

// decodeTask reads a dispense proposal return (status rejected) or a
// dispenser withdraw (code abort).
func decodeTask(body []byte) (taskAction, error) {
	var t taskJSON
	if err := json.Unmarshal(body, &t); err != nil {
		return taskAction{}, fmt.Errorf("Task: %w", err)
	}
	if t.ResourceType != "Task" {
		return taskAction{}, errors.New("resourceType must be Task")
	}
	if t.GroupIdentifier == nil || t.GroupIdentifier.Value == "" {
		return taskAction{}, errors.New("Task.groupIdentifier is required")
	}
	sf := strings.ToUpper(t.GroupIdentifier.Value)
	disp := taskDispenser(t)
	if disp == "" {
		return taskAction{}, errors.New("Task.owner or the requester's organization ODS code is required")
	}
	reason := t.StatusReason.code("")
	switch {
	case t.Code.code("") == taskCodeAbort:
		// EPS withdraws the dispense notification the Task names (the
		// coordinator requires Task.focus.identifier): a repeat then names
		// a notification that is no longer the last, and is refused.
		if t.Focus == nil || t.Focus.Identifier == nil || t.Focus.Identifier.Value == "" {
			return taskAction{}, errors.New("Task.focus.identifier (the dispense notification withdrawn) is required")
		}
		wd := WithdrawRequest{ShortFormID: sf, Dispenser: disp, Reason: reason, DispenseID: t.Focus.Identifier.Value}
		return taskAction{withdraw: true, wd: wd}, nil
	case t.Status == eventTaskRejected:
		return taskAction{ret: ReturnRequest{ShortFormID: sf, Dispenser: disp, Reason: reason}}, nil
	}
	return taskAction{}, errors.New("Task must be a return (status rejected) or a withdraw (code abort)")
}

// taskDispenser finds the dispensing organisation: Task.owner, else the
// contained Organization (of the requester).
func taskDispenser(t taskJSON) string {
	if t.Owner != nil && t.Owner.Identifier != nil && t.Owner.Identifier.Value != "" {
		return t.Owner.Identifier.Value
	}
	return containedODS(t.Contained)
}

// containedODS returns the ODS code of the first contained Organization.
func containedODS(contained []json.RawMessage) string {
	for _, raw := range contained {
		var r withIdentifiers
		if json.Unmarshal(raw, &r) == nil && r.ResourceType == "Organization" {
			if v := identifierValue(r.Identifier, sysODS); v != "" {
				return v
			}
		}
	}
	return ""
}

type claimJSON struct {
	ResourceType string            `json:"resourceType"`
	Contained    []json.RawMessage `json:"contained"`
	Extension    []extension       `json:"extension"`
	Identifier   []identifier      `json:"identifier"`
	Prescription struct {
		Extension []extension `json:"extension"`
	} `json:"prescription"`
}

// decodeClaim reads a Claim (amendment when it has Extension-replacementOf).
func decodeClaim(body []byte) (ClaimRequest, error) {
	var c claimJSON
	if err := json.Unmarshal(body, &c); err != nil {
		return ClaimRequest{}, fmt.Errorf("Claim: %w", err)
	}
	if c.ResourceType != "Claim" {
		return ClaimRequest{}, errors.New("resourceType must be Claim")
	}
	req := ClaimRequest{Claimant: containedODS(c.Contained)}
	if len(c.Identifier) > 0 {
		req.ClaimID = c.Identifier[0].Value
	}
	if x := findExt(c.Extension, extReplacementOf); x != nil && x.ValueIdentifier != nil {
		req.ReplacementOf = x.ValueIdentifier.Value
	}
	if g := findExt(c.Prescription.Extension, extGroupIdentifier); g != nil {
		if sf := findExt(g.Extension, "shortForm"); sf != nil && sf.ValueIdentifier != nil {
			req.ShortFormID = strings.ToUpper(sf.ValueIdentifier.Value)
		}
	}
	if req.ShortFormID == "" {
		return ClaimRequest{}, errors.New("Claim.prescription group identifier shortForm is required")
	}
	if req.ClaimID == "" {
		return ClaimRequest{}, errors.New("Claim.identifier is required")
	}
	return req, nil
}
