package tracker

import "github.com/porxgate/porxgate/mapping/core"

// The tracker's code tables: Spine writes statuses and treatment types as
// text; EPS FHIR writes codes. Each table is the one the EPS API's tracker
// translation uses, read in both directions.

// trackerStatus is one prescription status: its EPS-task-business-status
// code, Spine's wording and the Task.status EPS gives it.
type trackerStatus struct {
	code, text, taskStatus string
}

// trackerStatusFutureRepeat is the status of a repeat dispensing issue
// that has not begun (Repeat Dispense future instance): the status of the
// later issues, which EPS's Task (the current issue) does not carry.
const trackerStatusFutureRepeat = "9000"

// trackerStatuses lists the prescription statuses the tracker reports
// (0000, 0008, 0009 and the 900x future-instance states included).
var trackerStatuses = [...]trackerStatus{
	{"0000", "Awaiting Release Ready", "requested"},
	{"0001", "To Be Dispensed", "requested"},
	{"0002", "With Dispenser", "accepted"},
	{"0003", "With Dispenser - Active", "in-progress"},
	{"0004", "Expired", "failed"},
	{"0005", "Cancelled", "cancelled"},
	{"0006", "Dispensed", "completed"},
	{"0007", "Not Dispensed", "completed"},
	{"0008", "Claimed", "completed"},
	{"0009", "No-Claimed", "completed"},
	{"9000", "Repeat Dispense future instance", "requested"},
	{"9001", "Prescription future instance", "requested"},
	{"9005", "Cancelled future instance", "cancelled"},
}

// trackerStatusByText finds a prescription status by Spine's wording.
func trackerStatusByText(text string) (trackerStatus, bool) {
	for _, s := range trackerStatuses {
		if s.text == text {
			return s, true
		}
	}
	return trackerStatus{}, false
}

// trackerStatusByCode finds a prescription status by its code.
func trackerStatusByCode(code string) (trackerStatus, bool) {
	for _, s := range trackerStatuses {
		if s.code == code {
			return s, true
		}
	}
	return trackerStatus{}, false
}

// trackerItemStatuses maps a line item status (medicationdispense-type) to
// Spine's wording: text in an NHS111 detail answer, trace in the
// documented tracker's statusText (Spine's own item display names).
var trackerItemStatuses = [...]struct{ code, text, trace string }{
	{"0001", "Dispensed", "Item fully dispensed"},
	{"0002", "Not Dispensed", "Item not dispensed"},
	{"0003", "Dispensed - Partial", "Item dispensed - partial"},
	{"0004", "Not Dispensed - Owing", "Item not dispensed owing"},
	{"0005", "Cancelled", "Item Cancelled"},
	{"0006", "Expired", "Expired"},
	{"0007", "To be Dispensed", "To Be Dispensed"},
	{"0008", "With Dispenser", "Item with dispenser"},
}

// trackerItemTrace is the documented tracker's statusText of a line item
// status code.
func trackerItemTrace(code string) (string, bool) {
	for _, s := range trackerItemStatuses {
		if s.code == code {
			return s.trace, true
		}
	}
	return "", false
}

// trackerItemCodeOfTrace finds a line item status code by its
// documented-tracker statusText.
func trackerItemCodeOfTrace(text string) (string, bool) {
	for _, s := range trackerItemStatuses {
		if s.trace == text {
			return s.code, true
		}
	}
	return "", false
}

func trackerItemCode(text string) (string, bool) {
	for _, s := range trackerItemStatuses {
		if s.text == text {
			return s.code, true
		}
	}
	return "", false
}

func trackerItemText(code string) (string, bool) {
	for _, s := range trackerItemStatuses {
		if s.code == code {
			return s.text, true
		}
	}
	return "", false
}

// trackerTreatment is one prescription treatment type: Spine's wording, the
// FHIR course of therapy and its display, and Spine's code (the documented
// tracker's prescriptionTreatmentTypeCode).
type trackerTreatment struct {
	text, course, display, code string
}

var trackerTreatments = [...]trackerTreatment{
	{"Acute Prescription", core.CourseAcute, "Short course (acute) therapy", "0001"},
	{"Repeat Prescribing", core.CourseContinuous, "Continuous long term therapy", "0002"},
	{"Repeat Dispensing", core.CourseContinuousRepeatDispense, "Continuous long term (repeat dispensing)", "0003"},
}

// trackerTreatmentByCode finds a treatment type by Spine's code.
func trackerTreatmentByCode(code string) (trackerTreatment, bool) {
	for _, t := range trackerTreatments {
		if t.code == code {
			return t, true
		}
	}
	return trackerTreatment{}, false
}

// trackerTreatmentAliases are other wordings Spine's documentation shows
// for the same treatment types; they keep their text in
// ExtensionTrackerPrescription.
var trackerTreatmentAliases = [...]struct{ text, course string }{
	{"Acute Prescribing", core.CourseAcute},
	{"Repeat Prescribing Prescription", core.CourseContinuous},
	{"Repeat Dispensing Prescription", core.CourseContinuousRepeatDispense},
}

// trackerTreatmentByText finds a treatment type by Spine's wording;
// canonical is false for an alias.
func trackerTreatmentByText(text string) (t trackerTreatment, canonical, ok bool) {
	for _, t := range trackerTreatments {
		if t.text == text {
			return t, true, true
		}
	}
	for _, a := range trackerTreatmentAliases {
		if a.text == text {
			t, _ := trackerTreatmentByCourse(a.course)
			return t, false, true
		}
	}
	return trackerTreatment{}, false, false
}

// trackerRepeatDispensing reports whether Spine's treatment type text is
// repeat dispensing, the only treatment whose later issues Spine holds
// before they begin.
func trackerRepeatDispensing(text string) bool {
	t, _, ok := trackerTreatmentByText(text)
	return ok && t.course == core.CourseContinuousRepeatDispense
}

func trackerTreatmentByCourse(course string) (trackerTreatment, bool) {
	for _, t := range trackerTreatments {
		if t.course == course {
			return t, true
		}
	}
	return trackerTreatment{}, false
}

// trackerStatusByReason maps Spine's reasons back to their status codes,
// for tracker errors that reach porxgate as an EPS OperationOutcome without
// porxgate's status coding (the EPS API keeps only the reason).
func trackerStatusByReason(reason string) (string, bool) {
	switch reason {
	case TrackerReasonNoMatch, TrackerReasonNotFound:
		return TrackerStatusNoMatch, true
	case TrackerReasonNotUnique:
		return TrackerStatusNotUnique, true
	case TrackerReasonIssueNotFound:
		return TrackerStatusIssueNotFound, true
	case TrackerReasonUnparseable:
		return TrackerStatusUnparseable, true
	case TrackerReasonUnexpected:
		return TrackerStatusUnexpected, true
	case TrackerReasonPrescriptionMissing:
		return TrackerStatusPrescriptionMissing, true
	case TrackerReasonInstanceMissing:
		return TrackerStatusInstanceMissing, true
	case TrackerReasonNoParameters:
		return TrackerStatusNoParameters, true
	case TrackerReasonBadPrescriptionID:
		return TrackerStatusBadPrescriptionID, true
	case TrackerReasonBadVersion:
		return TrackerStatusBadVersion, true
	case TrackerReasonBadDate:
		return TrackerStatusBadDate, true
	case TrackerReasonBadState:
		return TrackerStatusBadState, true
	case TrackerReasonBadRxVersion:
		return TrackerStatusBadRxVersion, true
	case TrackerReasonBadNHSNumber:
		return TrackerStatusBadNHSNumber, true
	}
	return "", false
}

// trackerIssueCode is the OperationOutcome issue code of a tracker status.
func trackerIssueCode(status string) string {
	switch status {
	case TrackerStatusNoMatch, TrackerStatusIssueNotFound, TrackerStatusPrescriptionMissing, "7", TrackerStatusInstanceMissing:
		return "not-found"
	case TrackerStatusUnexpected:
		return "exception"
	}
	return "invalid"
}
