package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Encoding of the simulator's FHIR answers, shaped after the corpus
// examples/spec responses. Nothing here changes state.

// obj is a JSON object under construction.
type obj = map[string]any

const spineODS = "X2601"

// fhirTime formats t as EPS does: UTC with an explicit +00:00 offset.
func fhirTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
}

// mustJSON encodes an answer built from maps, strings, numbers and stored
// (already validated) JSON; should that ever fail, the answer becomes an
// exception OperationOutcome rather than a panic.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"simulator could not encode its answer"}]}`)
	}
	return b
}

// issue is one OperationOutcome issue.
type issue struct {
	severity, code       string
	system, detail, disp string
	diagnostics          string
}

func (is issue) json() obj {
	o := obj{"severity": is.severity, "code": is.code}
	if is.detail != "" {
		c := obj{"system": is.system, "code": is.detail}
		if is.disp != "" {
			c["display"] = is.disp
		}
		o["details"] = obj{"coding": []any{c}}
	}
	if is.diagnostics != "" {
		o["diagnostics"] = is.diagnostics
	}
	return o
}

func outcome(now time.Time, issues ...issue) obj {
	list := make([]any, 0, len(issues))
	for _, is := range issues {
		list = append(list, is.json())
	}
	return obj{"resourceType": "OperationOutcome", "meta": obj{"lastUpdated": fhirTime(now)}, "issue": list}
}

// successOutcome is EPS's answer to an accepted message, Task or Claim.
func successOutcome(now time.Time) []byte {
	return mustJSON(outcome(now, issue{severity: "information", code: "informational"}))
}

// invalidOutcome reports a request the simulator could not read.
func invalidOutcome(now time.Time, detail string) []byte {
	return mustJSON(outcome(now, issue{severity: "error", code: "invalid", system: sysSpineError,
		detail: "INVALID_VALUE", disp: detail}))
}

// plainOutcome is an issue with only a code and diagnostics.
func plainOutcome(now time.Time, code, diagnostics string) []byte {
	return mustJSON(outcome(now, issue{severity: "error", code: code, diagnostics: diagnostics}))
}

// stateErrorAnswer maps a State refusal to EPS's OperationOutcome (every
// Spine refusal is a 400).
func stateErrorAnswer(err error, now time.Time) (int, []byte) {
	var se *StateError
	if !errors.As(err, &se) {
		return http.StatusInternalServerError, plainOutcome(now, "exception", err.Error())
	}
	is := issue{severity: "error", code: "business-rule", system: sysEPSIssue}
	switch se.Reason {
	case ReasonInvalidCheckCharacter:
		is.code, is.system, is.detail = "processing", sysSpineError, "FAILURE_TO_PROCESS_MESSAGE"
		is.disp = "Unable to process message. Information missing or invalid - prescriptionID has invalid checksum"
	case ReasonDuplicate:
		is.code, is.detail, is.disp = "duplicate", "DUPLICATE_PRESCRIPTION_ID", "Duplicate prescription ID exists"
	case ReasonNotFound:
		is.code, is.system, is.detail, is.disp = "not-found", sysSpineError, "RESOURCE_NOT_FOUND", "Resource not found"
	case ReasonItemNotFound:
		is.code, is.detail, is.disp = "not-found", "MEDICATIONREQUEST_NOT_FOUND", "Prescription Item Not found"
	case ReasonWithAnotherDispenser:
		return http.StatusBadRequest, withAnotherDispenser(se.Dispenser, now)
	case ReasonCancelled:
		is.detail, is.disp = "PRESCRIPTION_CANCELLED", "Prescription has been cancelled"
	case ReasonExpired:
		is.detail, is.disp = "PRESCRIPTION_EXPIRED", "Prescription has expired"
	case ReasonDispensed:
		is.detail, is.disp = "PRESCRIPTION_DISPENSED", "Prescription has been dispensed"
	case ReasonInvalidTransition:
		is.detail, is.disp = "PRESCRIPTION_INVALID_STATE_TRANSITION", "Invalid State Transition for Prescription"
	case ReasonClaimNotDispensed:
		is.detail, is.disp = "CLAIM_INVALID_NOT_DISPENSED", "Invalid Claim. Prescription is not Dispensed"
	case ReasonAmendMismatch:
		is.detail, is.disp = "DISPENSE_AMEND_IDENTIFIER_MISMATCH", "Dispense Amendment/Cancellation Request does not pertain to Last Dispense"
	case ReasonPatientMismatch:
		is.code, is.system, is.detail = "processing", sysSpineError, "FAILURE_TO_PROCESS_MESSAGE"
		is.disp = "Unable to process message. Information missing or invalid - NHS number mismatch"
	default:
		is.code, is.system, is.detail, is.disp = "invalid", sysSpineError, "INVALID_VALUE", se.Detail
	}
	return http.StatusBadRequest, mustJSON(outcome(now, is))
}

// withAnotherDispenser is the release refusal with the holding pharmacy as a
// contained Organization.
func withAnotherDispenser(ods string, now time.Time) []byte {
	oo := outcome(now, issue{severity: "error", code: "business-rule", system: sysEPSIssue,
		detail: "PRESCRIPTION_WITH_ANOTHER_DISPENSER", disp: "Prescription is with another dispenser"})
	const orgID = "dispenser"
	oo["contained"] = []any{obj{"resourceType": "Organization", "id": orgID,
		"identifier": []any{obj{"system": sysODS, "value": ods}}}}
	oo["extension"] = []any{obj{"url": extSupportingInfo, "valueReference": obj{"reference": "#" + orgID}}}
	return mustJSON(oo)
}

// cancelRefusal is the OperationOutcome form of R-0008, R-5000, R-5888.
func cancelRefusal(code CancelCode, now time.Time) []byte {
	issueCode := "invalid"
	switch code {
	case CancelNotFound:
		issueCode = "not-found"
	case CancelPatientMismatch:
		issueCode = "processing"
	case CancelDisabled:
		issueCode = "not-supported"
	}
	return mustJSON(outcome(now, issue{severity: "error", code: issueCode, system: sysStatusHistory,
		detail: string(code), disp: code.Display()}))
}

// cancelResponse answers a prescription-order-update: the request's
// resources with a response MessageHeader, each cancelled MedicationRequest
// carrying its outcome in Extension-DM-PrescriptionStatusHistory.
func cancelResponse(m *message, outcomes []CancelOutcome, now time.Time, newID func() string, endpoint string) ([]byte, error) {
	byItem := map[string]CancelCode{}
	for _, o := range outcomes {
		byItem[o.ItemID] = o.Code
	}
	id := newID()
	var entries, focus []any
	for _, e := range m.entries {
		if e.head.ResourceType == "MessageHeader" {
			continue
		}
		var r obj
		if err := json.Unmarshal(e.raw, &r); err != nil {
			return nil, err
		}
		switch e.head.ResourceType {
		case "Patient":
			focus = append(focus, obj{"reference": e.fullURL})
		case "MedicationRequest":
			var mr medicationRequestJSON
			if err := json.Unmarshal(e.raw, &mr); err != nil {
				return nil, err
			}
			if code, ok := byItem[strings.ToLower(identifierValue(mr.Identifier, sysLineItem))]; ok {
				r["status"] = "active"
				if code == CancelDone {
					r["status"] = "cancelled"
				}
				exts, _ := r["extension"].([]any)
				r["extension"] = append(exts, obj{"url": extStatusHistory, "extension": []any{
					obj{"url": "status", "valueCoding": obj{"system": sysStatusHistory, "code": string(code), "display": code.Display()}},
					obj{"url": "statusDate", "valueDateTime": fhirTime(now)},
				}})
			}
			focus = append(focus, obj{"reference": e.fullURL})
		}
		entries = append(entries, obj{"fullUrl": e.fullURL, "resource": r})
	}
	mhID := newID()
	mh := obj{
		"resourceType": "MessageHeader",
		"id":           mhID,
		"extension": []any{obj{"url": extMessageID,
			"valueIdentifier": obj{"system": sysRFC4122, "value": id}}},
		"eventCoding": obj{"system": sysMessageEvent, "code": eventOrderResponse, "display": "Prescription Order Response"},
		"destination": []any{obj{"endpoint": "urn:nhs-uk:addressing:ods:" + m.sender,
			"receiver": obj{"identifier": obj{"system": sysODS, "value": m.sender}}}},
		"sender":   obj{"identifier": obj{"system": sysODS, "value": spineODS}, "display": "NHS Digital Spine"},
		"source":   obj{"name": "NHS Spine", "endpoint": endpoint},
		"response": obj{"identifier": m.identifier, "code": "ok"},
		"focus":    focus,
	}
	bundle := obj{
		"resourceType": "Bundle",
		"id":           id,
		"identifier":   obj{"system": sysRFC4122, "value": id},
		"type":         "message",
		"timestamp":    fhirTime(now),
		"entry":        append([]any{obj{"fullUrl": refPrefixUUID + mhID, "resource": mh}}, entries...),
	}
	return mustJSON(bundle), nil
}

// searchset wraps entries in a searchset Bundle.
func searchset(entries []any, now time.Time, newID func() string, self string) obj {
	id := newID()
	if entries == nil {
		entries = []any{}
	}
	b := obj{
		"resourceType": "Bundle",
		"id":           id,
		"meta":         obj{"lastUpdated": fhirTime(now)},
		"identifier":   obj{"system": sysRFC4122, "value": id},
		"type":         "searchset",
		"total":        len(entries),
		"entry":        entries,
	}
	if self != "" {
		b["link"] = []any{obj{"relation": "self", "url": self}}
	}
	return b
}

// releaseResponse answers Task/$release: passedPrescriptions holds every
// released prescription-order Bundle as received; failedPrescriptions is
// empty (the simulator does not verify signatures).
func releaseResponse(released []Prescription, now time.Time, newID func() string, self string) []byte {
	passed := make([]any, 0, len(released))
	for _, p := range released {
		var h resourceHead
		_ = json.Unmarshal(p.Order, &h)
		full := refPrefixUUID + h.ID
		if h.ID == "" {
			full = refPrefixUUID + newID()
		}
		passed = append(passed, obj{"fullUrl": full, "search": obj{"mode": "match"}, "resource": json.RawMessage(p.Order)})
	}
	return mustJSON(obj{
		"resourceType": "Parameters",
		"id":           newID(),
		"parameter": []any{
			obj{"name": paramPassed, "resource": searchset(passed, now, newID, self)},
			obj{"name": paramFailed, "resource": searchset(nil, now, newID, "")},
		},
	})
}

// taskStatus maps a prescription status to Task.status.
func taskStatus(s PrescriptionStatus) string {
	switch s {
	case StatusToBeDispensed:
		return "requested"
	case StatusWithDispenser, StatusWithDispenserActive:
		return "in-progress"
	case StatusExpired:
		return "failed"
	case StatusCancelled:
		return "cancelled"
	}
	return "completed"
}

// trackerBundle answers GET Task: one Task per prescription, shaped as the
// EPS API writes its tracker Tasks: treatment type (courseOfTherapyType),
// repeat information when more than one issue is authorised, each line
// item's status with the last dispense time, and the download and claim
// dates on each output.
func trackerBundle(ps []Prescription, now time.Time, newID func() string) []byte {
	entries := make([]any, 0, len(ps))
	for _, p := range ps {
		var lastDispensed time.Time
		for _, d := range p.Dispenses {
			if d.At.After(lastDispensed) {
				lastDispensed = d.At
			}
		}
		var release []any
		if !p.LastIssueDispensed.IsZero() {
			release = append(release, obj{"url": "dateLastIssuedDispensed", "valueDate": p.LastIssueDispensed.UTC().Format(time.DateOnly)})
		}
		if !p.Released.IsZero() {
			release = append(release, obj{"url": "dateDownloaded", "valueDate": p.Released.UTC().Format(time.DateOnly)})
		}
		if n := len(p.Claims); n > 0 {
			release = append(release, obj{"url": "dateClaimed", "valueDate": p.Claims[n-1].At.UTC().Format(time.DateOnly)})
		}
		var inputs, outputs []any
		for _, it := range p.Items {
			info := []any{}
			if !lastDispensed.IsZero() {
				info = append(info, obj{"url": "dateLastDispensed", "valueDateTime": fhirTime(lastDispensed)})
			}
			info = append(info, obj{"url": "dispenseStatus", "valueCoding": obj{"system": sysDispenseType, "code": string(it.Status), "display": it.Status.Display()}})
			inputs = append(inputs, obj{
				"extension":      []any{obj{"url": extDispensingInfo, "extension": info}},
				"type":           obj{"coding": []any{obj{"system": "http://snomed.info/sct", "code": "16076005", "display": "Prescription"}}},
				"valueReference": obj{"type": "MedicationRequest", "identifier": obj{"system": sysLineItem, "value": it.ID}},
			})
			out := obj{
				"type":           obj{"coding": []any{obj{"system": "http://snomed.info/sct", "code": "373784005", "display": "Dispensing medication"}}},
				"valueReference": obj{"type": "MedicationDispense", "identifier": obj{"system": sysLineItem, "value": it.ID}},
			}
			if len(release) > 0 {
				out["extension"] = []any{obj{"url": extReleaseInfo, "extension": release}}
			}
			outputs = append(outputs, out)
		}
		t := obj{
			"resourceType":   "Task",
			"id":             p.TaskID,
			"identifier":     []any{obj{"system": sysRFC4122, "value": p.TaskID}},
			"status":         taskStatus(p.Status),
			"businessStatus": obj{"coding": []any{obj{"system": sysTaskStatus, "code": string(p.Status), "display": p.Status.Display()}}},
			"intent":         "order",
			"code":           obj{"coding": []any{obj{"system": sysMessageEvent, "code": eventPrescriptionOrder, "display": "Prescription Order"}}},
			"focus":          obj{"identifier": obj{"system": sysShortFormID, "value": p.ShortFormID}},
			"for":            obj{"identifier": obj{"system": sysNHSNumber, "value": p.NHSNumber}},
			"authoredOn":     fhirTime(p.Created),
			"lastModified":   fhirTime(p.Updated),
			"input":          inputs,
			"output":         outputs,
		}
		var exts []any
		if course, ok := courseDisplay(p.CourseOfTherapy); ok {
			exts = append(exts, obj{"url": extEPSPrescription, "extension": []any{obj{"url": "courseOfTherapyType",
				"valueCoding": obj{"system": sysCourseOfTherapy, "code": p.CourseOfTherapy, "display": course}}}})
		}
		if p.TotalIssues > 1 {
			exts = append(exts, obj{"url": extRepeatInfo, "extension": []any{
				obj{"url": "numberOfRepeatsAllowed", "valueInteger": p.TotalIssues},
				obj{"url": "numberOfRepeatsIssued", "valueInteger": max(p.CurrentIssue, 1)},
			}})
		}
		if len(exts) > 0 {
			t["extension"] = exts
		}
		if p.Prescriber != "" {
			req := obj{"identifier": obj{"system": sysODS, "value": p.Prescriber}}
			if p.PrescriberName != "" {
				req["display"] = p.PrescriberName
			}
			t["requester"] = req
		}
		if owner := p.Dispenser; owner != "" || p.Nominated != "" {
			if owner == "" {
				owner = p.Nominated
			}
			t["owner"] = obj{"identifier": obj{"system": sysODS, "value": owner}}
		}
		entries = append(entries, obj{"fullUrl": refPrefixUUID + p.TaskID, "search": obj{"mode": "match"}, "resource": t})
	}
	return mustJSON(searchset(entries, now, newID, ""))
}

// courseDisplay is the display EPS gives a course of therapy code.
func courseDisplay(code string) (string, bool) {
	switch code {
	case "acute":
		return "Short course (acute) therapy", true
	case "continuous":
		return "Continuous long term therapy", true
	case "continuous-repeat-dispensing":
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
	return mustJSON(obj{"resourceType": "Parameters", "parameter": []any{
		obj{"name": "digest", "valueString": r.Digest},
		obj{"name": "timestamp", "valueString": r.Timestamp},
		obj{"name": "algorithm", "valueString": r.Algorithm},
	}})
}

// capabilityStatement is the GET metadata answer, wrapped as EPS wraps it.
func capabilityStatement() []byte {
	op := func(name, def string) obj { return obj{"name": name, "definition": def} }
	msg := func(def string) obj {
		return obj{"mode": "receiver", "definition": "https://fhir.nhs.uk/MessageDefinition/" + def}
	}
	return mustJSON(obj{"capabilityStatement": obj{
		"resourceType": "CapabilityStatement",
		"id":           "porxgate-eps-simulator",
		"name":         "EPS FHIR API (porxgate simulator)",
		"status":       "active",
		"date":         "2025-01-01T00:00:00+00:00",
		"publisher":    "porxgate",
		"kind":         "instance",
		"fhirVersion":  "4.0.1",
		"format":       []any{"application/fhir+json"},
		"software":     obj{"name": "porxgate EPS simulator"},
		"rest": []any{obj{
			"mode": "server",
			"resource": []any{obj{"type": "Bundle"}, obj{"type": "MedicationRequest"}, obj{"type": "MedicationDispense"},
				obj{"type": "Task"}, obj{"type": "Claim"}},
			"operation": []any{
				op("process-message", "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"),
				op("prepare", "https://fhir.nhs.uk/OperationDefinition/MessageHeader-prepare-message"),
				op("release", "https://fhir.nhs.uk/OperationDefinition/Task-release-message"),
			},
		}},
		"messaging": []any{obj{"supportedMessage": []any{
			msg("prescription-order"), msg("prescription-order-update"), msg("dispense-notification"),
			msg("dispense-claim"), msg("dispense-claim-update"),
		}}},
	}})
}
