package sim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// The EPS API's own validation, as the simulator models it: the checks
// its coordinator makes of a request before it reaches Spine
// (services/validation), and the refusals of its translation of what it
// cannot write as v3, each answered as EPS answers it; and the issue a
// Claim is for. Decoding of what passes lives in fhir_decode.go.

const (
	// Code systems of a Task's code and of a withdrawal's and a return's
	// statusReason, as the EPS API checks them (task-validator.ts).
	codeSystemTaskCode       = "http://hl7.org/fhir/CodeSystem/task-code"
	codeSystemWithdrawReason = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason"
	codeSystemReturnReason   = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-return-status-reason"
	// codeSystemSpineErrorR4 is the system the EPS API codes its own
	// translation errors in (processing-errors.ts,
	// toOperationOutcomeFatal): Spine-ErrorOrWarningCode under /R4/, not
	// the fhir.CodeSystemSpineErrorOrWarning it passes Spine's errors in.
	codeSystemSpineErrorR4 = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
)

// validationRefusal is a request the EPS API's own checks refuse before
// it reaches Spine: answered with HTTP 400 and these issues.
type validationRefusal struct {
	issues []fhir.Issue
}

// refusalStatus is the HTTP status EPS answers a refusal of these issues
// with: 500 for its failure (serverErrorIssue), else 400.
func refusalStatus(issues []fhir.Issue) int {
	if len(issues) == 1 && issues[0].Code == "exception" {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// serverErrorIssue is the EPS API's answer, with HTTP 500, to a request
// it fails on unhandled, as it does reading a field it takes for granted
// that is missing (server-extensions.ts, fatalResponse).
func serverErrorIssue() fhir.Issue {
	return codedIssue("fatal", "exception", "https://fhir.nhs.uk/CodeSystem/http-error-codes", "SERVER_ERROR",
		"500: The Server has encountered an error processing the request.")
}

// serverError is a refusal EPS answers with HTTP 500 (serverErrorIssue).
func serverError() *validationRefusal {
	return &validationRefusal{issues: []fhir.Issue{serverErrorIssue()}}
}

// Error implements error: the issues' diagnostics (else their coding's
// display).
func (v *validationRefusal) Error() string {
	msgs := make([]string, 0, len(v.issues))
	for _, is := range v.issues {
		msg := is.Diagnostics
		if msg == "" && is.Details != nil && len(is.Details.Coding) > 0 {
			msg = is.Details.Coding[0].Display
		}
		msgs = append(msgs, msg)
	}
	return strings.Join(msgs, " ")
}

// valueIssue is an issue of code value, as the EPS API's validation
// errors are written (validation-errors.ts).
func valueIssue(diagnostics, expression string) fhir.Issue {
	return fhir.Issue{Severity: "error", Code: "value", Diagnostics: diagnostics, Expression: []string{expression}}
}

// messageRefusal is what the EPS API refuses of a $process-message
// Bundle before it reaches Spine: an event it does not take, what its
// checks throw or fail on (roleIdentifierIssue, a MedicationDispense
// without performer, courseOfTherapyIssue), its own
// checks (messageIssues), else what its translation cannot write as v3
// (translationIssue). EPS answers
// either with HTTP 400 and these issues, and the message changes
// nothing. None: it passes.
func messageRefusal(m *message) []fhir.Issue {
	switch m.event {
	case fhir.EventPrescriptionOrder, fhir.EventPrescriptionOrderUpdate, fhir.EventDispenseNotification:
	default:
		// EPS checks the event first and answers nothing else
		// (bundle-validator.ts, verifyBundle; messageTypeIssue).
		return []fhir.Issue{{Severity: "fatal", Code: "value",
			Diagnostics: "MessageHeader.eventCoding.code must be one of: " + fhir.EventPrescriptionOrder + ", " +
				fhir.EventPrescriptionOrderUpdate + ", " + fhir.EventDispenseNotification + ".",
			Expression: []string{"Bundle.entry.resource.ofType(MessageHeader).eventCoding.code"}}}
	}
	if is := roleIdentifierIssue(m); is != nil {
		return []fhir.Issue{*is}
	}
	if m.event == fhir.EventDispenseNotification && slices.ContainsFunc(fhir.EntriesOf[*fhir.MedicationDispense](m.bundle),
		func(md *fhir.MedicationDispense) bool { return md.Performer == nil }) {
		// EPS reads every performer list unchecked (verifyDispenseBundle,
		// m.performer.map): it fails on a MedicationDispense without one.
		return []fhir.Issue{serverErrorIssue()}
	}
	if m.event == fhir.EventPrescriptionOrder {
		if is := courseOfTherapyIssue(m); is != nil {
			return []fhir.Issue{*is}
		}
	}
	if issues := messageIssues(m); len(issues) > 0 {
		return issues
	}
	if is := translationIssue(m); is != nil {
		return []fhir.Issue{*is}
	}
	return nil
}

// messageIssues are the EPS API's own checks of a $process-message Bundle
// of an event it takes, made before it reaches Spine (bundle-validator.ts,
// verifyBundle), in its order: the common ones (medicationRequestIssues,
// telecomIssues, roleReferenceIssues), then those of a prescription-order
// (prescriptionIssues), a prescription-order-update (cancellationIssues)
// or a dispense notification (dispenseIssues). EPS answers them with
// HTTP 400 and these issues, and the message changes nothing.
func messageIssues(m *message) []fhir.Issue {
	common := append(medicationRequestIssues(m), telecomIssues(m)...)
	common = append(common, roleReferenceIssues(m)...)
	switch m.event {
	case fhir.EventPrescriptionOrder:
		return append(common, prescriptionIssues(m)...)
	case fhir.EventPrescriptionOrderUpdate:
		return append(common, cancellationIssues(m)...)
	case fhir.EventDispenseNotification:
		return append(common, dispenseIssues(m)...)
	}
	return common
}

// Extensions the EPS API reads of a dispense notification.
const (
	extEPSRepeatInformation      = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"
	extOrganisationRelationships = "https://fhir.nhs.uk/StructureDefinition/Extension-ODS-OrganisationRelationships"
	extPrescriptionNonDispensing = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionNonDispensingReason"
	subExtReimbursementAuthority = "reimbursementAuthority"
	mdPath                       = "Bundle.entry.resource.ofType(MedicationDispense)"
)

// dispenseIssues are the EPS API's own checks of a dispense notification
// after its common ones, in its order (bundle-validator.ts,
// verifyDispenseBundle; validation-errors.ts for the wording): the
// MedicationDispenses agree on whenHandedOver, the patient's NHS number
// and the repeat information, and name one performer, each at least
// one; none names its medicine both ways; the performer's contained
// PractitionerRole names its Practitioner by identifier, not by
// reference; and the dispensing Organization (the role's organization,
// a Bundle entry) carries the Extension-ODS-OrganisationRelationships
// with its reimbursementAuthority, the ODS code of the body that pays
// the pharmacy ("The dispense notification is missing the reimbursement
// authority and it should be provided.", code invalid).
func dispenseIssues(m *message) []fhir.Issue {
	mds := fhir.EntriesOf[*fhir.MedicationDispense](m.bundle)
	if len(mds) == 0 {
		return nil
	}
	out := consistencyIssues(m, "MedicationDispense", []string{
		"whenHandedOver",
		"subject.identifier.value",
		`extension("` + extEPSRepeatInformation + `")`,
	})
	if is := pathIssue(m, "MedicationDispense", "performer", "performer.actor"); is != nil {
		out = append(out, *is)
	}
	if slices.ContainsFunc(mds, func(md *fhir.MedicationDispense) bool { return len(md.Performer) == 0 }) { // performer: []
		out = append(out, valueIssue("Expected MedicationDispense to have a value for performer.ofType(PractitionerRole).",
			mdPath+".performer.ofType(PractitionerRole)"))
	}
	if slices.ContainsFunc(mds, func(md *fhir.MedicationDispense) bool {
		return md.MedicationCodeableConcept != nil && md.MedicationReference != nil
	}) {
		out = append(out, conflictingMedicationIssue("Dispense"))
	}
	if len(mds[0].Performer) == 0 {
		return out
	}
	role := containedRole(mds[0].Contained, mds[0].Performer[0].Actor.Reference)
	if role == nil {
		return out
	}
	if role.Practitioner != nil && role.Practitioner.Reference != "" {
		out = append(out, referenceNotWantedIssue(`Bundle.entry("PractitionerRole").practitioner`))
	}
	if role.Organization == nil || role.Organization.Reference == "" {
		return out
	}
	org, ok := m.resolve(role.Organization.Reference).(*fhir.Organization)
	if !ok {
		return out
	}
	invalid := func(diagnostics string) fhir.Issue {
		return fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: diagnostics}
	}
	rel := fhir.FindExtension(org.Extension, extOrganisationRelationships)
	switch {
	case rel == nil:
		out = append(out, invalid("The dispense notification is missing the reimbursement authority and it should be provided."))
	case fhir.FindExtension(rel.Extension, subExtReimbursementAuthority) == nil:
		out = append(out, invalid("The dispense notification is missing the ODS code for reimbursement authority and it should be provided."))
	}
	return out
}

// containedRole is the contained PractitionerRole a reference "#id"
// names, nil when there is none.
func containedRole(contained fhir.ResourceList, ref string) *fhir.PractitionerRole {
	id, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	for _, r := range contained {
		if role, ok := r.(*fhir.PractitionerRole); ok && role.ID == id {
			return role
		}
	}
	return nil
}

// referenceNotWantedIssue is the EPS API's issue for a field it wants as
// an identifier and display given as a reference
// (validation-errors.ts, fieldIsReferenceButShouldNotBe).
func referenceNotWantedIssue(path string) fhir.Issue {
	return fhir.Issue{Severity: "error", Code: "invalid",
		Diagnostics: path + " populated incorrectly. Please populate with Identifier and Display."}
}

// nonDispensingReasonIssue is the EPS API's refusal of a dispense
// notification every MedicationDispense of which gives a
// prescription non-dispensing reason, not all the same: its translation
// writes one for the whole (dispense-notification.ts,
// createSupplyHeaderPertinentInformation2) and throws an
// InconsistentValuesError, answered as one issue of severity error, code
// invalid, coded INVALID_VALUE under Spine-ErrorOrWarningCode (not /R4/),
// as the corpus's 3-Process-Response-Dispense-400_Invalid_Value. nil
// when it translates.
func nonDispensingReasonIssue(m *message) *fhir.Issue {
	mds := fhir.EntriesOf[*fhir.MedicationDispense](m.bundle)
	codes := map[string]bool{}
	for _, md := range mds {
		x := fhir.FindExtension(md.Extension, extPrescriptionNonDispensing)
		if x == nil {
			return nil
		}
		code := ""
		if x.ValueCoding != nil {
			code = x.ValueCoding.Code
		}
		codes[code] = true
	}
	if len(codes) < 2 {
		return nil
	}
	const field = "MedicationDispense.extension:prescriptionNonDispensingReason"
	return &fhir.Issue{Severity: "error", Code: "invalid",
		Details:     &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID_VALUE"}}},
		Diagnostics: "Expected all MedicationDispenses to have the same value for " + field,
		Expression:  []string{field}}
}

// roleReferenceIssues are the EPS API's checks of how each
// PractitionerRole entry of a $process-message Bundle names what it
// relates to, after its telecoms' (bundle-validator.ts,
// validatePractitionerRole): its practitioner by a reference to a Bundle
// entry, or, for a responsible party's role (one an
// Extension-DM-ResponsiblePractitioner names), by a reference or by an
// identifier but not both; its organization and each healthcareService
// by reference. An issue of code invalid each, "<field> populated
// incorrectly. Please populate with Reference to resource within
// Bundle.", entries in order.
func roleReferenceIssues(m *message) []fhir.Issue {
	responsible := map[string]bool{}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](m.bundle) {
		if x := fhir.FindExtension(mr.Extension, extResponsible); x != nil && x.ValueReference != nil {
			responsible[x.ValueReference.Reference] = true
		}
	}
	var out []fhir.Issue
	for _, e := range m.bundle.Entry {
		role, ok := e.Resource.(*fhir.PractitionerRole)
		if !ok {
			continue
		}
		if pr := role.Practitioner; pr != nil {
			isRef, isID := pr.Reference != "", pr.Identifier != nil
			switch {
			case !responsible[e.FullURL] && !isRef:
				out = append(out, referenceWantedIssue("practitionerRole.practitioner"))
			case responsible[e.FullURL] && isRef == isID:
				out = append(out, fhir.Issue{Severity: "error", Code: "invalid",
					Diagnostics: "Responsible practitioner must be either a reference to a Practitioner resource or an identifier reference."})
			}
		}
		if role.Organization != nil && role.Organization.Reference == "" {
			out = append(out, referenceWantedIssue("practitionerRole.organization"))
		}
		for i, hs := range role.HealthcareService {
			if hs.Reference == "" {
				out = append(out, referenceWantedIssue(fmt.Sprintf("practitionerRole.healthcareService[%d]", i)))
			}
		}
	}
	return out
}

// referenceWantedIssue is the EPS API's issue for a field it wants as a
// reference to a Bundle entry given otherwise (validation-errors.ts,
// fieldIsNotReferenceButShouldBe).
func referenceWantedIssue(path string) fhir.Issue {
	return fhir.Issue{Severity: "error", Code: "invalid",
		Diagnostics: path + " populated incorrectly. Please populate with Reference to resource within Bundle."}
}

// medicationRequestIssues are the EPS API's checks of the
// MedicationRequest entries of every $process-message Bundle
// (bundle-validator.ts, validateMedicationRequests; validation-errors.ts
// for the wording), the first it makes: none may have intent plan or
// reflex-order (an issue of code value, "MedicationRequest.intent must
// be order, original-order or instance-order."), and none may name its
// medicine both by medicationCodeableConcept and by medicationReference
// (an issue of code structure coded CONFLICTING_VALUES). One issue each,
// however many MedicationRequests break it.
func medicationRequestIssues(m *message) []fhir.Issue {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	var out []fhir.Issue
	if slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool { return mr.Intent == "plan" || mr.Intent == "reflex-order" }) {
		out = append(out, valueIssue("MedicationRequest.intent must be order, original-order or instance-order.",
			"Bundle.entry.resource.ofType(MedicationRequest).intent"))
	}
	if slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool {
		return mr.MedicationCodeableConcept != nil && mr.MedicationReference != nil
	}) {
		out = append(out, conflictingMedicationIssue("Request"))
	}
	return out
}

// conflictingMedicationIssue is the EPS API's issue for a
// MedicationRequest or MedicationDispense (resource "Request" or
// "Dispense") naming its medicine both ways (validation-errors.ts,
// createMedicationFieldIssue).
func conflictingMedicationIssue(resource string) fhir.Issue {
	is := codedIssue("error", "structure", codeSystemSpineErrorR4, "CONFLICTING_VALUES",
		"Conflicting values have been specified in different fields")
	is.Diagnostics = "Medication" + resource + " cannot contain both medicationReference and medicationCodeableConcept fields."
	return is
}

// translationIssue is the EPS API's refusal of a message its
// translation to v3 cannot write: the first of its translation errors,
// one issue (processing-errors.ts), the message id (Bundle.identifier,
// one of system rfc4122, getMessageId) first. nil when it translates.
func translationIssue(m *message) *fhir.Issue {
	if id := m.bundle.Identifier; id != nil {
		if is := onlyIdentifierIssue([]fhir.Identifier{*id}, fhir.SystemRFC4122, "Bundle.identifier", true); is != nil {
			return is
		}
	}
	switch m.event {
	case fhir.EventPrescriptionOrder:
		return partiesIssue(m, prescriberTelecomIssue)
	case fhir.EventPrescriptionOrderUpdate:
		return partiesIssue(m, cancelPersonIssue)
	case fhir.EventDispenseNotification:
		if is := dispenseStatusIssue(m); is != nil {
			return is
		}
		return nonDispensingReasonIssue(m)
	}
	return nil
}

// extTaskBusinessStatus is the prescription status a dispense
// notification's first MedicationDispense carries.
const extTaskBusinessStatus = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatus"

// dispenseStatusIssue is the EPS API's refusal of a dispense notification
// its translation cannot write for want of an id or a status it reads
// with onlyElement (dispense-notification.ts), in the order it reads
// them: each MedicationDispense's one prescription-dispense-item-number,
// the first's one Extension-EPS-TaskBusinessStatus (the prescription
// status), each one's one medicationdispense-type coding (its item
// status). One fatal issue (onlyElementIssue); nil when it translates.
func dispenseStatusIssue(m *message) *fhir.Issue {
	mds := fhir.EntriesOf[*fhir.MedicationDispense](m.bundle)
	if len(mds) == 0 {
		return nil
	}
	for _, md := range mds {
		if is := onlyIdentifierIssue(md.Identifier, fhir.SystemDispenseItemID, "MedicationDispense.identifier", true); is != nil {
			return is
		}
	}
	n := 0
	for _, x := range mds[0].Extension {
		if x.URL == extTaskBusinessStatus {
			n++
		}
	}
	if is := onlyElementIssue(mds[0].Extension == nil, n, "url == '"+extTaskBusinessStatus+"'", "MedicationDispense.extension", true); is != nil {
		return is
	}
	for _, md := range mds {
		n, codings := 0, []fhir.Coding(nil)
		if md.Type != nil {
			codings = md.Type.Coding
		}
		for _, c := range codings {
			if c.System == fhir.CodeSystemMedicationDispenseType {
				n++
			}
		}
		if is := onlyElementIssue(false, n, "system == '"+fhir.CodeSystemMedicationDispenseType+"'", "MedicationDispense.type.coding", true); is != nil {
			return is
		}
	}
	return nil
}

// telecomIssues are the EPS API's check of every $process-message
// Bundle's telecoms, made before it reaches Spine (bundle-validator.ts,
// validateTelecoms; getPathedTelecoms): each telecom of an Organization,
// a Practitioner or a PractitionerRole entry (not a contained one) needs a
// value and a use. An issue of code invalid each, "Required field
// bundle.entry[i].resource.telecom[j].value|use is missing.", the
// Organizations' first, then the Practitioners', then the
// PractitionerRoles', as EPS lists them.
func telecomIssues(m *message) []fhir.Issue {
	var out []fhir.Issue
	for _, kind := range [...]string{"Organization", "Practitioner", "PractitionerRole"} {
		for i, e := range m.bundle.Entry {
			var telecoms []fhir.ContactPoint
			switch r := e.Resource.(type) {
			case *fhir.Organization:
				if kind == "Organization" {
					telecoms = r.Telecom
				}
			case *fhir.Practitioner:
				if kind == "Practitioner" {
					telecoms = r.Telecom
				}
			case *fhir.PractitionerRole:
				if kind == "PractitionerRole" {
					telecoms = r.Telecom
				}
			}
			for j, t := range telecoms {
				path := fmt.Sprintf("bundle.entry[%d].resource.telecom[%d]", i, j)
				if t.Value == "" {
					out = append(out, missingFieldIssue(path+".value"))
				}
				if t.Use == "" {
					out = append(out, missingFieldIssue(path+".use"))
				}
			}
		}
	}
	return out
}

// missingFieldIssue is the EPS API's issue for a required field missing
// (validation-errors.ts, missingRequiredField): code invalid, no
// expression.
func missingFieldIssue(path string) fhir.Issue {
	return fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: "Required field " + path + " is missing."}
}

// prescriptionIssues are the EPS API's own checks of a prescription-order
// after its common ones, in its order (bundle-validator.ts,
// verifyPrescriptionBundle; validation-errors.ts for the wording): the
// MedicationRequests agree on what one prescription has once
// (consistencyIssues), the prescriber's organisation (primaryCareIssues),
// the requester's Practitioner carries no gmp-number, a repeat dispensing
// prescription's repeats and periods (repeatDispensingIssues), every
// MedicationRequest is active and has its own line item id, and each has
// its dosage instructions, several of them each with a sequence. The
// course of therapy, which it reads among them, is checked before
// (courseOfTherapyIssue): EPS throws that one.
func prescriptionIssues(m *message) []fhir.Issue {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	if len(mrs) == 0 {
		return nil
	}
	out := consistencyIssues(m, "MedicationRequest", prescriptionConsistentPaths)
	out = append(out, primaryCareIssues(m)...)
	if requesterHasGMP(m, mrs[0]) {
		out = append(out, fhir.Issue{Severity: "error", Code: "value",
			Diagnostics: "Bundle resource Practitioner.identifier expected exactly one professional code from GMC|NMC|GPhC|HCPC|professional-code."})
	}
	if courseOfTherapy(mrs) == courseRepeatDispensing {
		out = append(out, repeatDispensingIssues(m, mrs)...)
	}
	if slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool { return mr.Status != "active" }) {
		out = append(out, valueIssue("MedicationRequest.status must be active.", mrPath+".status"))
	}
	items := map[string]bool{}
	for _, mr := range mrs {
		items[fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID)] = true
	}
	if len(items) != len(mrs) {
		out = append(out, valueIssue("Expected all MedicationRequests to have a different value for identifier.", mrPath+".identifier"))
	}
	for _, mr := range mrs {
		switch {
		case len(mr.DosageInstruction) == 0:
			out = append(out, missingFieldIssue("dosageInstructions"))
		case len(mr.DosageInstruction) > 1 && slices.ContainsFunc(mr.DosageInstruction, func(d fhir.Dosage) bool { return d.Sequence == nil }):
			out = append(out, codedIssue("error", "invalid", "", "MISSING_VALUE",
				"The request contains multiple dosage instruction lines but no corresponding dosage sequence number."))
		}
	}
	return out
}

// mrPath is the EPS API's expression for the MedicationRequests of a
// Bundle.
const mrPath = "Bundle.entry.resource.ofType(MedicationRequest)"

// prescriptionConsistentPaths are what every MedicationRequest of a
// prescription-order must hold alike, as the EPS API checks them
// (verifyPrescriptionBundle's fhirPaths).
var prescriptionConsistentPaths = []string{
	"groupIdentifier",
	"category",
	"authoredOn",
	"subject",
	"requester",
	"dispenseRequest.performer",
	"dispenseRequest.validityPeriod",
	"dispenseRequest.expectedSupplyDuration",
	`dispenseRequest.extension("` + fhir.ExtensionPerformerSiteType + `")`,
	`extension("` + fhir.ExtensionPrescriptionType + `")`,
	`extension("` + extResponsible + `")`,
}

// extUKCoreRepeatInformation is the UK Core repeat information extension
// of a repeat dispensing MedicationRequest.
const extUKCoreRepeatInformation = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"

// repeatDispensingIssues are the EPS API's checks of a repeat dispensing
// prescription (verifyRepeatDispensingPrescription): its
// MedicationRequests agree on numberOfRepeatsAllowed (and on the UK Core
// repeat information, when the first carries it with content), and the
// first has a validityPeriod and an expectedSupplyDuration.
func repeatDispensingIssues(m *message, mrs []*fhir.MedicationRequest) []fhir.Issue {
	paths := []string{"dispenseRequest.numberOfRepeatsAllowed"}
	if x := fhir.FindExtension(mrs[0].Extension, extUKCoreRepeatInformation); x != nil && len(x.Extension) > 0 {
		paths = append(paths, `extension("`+extUKCoreRepeatInformation+`")`)
	}
	out := consistencyIssues(m, "MedicationRequest", paths)
	missing := func(field string) fhir.Issue {
		return valueIssue("Expected MedicationRequest to have a value for "+field+".", mrPath+"."+field)
	}
	if dr := mrs[0].DispenseRequest; dr != nil {
		if dr.ValidityPeriod == nil {
			out = append(out, missing("dispenseRequest.validityPeriod"))
		}
		if dr.ExpectedSupplyDuration == nil {
			out = append(out, missing("dispenseRequest.expectedSupplyDuration"))
		}
	}
	return out
}

// requesterHasGMP reports whether the first MedicationRequest's requester's
// Practitioner (by reference, or the identifier the role names it by)
// carries a gmp-number, which the EPS API refuses: a prescriber is named
// by a professional code (GMC, NMC, GPhC, HCPC).
func requesterHasGMP(m *message, mr *fhir.MedicationRequest) bool {
	if mr.Requester == nil {
		return false
	}
	role, ok := m.resolve(mr.Requester.Reference).(*fhir.PractitionerRole)
	if !ok || role.Practitioner == nil {
		return false
	}
	ids := []fhir.Identifier{}
	if role.Practitioner.Reference != "" {
		if prac, ok := m.resolve(role.Practitioner.Reference).(*fhir.Practitioner); ok {
			ids = prac.Identifier
		}
	} else if role.Practitioner.Identifier != nil {
		ids = append(ids, *role.Practitioner.Identifier)
	}
	return fhir.FindIdentifier(ids, fhir.SystemGMP) != ""
}

// courseAcute is the course of therapy the EPS API takes a mixture of
// acute and continuous items for (course-of-therapy-type.ts).
const courseAcute = "acute"

// courseOfTherapy is the course of therapy the EPS API reads from a
// prescription's MedicationRequests (getCourseOfTherapyTypeCode): the one
// code every coding of them holds, acute for a mixture of acute and
// continuous, else "" (a mixture it refuses, courseOfTherapyIssue).
func courseOfTherapy(mrs []*fhir.MedicationRequest) string {
	codes := map[string]bool{}
	for _, mr := range mrs {
		if mr.CourseOfTherapyType == nil {
			continue
		}
		for _, c := range mr.CourseOfTherapyType.Coding {
			codes[c.Code] = true
		}
	}
	switch {
	case len(codes) == 1:
		for c := range codes {
			return c
		}
	case len(codes) == 2 && codes[courseAcute] && codes[courseContinuous]:
		return courseAcute
	}
	return ""
}

// courseOfTherapyIssue is the EPS API's refusal of a prescription-order
// whose MedicationRequests mix courses of therapy other than acute and
// continuous (course-of-therapy-type.ts): it throws it while checking the
// Bundle, so it is the whole answer, one fatal issue coded INVALID_VALUE,
// as the corpus's 2-Process-Response-Send-400_Invalid_Course_of_Therapy_mixed.
// nil when the course is one, or when a MedicationRequest has none (EPS
// fails otherwise then).
func courseOfTherapyIssue(m *message) *fhir.Issue {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	if len(mrs) == 0 || slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool { return mr.CourseOfTherapyType == nil }) {
		return nil
	}
	if courseOfTherapy(mrs) != "" {
		return nil
	}
	is := codedIssue("fatal", "invalid", codeSystemSpineErrorR4, "INVALID_VALUE",
		"Course of therapy type must either match for all MedicationRequests or be a mixture of '"+courseAcute+"' and '"+courseContinuous+"'.")
	is.Expression = []string{"MedicationRequest.courseOfTherapyType.coding"}
	return &is
}

// primaryCareIssues are the EPS API's checks of a prescription-order's
// prescribing organisation, made before it reaches Spine
// (bundle-validator.ts, verifyPrescriptionBundle and
// checkPrimaryCarePrescriptionResources; validation-errors.ts for the
// wording): for a primary care prescription (an
// Extension-DM-PrescriptionType code beginning 01 on the first
// MedicationRequest) the requester's PractitionerRole must name no
// healthcareService ("Unexpected field of
// practitionerRole.healthcareService.") and the organisation must have a
// partOf, the commissioning organisation a v3 prescription gives as the
// healthCareProviderLicense ("Required field organization.partOf is
// missing."): one issue of code invalid, no expression.
func primaryCareIssues(m *message) []fhir.Issue {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	if len(mrs) == 0 || mrs[0].Requester == nil {
		return nil
	}
	role, ok := m.resolve(mrs[0].Requester.Reference).(*fhir.PractitionerRole)
	if !ok {
		return nil
	}
	invalid := func(diagnostics string) []fhir.Issue {
		return []fhir.Issue{{Severity: "error", Code: "invalid", Diagnostics: diagnostics}}
	}
	if role.Organization == nil {
		return nil // EPS fails otherwise (isReference of undefined)
	}
	if role.Organization.Reference == "" {
		return []fhir.Issue{referenceWantedIssue("practitionerRole.organization")}
	}
	x := fhir.FindExtension(mrs[0].Extension, fhir.ExtensionPrescriptionType)
	if x == nil || x.ValueCoding == nil || !strings.HasPrefix(x.ValueCoding.Code, "01") {
		return nil
	}
	if role.HealthcareService != nil {
		return invalid("Unexpected field of practitionerRole.healthcareService.")
	}
	if org, ok := m.resolve(role.Organization.Reference).(*fhir.Organization); ok && org.PartOf == nil {
		return []fhir.Issue{missingFieldIssue("organization.partOf")}
	}
	return nil
}

// cancellationIssues are the EPS API's own checks of a
// prescription-order-update, made before it reaches Spine
// (bundle-validator.ts, verifyCancellationBundle; validation-errors.ts for
// the wording): exactly one MedicationRequest (EPS cancels one line item a
// message), with status cancelled and a statusReason. EPS answers them
// with HTTP 400 and these issues.
func cancellationIssues(m *message) []fhir.Issue {
	issue := valueIssue
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	var out []fhir.Issue
	if len(mrs) != 1 {
		out = append(out, issue("The Bundle must contain exactly one MedicationRequest if MessageHeader.eventCoding.code is '"+
			fhir.EventPrescriptionOrderUpdate+"'.", mrPath))
	}
	if slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool { return mr.Status != "cancelled" }) {
		out = append(out, issue("MedicationRequest.status must be cancelled.", mrPath+".status"))
	}
	if slices.ContainsFunc(mrs, func(mr *fhir.MedicationRequest) bool { return mr.StatusReason == nil }) {
		out = append(out, issue("Expected MedicationRequest to have a value for statusReason.", mrPath+".statusReason"))
	}
	return out
}

// cancelPersonIssue is the EPS API's refusal of a prescription-order-update
// it cannot translate for want of a person's SDS user id
// (translation/request/cancel/cancellation.ts, getAgentPersonPersonId):
// the party's PractitionerRole, when it
// names a Practitioner, needs that Practitioner to carry exactly one
// identifier of system sds-user-id, which EPS writes as the v3 cancel's
// agentPerson id; a professional code (GMC, NMC...) alone will not do.
// EPS answers the translation error (onlyElement) with HTTP 400 and one
// fatal issue of code invalid, its Spine-ErrorOrWarningCode coding
// TOO_FEW_VALUES_SUBMITTED, TOO_MANY_VALUES_SUBMITTED or (no identifier
// at all) INVALID_VALUE (processing-errors.ts, toOperationOutcomeFatal).
// nil when the person passes.
func cancelPersonIssue(m *message, role *fhir.PractitionerRole) *fhir.Issue {
	if role.Practitioner == nil || role.Practitioner.Reference == "" {
		return nil
	}
	prac, ok := m.resolve(role.Practitioner.Reference).(*fhir.Practitioner)
	if !ok {
		return nil
	}
	return onlyIdentifierIssue(prac.Identifier, fhir.SystemSDSUser, "Practitioner.identifier", true)
}

// onlyIdentifierIssue is the EPS API's refusal of identifiers that do
// not hold exactly one of system where it reads that one
// (translation/common, getIdentifierValueForSystem and onlyElement; with
// required false, getIdentifierValueOrNullForSystem, which takes none): it
// throws, and EPS answers one fatal issue of code invalid, coded
// INVALID_VALUE ("Required field missing.": no identifiers at all),
// TOO_FEW_VALUES_SUBMITTED or TOO_MANY_VALUES_SUBMITTED, at path. nil
// when they pass.
func onlyIdentifierIssue(ids []fhir.Identifier, system, path string, required bool) *fhir.Issue {
	n := 0
	for _, id := range ids {
		if id.System == system {
			n++
		}
	}
	return onlyElementIssue(ids == nil, n, "system == '"+system+"'", path, required)
}

// onlyElementIssue is the EPS API's refusal where it takes exactly one
// element matching what (onlyElement; with required false,
// onlyElementOrNull) of a list (missing: none at all) holding n: the
// fatal issue it answers its throw with, nil when it takes one. An empty
// what is any element (EPS's text then names no condition).
func onlyElementIssue(missing bool, n int, what, path string, required bool) *fhir.Issue {
	where := ""
	if what != "" {
		where = " where " + what
	}
	code, display := "", ""
	switch {
	case missing && required:
		code, display = "INVALID_VALUE", "Required field missing."
	case n == 0 && required:
		code, display = "TOO_FEW_VALUES_SUBMITTED", "Too few values submitted. Expected 1 element"+where+"."
	case n > 1:
		code, display = "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element"+where+"."
	default:
		return nil
	}
	is := codedIssue("fatal", "invalid", codeSystemSpineErrorR4, code, display)
	is.Expression = []string{path}
	return &is
}

// agentIdentifierIssue is the EPS API's refusal of the PractitionerRole a
// release (agent), Task or Claim names its dispenser by, when it reads
// the ids it compares with the access token's (parameters-validator.ts,
// task-validator.ts, claim-validator.ts): a Practitioner named by
// identifier must be named by exactly one sds-user-id, and the role's
// identifiers, when it has any, must hold exactly one
// sds-role-profile-id; else EPS throws (onlyIdentifierIssue). where is
// how EPS names the role in the path ('task.contained("PractitionerRole")'...).
func agentIdentifierIssue(role *fhir.PractitionerRole, where string) *fhir.Issue {
	if pr := role.Practitioner; pr != nil && pr.Reference == "" && pr.Identifier != nil {
		if is := onlyIdentifierIssue([]fhir.Identifier{*pr.Identifier}, fhir.SystemSDSUser, where+".practitioner.identifier", true); is != nil {
			return is
		}
	}
	if role.Identifier != nil {
		return onlyIdentifierIssue(role.Identifier, fhir.SystemSDSRoleProfile, where+".identifier", true)
	}
	return nil
}

// roleIdentifierIssue is the EPS API's refusal of a $process-message
// Bundle's PractitionerRole entries by their ids, in its common checks
// (bundle-validator.ts, validatePractitionerRole): a role with
// identifiers must hold exactly one sds-role-profile-id, and the
// Practitioner a role names by reference at most one sds-user-id; else
// EPS throws (onlyIdentifierIssue). nil when they pass.
func roleIdentifierIssue(m *message) *fhir.Issue {
	for _, role := range fhir.EntriesOf[*fhir.PractitionerRole](m.bundle) {
		if role.Practitioner != nil && role.Practitioner.Reference != "" {
			if prac, ok := m.resolve(role.Practitioner.Reference).(*fhir.Practitioner); ok {
				if is := onlyIdentifierIssue(prac.Identifier, fhir.SystemSDSUser, `Bundle.entry("Practitioner").identifier`, false); is != nil {
					return is
				}
			}
		}
		if role.Identifier != nil {
			if is := onlyIdentifierIssue(role.Identifier, fhir.SystemSDSRoleProfile, `Bundle.entry("PractitionerRole").identifier`, true); is != nil {
				return is
			}
		}
	}
	return nil
}

// partiesIssue is the first refusal of the EPS API's translation of a
// prescription-order's or cancellation's people, in the order it converts
// them (translation/request/practitioner.ts and cancel/cancellation.ts,
// convertAuthor then convertResponsibleParty): the requester's
// PractitionerRole, then the responsible party's (the
// Extension-DM-ResponsiblePractitioner, else the requester), each its
// person first (person), then its represented organisation
// (representedOrganizationIssue). nil when they translate.
func partiesIssue(m *message, person func(*message, *fhir.PractitionerRole) *fhir.Issue) *fhir.Issue {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](m.bundle)
	if len(mrs) == 0 {
		return nil
	}
	for _, ref := range partyRefs(mrs[0]) {
		role, ok := m.resolve(ref).(*fhir.PractitionerRole)
		if !ok {
			continue
		}
		if is := person(m, role); is != nil {
			return is
		}
		if is := representedOrganizationIssue(m, role); is != nil {
			return is
		}
	}
	return nil
}

// prescriberTelecomIssue is the EPS API's refusal of a prescription-order
// it cannot translate for want of a telephone number for its author or
// responsible party (translation/request/practitioner.ts,
// getAgentPersonTelecom): the party's PractitionerRole needs a telecom of
// its own, else of its Practitioner when it names one by reference, else
// of its Organization. EPS answers the translation error with HTTP 400 and
// one fatal issue of code invalid coded TOO_FEW_VALUES_SUBMITTED,
// "ResponsiblePractitioner must have at least one telecom." (for either
// party), at the place it looked last. nil when the role has one.
func prescriberTelecomIssue(m *message, role *fhir.PractitionerRole) *fhir.Issue {
	if role.Telecom != nil {
		return nil
	}
	where := "Organization.telecom"
	if role.Practitioner != nil && role.Practitioner.Reference != "" {
		where = "Practitioner.telecom"
		if prac, ok := m.resolve(role.Practitioner.Reference).(*fhir.Practitioner); ok && prac.Telecom != nil {
			return nil
		}
	} else if role.Organization != nil {
		if org, ok := m.resolve(role.Organization.Reference).(*fhir.Organization); ok && org.Telecom != nil {
			return nil
		}
	}
	is := codedIssue("fatal", "invalid", codeSystemSpineErrorR4, "TOO_FEW_VALUES_SUBMITTED",
		"ResponsiblePractitioner must have at least one telecom.")
	is.Expression = []string{where}
	return &is
}

// representedOrganizationIssue is the EPS API's refusal of a party's
// organisation its translation cannot write as the v3 AgentPerson's
// representedOrganization (translation/request/organization.ts,
// convertRepresentedOrganizationDetails): the role's HealthcareService,
// else its Organization, must hold exactly one telecom, and an
// Organization exactly one address (onlyElement); an organisation or
// service named by identifier takes the role's telecoms, and its
// locations' addresses (common/index.ts, resolveOrganization and
// resolveHealthcareService). EPS answers with HTTP 400 and one fatal issue
// of code invalid coded INVALID_VALUE "Required field missing." (none),
// TOO_FEW_VALUES_SUBMITTED or TOO_MANY_VALUES_SUBMITTED ("Too many values
// submitted. Expected 1 element."), at Organization.telecom,
// HealthcareService.telecom or Organization.address. nil when it passes,
// or when the organisation is not in the Bundle (refused elsewhere).
func representedOrganizationIssue(m *message, role *fhir.PractitionerRole) *fhir.Issue {
	if len(role.HealthcareService) > 0 {
		telecoms := role.Telecom
		if ref := role.HealthcareService[0].Reference; ref != "" {
			hs, ok := m.resolve(ref).(*fhir.HealthcareService)
			if !ok {
				return nil
			}
			telecoms = hs.Telecom
		}
		return onlyElementIssue(telecoms == nil, len(telecoms), "", "HealthcareService.telecom", true)
	}
	if role.Organization == nil {
		return nil
	}
	telecoms, addresses, noAddress := role.Telecom, len(role.Location), role.Location == nil
	if ref := role.Organization.Reference; ref != "" {
		org, ok := m.resolve(ref).(*fhir.Organization)
		if !ok {
			return nil
		}
		telecoms, addresses, noAddress = org.Telecom, len(org.Address), org.Address == nil
	}
	if is := onlyElementIssue(telecoms == nil, len(telecoms), "", "Organization.telecom", true); is != nil {
		return is
	}
	if noAddress && role.Organization.Reference == "" {
		return nil // EPS maps the role's locations unchecked: it fails (500) without any, not modelled here
	}
	return onlyElementIssue(noAddress, addresses, "", "Organization.address", true)
}

// partyRefs are the references of a MedicationRequest's author and
// responsible party as the EPS API's translation takes them: the
// requester, then the Extension-DM-ResponsiblePractitioner, else the
// requester again.
func partyRefs(mr *fhir.MedicationRequest) []string {
	var refs []string
	if mr.Requester != nil {
		refs = append(refs, mr.Requester.Reference)
	}
	if x := fhir.FindExtension(mr.Extension, extResponsible); x != nil && x.ValueReference != nil {
		refs = append(refs, x.ValueReference.Reference)
	} else if mr.Requester != nil {
		refs = append(refs, mr.Requester.Reference)
	}
	return refs
}

// taskIssues are the EPS API's own checks of a Task, made before it
// reaches Spine (task-validator.ts, verifyTask; validation-errors.ts for
// the wording): intent order; a requester that is a reference to a
// contained PractitionerRole (else EPS throws, and that fatal issue is
// the whole answer; without a requester at all it fails, HTTP 500, which
// decodeTask answers), which names its Practitioner by identifier, not by
// reference; status in-progress (a withdrawal: code abort, a
// statusReason in the withdrawal reasons) or rejected (a return: a
// statusReason in the return reasons).
func taskIssues(t *fhir.Task) []fhir.Issue {
	incorrect := func(field string, allowed ...string) fhir.Issue {
		return valueIssue("Task."+field+" must be one of: '"+strings.Join(allowed, "', '")+"'.", "Task."+field)
	}
	reason := func(system string) []fhir.Issue {
		if fhir.FindCoding(t.StatusReason, system) != nil {
			return nil
		}
		return []fhir.Issue{valueIssue("Task.reasonCode must have a system of '"+system+"' and a value from that system.", "Task.reasonCode")}
	}
	var out []fhir.Issue
	if t.Intent != "order" {
		out = append(out, incorrect("intent", "order"))
	}
	if t.Requester == nil || t.Requester.Reference == "" {
		return []fhir.Issue{translationFatal("task.requester should be a reference to contained.practitionerRole", "task.requester")}
	}
	role := containedRole(t.Contained, t.Requester.Reference)
	if role == nil {
		return []fhir.Issue{translationFatal("Contained resource with reference "+t.Requester.Reference+" not found", "")}
	}
	if is := agentIdentifierIssue(role, `task.contained("PractitionerRole")`); is != nil {
		return []fhir.Issue{*is}
	}
	if role.Practitioner != nil && role.Practitioner.Reference != "" {
		out = append(out, referenceNotWantedIssue(`Task.contained("PractitionerRole").practitioner`))
	}
	switch t.Status {
	case "in-progress":
		if t.Code == nil {
			out = append(out, valueIssue("Task.code is required when Task.status is 'in-progress'.", "Task.code"))
		} else if c := fhir.FindCoding(t.Code, codeSystemTaskCode); c == nil || c.Code != taskCodeAbort {
			out = append(out, incorrect("code.coding.code", taskCodeAbort))
		}
		out = append(out, reason(codeSystemWithdrawReason)...)
	case eventTaskRejected:
		out = append(out, reason(codeSystemReturnReason)...)
	default:
		out = append(out, incorrect("status", "in-progress", eventTaskRejected))
	}
	return out
}

// Reimbursement authorities the EPS API lets a claim name
// (claim-validator.ts): the NHS Business Services Authority and NHS
// Wales Shared Services Partnership.
var claimAuthorities = []string{"T1450", "RQFZ1"}

// codeSystemEndorsement is the system of a claim line item's
// endorsement programCode.
const codeSystemEndorsement = "https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement"

// claimIssues are the EPS API's own checks of a Claim, made before it
// reaches Spine, in its order (claim-validator.ts, verifyClaim;
// validation-errors.ts for the wording): exactly one insurance, naming
// a reimbursement authority EPS knows (T1450 or RQFZ1); the provider's
// contained PractitionerRole naming its Practitioner by identifier, not
// by reference; and an endorsement code on the first line item that has
// programCodes (the first item's; "The claim is missing the required
// endorsement code.").
func claimIssues(c *fhir.Claim) []fhir.Issue {
	var out []fhir.Issue
	switch n := len(c.Insurance); {
	case n != 1:
		out = append(out, fhir.Issue{Severity: "error", Code: "invalid",
			Diagnostics: fmt.Sprintf("Expected 1 item(s) in Claim.insurance, but received %d.", n)})
	case c.Insurance[0].Coverage.Identifier == nil || !slices.Contains(claimAuthorities, c.Insurance[0].Coverage.Identifier.Value):
		const field = "insurance[0].coverage.identifier.value"
		out = append(out, valueIssue("Claim."+field+" must be one of: '"+strings.Join(claimAuthorities, "', '")+"'.", "Claim."+field))
	}
	if c.Provider != nil {
		if role := containedRole(c.Contained, c.Provider.Reference); role != nil {
			if is := agentIdentifierIssue(role, `claim.contained("PractitionerRole")`); is != nil {
				return []fhir.Issue{*is}
			}
			if role.Practitioner != nil && role.Practitioner.Reference != "" {
				out = append(out, referenceNotWantedIssue(`Parameters.parameter("agent").resource.practitioner`))
			}
		}
	}
	if !endorsed(c) {
		out = append(out, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: "The claim is missing the required endorsement code."})
	}
	return out
}

// endorsed reports whether a Claim carries an endorsement as the EPS API
// looks for one (dispense-claim.ts, medicationDispenseEndorsementPresent):
// among the first item's line items, the first with programCodes must
// have one in the endorsement system.
func endorsed(c *fhir.Claim) bool {
	if len(c.Item) == 0 {
		return false
	}
	for _, d := range c.Item[0].Detail {
		if len(d.ProgramCode) > 0 {
			return slices.ContainsFunc(d.ProgramCode, func(cc fhir.CodeableConcept) bool {
				return fhir.FindCoding(&cc, codeSystemEndorsement) != nil
			})
		}
	}
	return false
}

// taskTranslationIssue is the EPS API's refusal of a Task that passes
// its checks but that its translation cannot write (withdraw.ts,
// return.ts): the message id (Task.identifier) one of system rfc4122; a
// withdrawal's requester role must name its organisation by a reference
// to a contained Organization (EPS fails, HTTP 500, on a role naming
// none: decodeTask), a return's, when it names one by reference,
// likewise (the organisation is the v3 author's
// representedOrganization); a withdrawal names the notification it
// withdraws by an rfc4122 identifier (Task.focus.identifier). nil when it
// translates.
func taskTranslationIssue(t *fhir.Task) *fhir.Issue {
	if is := onlyIdentifierIssue(t.Identifier, fhir.SystemRFC4122, "Task.identifier", true); is != nil {
		return is
	}
	role := containedRole(t.Contained, t.Requester.Reference)
	withdraw := t.Status == "in-progress"
	if role.Organization == nil || role.Organization.Reference == "" {
		if !withdraw {
			return nil
		}
		is := translationFatal("practitionerRole.organization should be a Reference", `task.contained("PractitionerRole").organization`)
		return &is
	}
	id, _ := strings.CutPrefix(role.Organization.Reference, "#")
	if !slices.ContainsFunc(t.Contained, func(r fhir.Resource) bool {
		o, ok := r.(*fhir.Organization)
		return ok && o.ID == id
	}) {
		is := translationFatal("Contained resource with reference "+role.Organization.Reference+" not found", "")
		return &is
	}
	if withdraw && t.Focus != nil && t.Focus.Identifier != nil {
		return onlyIdentifierIssue([]fhir.Identifier{*t.Focus.Identifier}, fhir.SystemRFC4122, "Task.focus.identifier", true)
	}
	return nil
}

// translationFatal is the EPS API's answer to a FHIR request its
// translation cannot write (processing-errors.ts, InvalidValueError and
// toOperationOutcomeFatal): one fatal issue of code invalid coded
// INVALID_VALUE, its display saying what, at expression (none when EPS
// names no place).
func translationFatal(display, expression string) fhir.Issue {
	is := codedIssue("fatal", "invalid", codeSystemSpineErrorR4, "INVALID_VALUE", display)
	if expression != "" {
		is.Expression = []string{expression}
	}
	return is
}

// claimIssue is the issue a claim is for: Extension-EPS-RepeatInformation's
// numberOfRepeatsIssued plus one, on a claim item or (as older senders
// write it) its first detail; 0 when no item says.
func claimIssue(c *fhir.Claim) int {
	for _, it := range c.Item {
		exts := [][]fhir.Extension{it.Extension}
		if len(it.Detail) > 0 {
			exts = append(exts, it.Detail[0].Extension)
		}
		for _, e := range exts {
			x := fhir.FindExtension(e, fhir.ExtensionRepeatInformation)
			if x == nil {
				continue
			}
			sub := fhir.FindExtension(x.Extension, "numberOfRepeatsIssued")
			if sub == nil {
				continue
			}
			num := sub.ValueUnsignedInt
			if num == nil {
				num = sub.ValueInteger
			}
			if num == nil {
				continue
			}
			if n, err := strconv.Atoi(string(*num)); err == nil && n >= 0 {
				return n + 1
			}
		}
	}
	return 0
}
