package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

// Encoding of the simulator's FHIR answers with the fhir package's models,
// shaped after the corpus examples/spec responses. Nothing here changes
// state.

const spineODS = "X2601"

// fhirTime formats t as EPS does: UTC with an explicit +00:00 offset.
func fhirTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
}

// encodeFailed is the answer when an answer cannot be encoded.
const encodeFailed = `{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"simulator could not encode its answer"}]}`

// fhirAnswer encodes a FHIR answer as EPS writes it (no HTML escaping);
// should that ever fail, the answer becomes an exception
// OperationOutcome rather than a panic.
func fhirAnswer(r fhir.Resource) []byte {
	b, err := fhir.Marshal(fhir.Stamp(r))
	if err != nil {
		return []byte(encodeFailed)
	}
	return b
}

// odsID is an ODS organisation code as an Identifier.
func odsID(code string) *fhir.Identifier {
	return &fhir.Identifier{System: fhir.SystemODS, Value: code}
}

// concept is a CodeableConcept of one coding.
func concept(system, code, display string) *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{{System: system, Code: code, Display: display}}}
}

// codedIssue is an OperationOutcome issue with its detail as a coding.
func codedIssue(severity, code, system, detail, display string) fhir.Issue {
	return fhir.Issue{Severity: severity, Code: code, Details: concept(system, detail, display)}
}

// outcome is an OperationOutcome of the given issues, last updated now.
func outcome(now time.Time, issues ...fhir.Issue) *fhir.OperationOutcome {
	return &fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome", Meta: &fhir.Meta{LastUpdated: fhirTime(now)}},
		Issue: issues}
}

// successOutcome is EPS's answer to an accepted message, Task or Claim:
// successOutcomeModel's bytes, written from their one varying part (the
// time, plain digits) rather than encoded again for each answer.
func successOutcome(now time.Time) []byte {
	const (
		head = `{"resourceType":"OperationOutcome","meta":{"lastUpdated":"`
		tail = `"},"issue":[{"severity":"information","code":"informational"}]}`
	)
	out := make([]byte, 0, len(head)+len("2006-01-02T15:04:05+00:00")+len(tail))
	out = append(out, head...)
	out = now.UTC().AppendFormat(out, "2006-01-02T15:04:05")
	return append(append(out, "+00:00"...), tail...)
}

// successOutcomeModel is successOutcome as the fhir package encodes it
// (TestSuccessOutcomeAsEncoded holds the two alike).
func successOutcomeModel(now time.Time) []byte {
	return fhirAnswer(outcome(now, fhir.Issue{Severity: "information", Code: "informational"}))
}

// noMorePrescriptions is the EPS API's answer to a nominated release with
// nothing to release: Spine refuses the download with reason 0006, and the
// EPS API answers that refusal's one informational issue under HTTP 200
// (coordinator spine-response-handler.ts, utils/status-code.ts), not with
// an empty Parameters.
func noMorePrescriptions(now time.Time) []byte {
	return fhirAnswer(outcome(now, codedIssue("information", "informational", fhir.CodeSystemEPSIssueCode,
		"NO_MORE_PRESCRIPTIONS", "No more prescriptions available")))
}

// trackerNotFound is the EPS tracker's answer for a prescription id Spine
// does not hold. The EPS API asks Spine's NHS111 item details
// (communication/tracker111/live.ts), which answers a non-zero statusCode
// (6, "Prescription ID not found", as mapping/tracker records the NHS111
// codes), and the EPS API returns any such answer under HTTP 200 as an
// invalid issue coded INVALID with Spine's reason
// (response/tracker/translation.ts, convertSpineTrackerResponseToFhir).
// diagnostics, when not empty, says why the simulator does not hold it
// (a prescription its cap forgot).
func trackerNotFound(now time.Time, diagnostics string) []byte {
	is := codedIssue("error", "invalid", fhir.CodeSystemSpineErrorOrWarning, "INVALID", "Prescription ID not found")
	is.Diagnostics = diagnostics
	return fhirAnswer(outcome(now, is))
}

// invalidOutcome reports a request the simulator could not read.
func invalidOutcome(now time.Time, detail string) []byte {
	return fhirAnswer(outcome(now, codedIssue("error", "invalid", fhir.CodeSystemSpineErrorOrWarning, "INVALID_VALUE", detail)))
}

// plainOutcome is an issue with only a code and diagnostics.
func plainOutcome(now time.Time, code, diagnostics string) []byte {
	return fhirAnswer(outcome(now, fhir.Issue{Severity: "error", Code: code, Diagnostics: diagnostics}))
}

// stateErrorAnswer maps a State refusal to EPS's OperationOutcome (every
// Spine refusal is a 400).
func stateErrorAnswer(err error, now time.Time) (int, []byte) {
	var se *StateError
	if !errors.As(err, &se) {
		return http.StatusInternalServerError, plainOutcome(now, "exception", err.Error())
	}
	code, system, detail, disp := "business-rule", fhir.CodeSystemEPSIssueCode, "", ""
	switch se.Reason {
	case ReasonInvalidCheckCharacter:
		code, system, detail = "processing", fhir.CodeSystemSpineErrorOrWarning, "FAILURE_TO_PROCESS_MESSAGE"
		disp = "Unable to process message. Information missing or invalid - prescriptionID has invalid checksum"
	case ReasonDuplicate:
		code, detail, disp = "duplicate", "DUPLICATE_PRESCRIPTION_ID", "Duplicate prescription ID exists"
	case ReasonNotFound:
		code, system, detail, disp = "not-found", fhir.CodeSystemSpineErrorOrWarning, "RESOURCE_NOT_FOUND", "Resource not found"
	case ReasonItemNotFound:
		code, detail, disp = "not-found", "MEDICATIONREQUEST_NOT_FOUND", "Prescription Item Not found"
	case ReasonWithAnotherDispenser:
		return http.StatusBadRequest, withAnotherDispenser(se.Dispenser, now)
	case ReasonCancelled:
		detail, disp = "PRESCRIPTION_CANCELLED", "Prescription has been cancelled"
	case ReasonExpired:
		detail, disp = "PRESCRIPTION_EXPIRED", "Prescription has expired"
	case ReasonDispensed:
		detail, disp = "PRESCRIPTION_DISPENSED", "Prescription has been dispensed"
	case ReasonInvalidTransition:
		detail, disp = "PRESCRIPTION_INVALID_STATE_TRANSITION", "Invalid State Transition for Prescription"
	case ReasonClaimNotDispensed:
		detail, disp = "CLAIM_INVALID_NOT_DISPENSED", "Invalid Claim. Prescription is not Dispensed"
	case ReasonItemInvalidTransition:
		detail, disp = "MEDICATIONREQUEST_INVALID_STATE_TRANSITION", "Invalid State Transition for Prescription Item"
	case ReasonAmendMismatch:
		detail, disp = "DISPENSE_AMEND_IDENTIFIER_MISMATCH", "Dispense Amendment/Cancellation Request does not pertain to Last Dispense"
	case ReasonClaimAmendPeriod:
		system, detail, disp = fhir.CodeSystemSpineErrorOrWarning, "CLAIM_AMEND_PERIOD_ISSUE", "Claim amendment is not permitted outside of the claim period"
	case ReasonDuplicateMessage:
		// Spine's AR, acknowledgementDetail 202, passed through by the EPS
		// API as a Spine-ErrorOrWarningCode coding (state_duplicate.go).
		code, system, detail, disp = "invalid", fhir.CodeSystemSpineErrorOrWarning, "202", "Duplicate HL7 ID Error"
	case ReasonPatientMismatch:
		code, system, detail = "processing", fhir.CodeSystemSpineErrorOrWarning, "FAILURE_TO_PROCESS_MESSAGE"
		disp = "Unable to process message. Information missing or invalid - NHS number mismatch"
	default:
		code, system, detail, disp = "invalid", fhir.CodeSystemSpineErrorOrWarning, "INVALID_VALUE", se.Detail
	}
	is := codedIssue("error", code, system, detail, disp)
	if se.Forgotten {
		is.Diagnostics = se.Error()
	}
	return http.StatusBadRequest, fhirAnswer(outcome(now, is))
}

// withAnotherDispenser is the release refusal with the holding pharmacy as a
// contained Organization.
func withAnotherDispenser(ods string, now time.Time) []byte {
	oo := outcome(now, codedIssue("error", "business-rule", fhir.CodeSystemEPSIssueCode,
		"PRESCRIPTION_WITH_ANOTHER_DISPENSER", "Prescription is with another dispenser"))
	const orgID = "dispenser"
	oo.Contained = fhir.ResourceList{&fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: orgID},
		Identifier: []fhir.Identifier{*odsID(ods)}}}
	oo.Extension = []fhir.Extension{{URL: fhir.ExtensionSpineSupportingInfo, ValueReference: &fhir.Reference{Reference: "#" + orgID}}}
	return fhirAnswer(oo)
}

// cancelRefusal is the OperationOutcome form of R-0008, R-5000, R-5888;
// diagnostics, when not empty, says more (a prescription the simulator's
// cap forgot).
func cancelRefusal(code CancelCode, diagnostics string, now time.Time) []byte {
	issueCode := "invalid"
	switch code {
	case CancelNotFound:
		issueCode = "not-found"
	case CancelPatientMismatch:
		issueCode = "processing"
	case CancelDisabled:
		issueCode = "not-supported"
	}
	is := codedIssue("error", issueCode, fhir.CodeSystemStatusHistory, string(code), code.Display())
	is.Diagnostics = diagnostics
	return fhirAnswer(outcome(now, is))
}

// cancelResponse answers a prescription-order-update: the request's
// resources with a response MessageHeader, each cancelled MedicationRequest
// carrying its outcome in Extension-DM-PrescriptionStatusHistory.
func cancelResponse(m *message, outcomes []CancelOutcome, held *Prescription, now time.Time, newID func() string, endpoint string) ([]byte, error) {
	byItem := map[string]CancelCode{}
	for _, o := range outcomes {
		byItem[o.ItemID] = o.Code
	}
	id := newID()
	entries := make([]fhir.Entry, 1, len(m.bundle.Entry)+3)
	performer, holder := dispenserOf(held, newID)
	var focus []fhir.Reference
	for _, e := range m.bundle.Entry {
		res := e.Resource
		switch r := res.(type) {
		case *fhir.MessageHeader:
			continue
		case *fhir.Patient:
			focus = append(focus, fhir.Reference{Reference: e.FullURL})
		case *fhir.MedicationRequest:
			if code, ok := byItem[strings.ToLower(fhir.FindIdentifier(r.Identifier, fhir.SystemLineItemID))]; ok {
				res = withCancelOutcome(r, code, performer, now)
			}
			focus = append(focus, fhir.Reference{Reference: e.FullURL})
		}
		entries = append(entries, fhir.Entry{FullURL: e.FullURL, Resource: res})
	}
	entries = append(entries, holder...)
	mhID := newID()
	entries[0] = fhir.Entry{FullURL: refPrefixUUID + mhID, Resource: &fhir.MessageHeader{
		Base: fhir.Base{ResourceType: "MessageHeader", ID: mhID, Extension: []fhir.Extension{{URL: fhir.ExtensionMessageHeaderMessageID,
			ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: id}}}},
		EventCoding: fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: fhir.EventPrescriptionOrderResponse, Display: "Prescription Order Response"},
		Destination: []fhir.MessageDestination{{Endpoint: "urn:nhs-uk:addressing:ods:" + m.sender, Receiver: &fhir.Reference{Identifier: odsID(m.sender)}}},
		Sender:      &fhir.Reference{Identifier: odsID(spineODS), Display: "NHS Digital Spine"},
		Source:      &fhir.MessageSource{Name: "NHS Spine", Endpoint: endpoint},
		Response:    &fhir.MessageHeaderResponse{Identifier: m.identifier, Code: "ok"},
		Focus:       focus,
	}}
	return fhir.Marshal(&fhir.Bundle{
		ResourceType: "Bundle",
		ID:           id,
		Identifier:   &fhir.Identifier{System: fhir.SystemRFC4122, Value: id},
		Type:         "message",
		Timestamp:    fhirTime(now),
		Entry:        entries,
	})
}

// dispenserOf is how EPS names the dispenser holding a prescription in a
// cancellation response (cancellation-response.ts,
// createDispenserInfoReference): dispenseRequest.performer with the
// dispensing organisation's ODS code and name and an
// Extension-DM-DispensingPerformer to the PractitionerRole of the person
// who released it, whose code has the system its shape picks (an SDS user
// id is a professional-code), with its Practitioner and Organization. nil
// when no dispenser holds it.
func dispenserOf(held *Prescription, newID func() string) (*fhir.Reference, []fhir.Entry) {
	if held == nil || held.Dispenser == "" {
		return nil, nil
	}
	a := held.DispenserAgent
	ref := &fhir.Reference{Identifier: odsID(held.Dispenser), Display: a.OrgName}
	if a.RoleProfile == "" || a.PersonCode == "" {
		return ref, nil
	}
	roleID, pracID, orgID := newID(), newID(), newID()
	role := &fhir.PractitionerRole{Base: fhir.Base{ResourceType: "PractitionerRole", ID: roleID},
		Identifier:   []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: a.RoleProfile}},
		Practitioner: &fhir.Reference{Reference: refPrefixUUID + pracID},
		Organization: &fhir.Reference{Reference: refPrefixUUID + orgID}}
	prac := &fhir.Practitioner{Base: fhir.Base{ResourceType: "Practitioner", ID: pracID}}
	if sys := releaseCodeSystem(a.PersonCode); sys == systemSpuriousCode {
		role.Identifier = append(role.Identifier, fhir.Identifier{System: sys, Value: a.PersonCode})
	} else {
		prac.Identifier = []fhir.Identifier{{System: sys, Value: a.PersonCode}}
	}
	if a.PersonName != "" {
		prac.Name = []fhir.HumanName{{Text: a.PersonName}}
	}
	if a.Telecom != "" {
		role.Telecom = []fhir.ContactPoint{{System: "phone", Use: "work", Value: strings.TrimPrefix(a.Telecom, "tel:")}}
	}
	org := &fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: orgID},
		Identifier: []fhir.Identifier{*odsID(held.Dispenser)}, Name: a.OrgName}
	ref.Extension = []fhir.Extension{{URL: extDispensingPerformer, ValueReference: &fhir.Reference{Reference: refPrefixUUID + roleID}}}
	return ref, []fhir.Entry{
		{FullURL: refPrefixUUID + roleID, Resource: role},
		{FullURL: refPrefixUUID + pracID, Resource: prac},
		{FullURL: refPrefixUUID + orgID, Resource: org},
	}
}

// withCancelOutcome returns a copy of a cancelled MedicationRequest with
// its status and the cancellation's outcome.
func withCancelOutcome(mr *fhir.MedicationRequest, code CancelCode, performer *fhir.Reference, now time.Time) *fhir.MedicationRequest {
	out := *mr
	if performer != nil {
		dr := fhir.DispenseRequest{}
		if mr.DispenseRequest != nil {
			dr = *mr.DispenseRequest
		}
		dr.Performer = performer
		out.DispenseRequest = &dr
	}
	out.Status = "active"
	if code == CancelDone {
		out.Status = "cancelled"
	}
	date := fhirTime(now)
	out.Extension = append(slices.Clip(mr.Extension), fhir.Extension{URL: fhir.ExtensionPrescriptionStatusHistory, Extension: []fhir.Extension{
		{URL: "status", ValueCoding: &fhir.Coding{System: fhir.CodeSystemStatusHistory, Code: string(code), Display: code.Display()}},
		{URL: "statusDate", ValueDateTime: &date},
	}})
	return &out
}

// searchset wraps entries in a searchset Bundle.
func searchset(entries []fhir.Entry, now time.Time, newID func() string, self string) *fhir.Bundle {
	id := newID()
	total := len(entries)
	b := &fhir.Bundle{
		ResourceType: "Bundle",
		ID:           id,
		Meta:         &fhir.Meta{LastUpdated: fhirTime(now)},
		Identifier:   &fhir.Identifier{System: fhir.SystemRFC4122, Value: id},
		Type:         "searchset",
		Total:        &total,
		Entry:        entries,
	}
	if self != "" {
		b.Link = []fhir.BundleLink{{Relation: "self", URL: self}}
	}
	return b
}

// releaseResponse answers Task/$release: passedPrescriptions holds every
// released prescription-order Bundle as received, each MedicationRequest's
// status set from its line item's as EPS does (release_status.go);
// failedPrescriptions is empty (the simulator does not verify signatures).
func releaseResponse(released []Prescription, now time.Time, newID func() string, self string) []byte {
	passed := make([]fhir.Entry, 0, len(released))
	for _, p := range released {
		full := refPrefixUUID + p.OrderID
		if p.OrderID == "" {
			full = refPrefixUUID + newID()
		}
		e := fhir.Entry{FullURL: full, Search: &fhir.EntrySearch{Mode: "match"}}
		if len(p.Order) > 0 {
			e.Resource = &fhir.RawResource{Type: "Bundle", JSON: releasedOrder(p)}
		}
		passed = append(passed, e)
	}
	p := &fhir.Parameters{Base: fhir.Base{ResourceType: "Parameters", ID: newID()}}
	p.Parameter = []fhir.Parameter{
		{Name: paramPassed, Resource: searchset(passed, now, newID, self)},
		{Name: paramFailed, Resource: searchset(nil, now, newID, "")},
	}
	return fhirAnswer(p)
}

// taskStatus maps a prescription status to Task.status as the EPS API's
// tracker translation does (response/tracker/translation.ts): with
// dispenser is accepted, with dispenser - active in progress.
func taskStatus(s PrescriptionStatus) string {
	switch s {
	case StatusToBeDispensed:
		return "requested"
	case StatusWithDispenser:
		return "accepted"
	case StatusWithDispenserActive:
		return "in-progress"
	case StatusExpired:
		return "failed"
	case StatusCancelled:
		return "cancelled"
	}
	return "completed"
}

// dateExtension is an extension with a date value.
func dateExtension(url string, t time.Time) fhir.Extension {
	d := t.UTC().Format(time.DateOnly)
	return fhir.Extension{URL: url, ValueDate: &d}
}

// intExtension is an extension with an integer value.
func intExtension(url string, n int) fhir.Extension {
	v := json.Number(strconv.Itoa(n))
	return fhir.Extension{URL: url, ValueInteger: &v}
}

// trackerBundle answers GET Task: one Task per prescription, shaped as the
// EPS API writes its tracker Tasks: treatment type (courseOfTherapyType),
// repeat information when more than one issue is authorised, each line
// item's status with the last dispense time, and the download and claim
// dates on each output. total counts every match (ps may be one page of
// them); self and next, when not empty, are the page's links.
func trackerBundle(ps []Prescription, total int, self, next string, now time.Time, newID func() string) []byte {
	entries := make([]fhir.Entry, 0, len(ps))
	for _, p := range ps {
		t := trackerTask(p)
		entries = append(entries, fhir.Entry{FullURL: refPrefixUUID + p.TaskID, Search: &fhir.EntrySearch{Mode: "match"}, Resource: t})
	}
	b := searchset(entries, now, newID, self)
	b.Total = &total
	if next != "" {
		b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: next})
	}
	return fhirAnswer(b)
}

// trackerTask is one prescription's tracker Task.
func trackerTask(p Prescription) *fhir.Task {
	lastDispensed := p.lastDispensed()
	var release []fhir.Extension
	if !p.LastIssueDispensed.IsZero() {
		release = append(release, dateExtension("dateLastIssuedDispensed", p.LastIssueDispensed))
	}
	if !p.Released.IsZero() {
		release = append(release, dateExtension("dateDownloaded", p.Released))
	}
	if n := len(p.Claims); n > 0 {
		release = append(release, dateExtension("dateClaimed", p.Claims[n-1].At))
	}
	inputs := make([]fhir.TaskParameter, 0, len(p.Items))
	outputs := make([]fhir.TaskParameter, 0, len(p.Items))
	for _, it := range p.Items {
		var info []fhir.Extension
		if !lastDispensed.IsZero() {
			at := fhirTime(lastDispensed)
			info = append(info, fhir.Extension{URL: "dateLastDispensed", ValueDateTime: &at})
		}
		info = append(info, fhir.Extension{URL: "dispenseStatus", ValueCoding: &fhir.Coding{System: fhir.CodeSystemMedicationDispenseType,
			Code: string(it.Status), Display: it.Status.Display()}})
		inputs = append(inputs, fhir.TaskParameter{
			Extension:      []fhir.Extension{{URL: fhir.ExtensionDispensingInformation, Extension: info}},
			Type:           *concept(fhir.SystemSNOMED, "16076005", "Prescription"),
			ValueReference: &fhir.Reference{Type: "MedicationRequest", Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: it.ID}},
		})
		out := fhir.TaskParameter{
			Type:           *concept(fhir.SystemSNOMED, "373784005", "Dispensing medication"),
			ValueReference: &fhir.Reference{Type: "MedicationDispense", Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: it.ID}},
		}
		if len(release) > 0 {
			out.Extension = []fhir.Extension{{URL: fhir.ExtensionDispensingReleaseInformation, Extension: release}}
		}
		outputs = append(outputs, out)
	}
	t := &fhir.Task{
		Base:           fhir.Base{ResourceType: "Task", ID: p.TaskID},
		Identifier:     []fhir.Identifier{{System: fhir.SystemRFC4122, Value: p.TaskID}},
		Status:         taskStatus(p.Status),
		BusinessStatus: concept(fhir.CodeSystemTaskBusinessStatus, string(p.Status), p.Status.Display()),
		Intent:         "order",
		Code:           concept(fhir.CodeSystemMessageEvent, fhir.EventPrescriptionOrder, "Prescription Order"),
		Focus:          &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemShortFormID, Value: p.ShortFormID}},
		For:            &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: p.NHSNumber}},
		AuthoredOn:     fhirTime(p.Created),
		LastModified:   fhirTime(p.Updated),
		Input:          inputs,
		Output:         outputs,
	}
	if course, ok := courseDisplay(p.CourseOfTherapy); ok {
		t.Extension = append(t.Extension, fhir.Extension{URL: fhir.ExtensionEPSPrescription, Extension: []fhir.Extension{{URL: "courseOfTherapyType",
			ValueCoding: &fhir.Coding{System: fhir.CodeSystemCourseOfTherapy, Code: p.CourseOfTherapy, Display: course}}}})
	}
	if p.TotalIssues > 1 {
		t.Extension = append(t.Extension, fhir.Extension{URL: fhir.ExtensionRepeatInformation, Extension: []fhir.Extension{
			intExtension("numberOfRepeatsAllowed", p.TotalIssues),
			intExtension("numberOfRepeatsIssued", max(p.CurrentIssue, 1)),
		}})
	}
	if p.Prescriber != "" {
		t.Requester = &fhir.Reference{Identifier: odsID(p.Prescriber), Display: p.PrescriberName}
	}
	if owner := p.Dispenser; owner != "" || p.Nominated != "" {
		if owner == "" {
			owner = p.Nominated
		}
		t.Owner = &fhir.Reference{Identifier: odsID(owner)}
	}
	return t
}

// courseDisplay is the display EPS gives a course of therapy code.
func courseDisplay(code string) (string, bool) {
	switch code {
	case "acute":
		return "Short course (acute) therapy", true
	case "continuous":
		return "Continuous long term therapy", true
	case courseRepeatDispensing:
		return "Continuous long term (repeat dispensing)", true
	}
	return "", false
}

// PrepareResult is what a $prepare digest hook returns.
type PrepareResult struct {
	// Digest is the base64 SignedInfo to be signed.
	Digest string
	// Algorithm is "RS1" or "RS256".
	Algorithm string
	// Timestamp is the author time used (FHIR dateTime).
	Timestamp string
}

func prepareParameters(r PrepareResult) []byte {
	return fhirAnswer(&fhir.Parameters{Base: fhir.Base{ResourceType: "Parameters"}, Parameter: []fhir.Parameter{
		{Name: "digest", ValueString: &r.Digest},
		{Name: "timestamp", ValueString: &r.Timestamp},
		{Name: "algorithm", ValueString: &r.Algorithm},
	}})
}

// capabilityStatement is the GET metadata answer, wrapped as EPS wraps it
// (the wrapper is not FHIR, so it is encoded apart).
func capabilityStatement() []byte {
	op := func(name, def string) fhir.CapabilityOperation {
		return fhir.CapabilityOperation{Name: name, Definition: def}
	}
	msg := func(def string) fhir.CapabilitySupportedMessage {
		return fhir.CapabilitySupportedMessage{Mode: "receiver", Definition: "https://fhir.nhs.uk/MessageDefinition/" + def}
	}
	cs := &fhir.CapabilityStatement{
		Base:        fhir.Base{ResourceType: "CapabilityStatement", ID: "porxgate-eps-simulator"},
		Name:        "EPS FHIR API (porxgate simulator)",
		Status:      "active",
		Date:        "2025-01-01T00:00:00+00:00",
		Publisher:   "porxgate",
		Kind:        "instance",
		Software:    &fhir.CapabilitySoftware{Name: "porxgate EPS simulator"},
		FHIRVersion: "4.0.1",
		Format:      []string{"application/fhir+json"},
		Rest: []fhir.CapabilityRest{{
			Mode: "server",
			Resource: []fhir.CapabilityResource{{Type: "Bundle"}, {Type: "MedicationRequest"}, {Type: "MedicationDispense"},
				{Type: "Task"}, {Type: "Claim"}},
			Operation: []fhir.CapabilityOperation{
				op("process-message", "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"),
				op("prepare", "https://fhir.nhs.uk/OperationDefinition/MessageHeader-prepare-message"),
				op("release", "https://fhir.nhs.uk/OperationDefinition/Task-release-message"),
			},
		}},
		Messaging: []fhir.CapabilityMessaging{{SupportedMessage: []fhir.CapabilitySupportedMessage{
			msg("prescription-order"), msg("prescription-order-update"), msg("dispense-notification"),
			msg("dispense-claim"), msg("dispense-claim-update"),
		}}},
	}
	body, err := fhir.Marshal(struct {
		CapabilityStatement *fhir.CapabilityStatement `json:"capabilityStatement"`
	}{cs})
	if err != nil {
		return []byte(encodeFailed)
	}
	return body
}
