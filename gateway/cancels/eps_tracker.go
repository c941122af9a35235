package cancels

import (
	"errors"
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// extDispensingInformation carries a line item's dispense status in an EPS
// tracker Task input.
const extDispensingInformation = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation"

// Cancellation response codes (…17.19) a pending cancellation resolves with.
const (
	cancelCodeCancelled    = "0001"
	cancelCodeDispensed    = "0004"
	cancelCodeExpired      = "0005"
	cancelCodeNotDispensed = "0010"
	// cancelCodeNotFound is the Cancel Response's "Prescription/item not
	// found": for a prescription that had not reached EPS, a cancellation
	// Spine keeps and carries out when the prescription comes.
	cancelCodeNotFound = "0008"
)

// settledCode says what a line item's status (medicationdispense-type)
// means for a cancellation pending on it: the …17.19 code of the
// Subsequent Cancel Response, or ok false while the item is still with the
// dispenser (with dispenser, partially dispensed, owing, or to be
// dispensed). A partly dispensed item is still with the dispenser, as
// Spine holds it (eps-spine-shared statuses.py: ITEM_WITH_DISPENSER_STATES
// is with dispenser and partial dispensed; a cancel of one is answered
// "with dispenser active, marked for cancellation"): its cancellation
// stays pending until the item settles (a partial item that expires
// becomes fully dispensed: 0004).
func settledCode(itemStatus string) (code string, ok bool) {
	switch itemStatus {
	case "0005": // item cancelled
		return cancelCodeCancelled, true
	case "0001": // fully dispensed
		return cancelCodeDispensed, true
	case "0002": // not dispensed
		return cancelCodeNotDispensed, true
	case "0006": // expired
		return cancelCodeExpired, true
	}
	return "", false
}

// settledByPrescription says what a prescription's status (EPS task
// business status) means for its items when the tracker names no item
// status: cancelled and expired settle every item.
func settledByPrescription(status string) (code string, ok bool) {
	switch status {
	case "0005":
		return cancelCodeCancelled, true
	case "0004":
		return cancelCodeExpired, true
	}
	return "", false
}

// TrackerView is one prescription as the EPS tracker (GET Task) shows it
// (the replay checks of the gateway read it too).
type TrackerView struct {
	// PrescriptionID is the short-form id (upper case).
	PrescriptionID string
	// Status is the prescription's business status (0001…0009).
	Status string
	// Owner is the ODS code of the dispenser (or nominated pharmacy).
	Owner string
	// Items maps each line item id (upper case) to its dispense status
	// ("" when the tracker gives none).
	Items map[string]string
	// LastModified orders several Tasks of one prescription.
	LastModified string
}

// itemCode says how the cancellation pending on lineItem stands: the code
// it resolved with, or ok false while pending. found is false when the
// tracker does not list the item.
func (v TrackerView) itemCode(lineItem string) (code string, ok, found bool) {
	st, found := v.Items[strings.ToUpper(lineItem)]
	if !found {
		return "", false, false
	}
	if code, ok := settledCode(st); ok {
		return code, true, true
	}
	if st == "" {
		code, ok := settledByPrescription(v.Status)
		return code, ok, true
	}
	return "", false, true
}

// awaitedCode says whether a cancellation that was awaiting its
// prescription (Record.AwaitingPrescription) was carried out as the
// prescription came: the item (or the prescription) shows cancelled, and
// code is then 0001. Anything else the tracker shows of a listed
// prescription means it was not, and never will be.
func (v TrackerView) awaitedCode(lineItem string) (code string, carriedOut bool) {
	code, ok, _ := v.itemCode(lineItem)
	return code, ok && code == cancelCodeCancelled
}

// ErrNotInTracker: the EPS tracker does not know the prescription.
var ErrNotInTracker = errors.New("the EPS tracker does not list the prescription")

// ParseTrackerAnswer reads the EPS tracker's searchset Bundle of Tasks and
// returns the prescription prescriptionID (the most recently modified Task
// when there are several, as for repeat dispensing issues).
func ParseTrackerAnswer(body []byte, prescriptionID string) (TrackerView, error) {
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return TrackerView{}, fmt.Errorf("EPS tracker answer: %w", err)
	}
	want := strings.ToUpper(strings.TrimSpace(prescriptionID))
	var best *TrackerView
	for i, t := range fhir.EntriesOf[*fhir.Task](b) {
		v, err := viewOfTask(t)
		if err != nil {
			return TrackerView{}, fmt.Errorf("EPS tracker answer: Task %d: %w", i, err)
		}
		if v.PrescriptionID != want {
			continue
		}
		if best == nil || v.LastModified > best.LastModified {
			best = &v
		}
	}
	if best == nil {
		return TrackerView{}, fmt.Errorf("%w %s", ErrNotInTracker, want)
	}
	return *best, nil
}

// viewOfTask reads one tracker Task.
func viewOfTask(t *fhir.Task) (TrackerView, error) {
	v := TrackerView{Items: map[string]string{}, LastModified: t.LastModified}
	if t.Focus != nil && t.Focus.Identifier != nil && t.Focus.Identifier.System == fhir.SystemShortFormID {
		v.PrescriptionID = strings.ToUpper(t.Focus.Identifier.Value)
	}
	if v.PrescriptionID == "" && t.GroupIdentifier != nil && t.GroupIdentifier.System == fhir.SystemShortFormID {
		v.PrescriptionID = strings.ToUpper(t.GroupIdentifier.Value)
	}
	if v.PrescriptionID == "" {
		return v, errors.New("no short-form prescription id in focus or groupIdentifier")
	}
	if c := fhir.FindCoding(t.BusinessStatus, fhir.CodeSystemTaskBusinessStatus); c != nil {
		v.Status = c.Code
	}
	if t.Owner != nil && t.Owner.Identifier != nil && t.Owner.Identifier.System == fhir.SystemODS {
		v.Owner = t.Owner.Identifier.Value
	}
	for _, in := range t.Input {
		if in.ValueReference == nil || in.ValueReference.Identifier == nil || in.ValueReference.Identifier.System != fhir.SystemLineItemID {
			continue
		}
		item := strings.ToUpper(strings.TrimSpace(in.ValueReference.Identifier.Value))
		if item == "" {
			continue
		}
		status := ""
		if e := fhir.FindExtension(in.Extension, extDispensingInformation); e != nil {
			if s := fhir.FindExtension(e.Extension, "dispenseStatus"); s != nil && s.ValueCoding != nil {
				status = s.ValueCoding.Code
			}
		}
		v.Items[item] = status
	}
	return v, nil
}
