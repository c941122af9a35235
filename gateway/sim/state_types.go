package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// PrescriptionStatus is a prescription's status (EPS-task-business-status,
// v3 2.16.840.1.113883.2.1.3.2.4.16.35).
type PrescriptionStatus string

// Prescription statuses.
const (
	StatusToBeDispensed       PrescriptionStatus = "0001"
	StatusWithDispenser       PrescriptionStatus = "0002"
	StatusWithDispenserActive PrescriptionStatus = "0003"
	StatusExpired             PrescriptionStatus = "0004"
	StatusCancelled           PrescriptionStatus = "0005"
	StatusDispensed           PrescriptionStatus = "0006"
	StatusNotDispensed        PrescriptionStatus = "0007"
	StatusClaimed             PrescriptionStatus = "0008"
	StatusNoClaimed           PrescriptionStatus = "0009"
)

// Display returns the status's display text.
func (s PrescriptionStatus) Display() string {
	switch s {
	case StatusToBeDispensed:
		return "To Be Dispensed"
	case StatusWithDispenser:
		return "With Dispenser"
	case StatusWithDispenserActive:
		return "With Dispenser - Active"
	case StatusExpired:
		return "Expired"
	case StatusCancelled:
		return "Cancelled"
	case StatusDispensed:
		return "Dispensed"
	case StatusNotDispensed:
		return "Not Dispensed"
	case StatusClaimed:
		return "Claimed"
	case StatusNoClaimed:
		return "No-Claimed"
	}
	return string(s)
}

// ItemStatus is a line item's status (medicationdispense-type, v3
// 2.16.840.1.113883.2.1.3.2.4.17.23).
type ItemStatus string

// Line item statuses.
const (
	ItemDispensed     ItemStatus = "0001"
	ItemNotDispensed  ItemStatus = "0002"
	ItemPartial       ItemStatus = "0003"
	ItemOwing         ItemStatus = "0004"
	ItemCancelled     ItemStatus = "0005"
	ItemExpired       ItemStatus = "0006"
	ItemToBeDispensed ItemStatus = "0007"
	ItemWithDispenser ItemStatus = "0008"
)

// Display returns the item status's display text.
func (s ItemStatus) Display() string {
	switch s {
	case ItemDispensed:
		return "Item fully dispensed"
	case ItemNotDispensed:
		return "Item not dispensed"
	case ItemPartial:
		return "Item dispensed - partial"
	case ItemOwing:
		return "Item not dispensed owing"
	case ItemCancelled:
		return "Item cancelled"
	case ItemExpired:
		return "Expired"
	case ItemToBeDispensed:
		return "To Be Dispensed"
	case ItemWithDispenser:
		return "Item with dispenser"
	}
	return string(s)
}

// dispenserSettable reports whether a dispense notification may set s.
func (s ItemStatus) dispenserSettable() bool {
	switch s {
	case ItemDispensed, ItemNotDispensed, ItemPartial, ItemOwing, ItemCancelled:
		return true
	}
	return false
}

// terminal reports whether nothing more will be dispensed for the item.
func (s ItemStatus) terminal() bool {
	switch s {
	case ItemDispensed, ItemNotDispensed, ItemCancelled, ItemExpired:
		return true
	}
	return false
}

// CancelCode is a cancellation outcome (medicationrequest-status-history;
// v3 2.16.840.1.113883.2.1.3.2.4.17.19 without the "R-").
type CancelCode string

// Cancellation outcomes.
const (
	CancelDone                   CancelCode = "R-0001"
	CancelPendingWithDispenser   CancelCode = "R-0002"
	CancelPendingDispenserActive CancelCode = "R-0003"
	CancelDispensed              CancelCode = "R-0004" // not cancelled: dispensed
	CancelExpired                CancelCode = "R-0005"
	CancelAlreadyCancelled       CancelCode = "R-0006"
	CancelByAnotherPrescriber    CancelCode = "R-0007"
	CancelNotFound               CancelCode = "R-0008"
	CancelDisabled               CancelCode = "R-0009"
	CancelNotDispensed           CancelCode = "R-0010"
	CancelPatientMismatch        CancelCode = "R-5000"
	CancelInvalidMessage         CancelCode = "R-5888"
)

// Display returns the outcome's display text as EPS writes it.
func (c CancelCode) Display() string {
	switch c {
	case CancelDone:
		return "Prescription/item was cancelled"
	case CancelPendingWithDispenser:
		return "Prescription/item was not cancelled. With dispenser. Marked for cancellation"
	case CancelPendingDispenserActive:
		return "Prescription/item was not cancelled. With dispenser active. Marked for cancellation"
	case CancelDispensed:
		return "Prescription/item was not cancelled. Prescription has been dispensed."
	case CancelExpired:
		return "Prescription/item has expired"
	case CancelAlreadyCancelled:
		return "Prescription/item had already been cancelled"
	case CancelByAnotherPrescriber:
		return "Prescription/item cancellation requested by another prescriber"
	case CancelNotFound:
		return "Prescription/item not found"
	case CancelDisabled:
		return "Cancellation functionality disabled in SPINE"
	case CancelNotDispensed:
		return "Prescription/item was not cancelled. Prescription has been not dispensed."
	case CancelPatientMismatch:
		return "Unable to process message. Information missing or invalid - Mismatch between prescription and cancellation NHSNumber"
	case CancelInvalidMessage:
		return "Invalid Message."
	}
	return string(c)
}

// Item is one line item of a prescription.
type Item struct {
	// ID is the line item id (prescription-order-item-number, lower case).
	ID     string
	Status ItemStatus
	// CancelPending is set while a cancellation waits for the dispenser.
	CancelPending bool
	// CancelRequester is the organisation that asked for the pending
	// cancellation (CancelRequest.Requester): another's is R-0007.
	CancelRequester string
	// FutureCancelled is set on an item of a repeat dispensing prescription
	// the prescriber cancelled: whatever became of it in the current issue
	// (dispensed, or with a dispenser), it is cancelled in every issue not
	// yet made available (NextIssue).
	FutureCancelled bool
}

// DispenseRecord is one accepted dispense notification.
type DispenseRecord struct {
	// ID is the notification Bundle's identifier (the v3 message id).
	ID        string
	Dispenser string
	At        time.Time
	// Items are the statuses the notification set, by item id.
	Items map[string]ItemStatus
	// before holds every item's status before this notification, in item
	// order, so that an amendment or a withdrawal can undo it.
	before []ItemStatus
	// cancelled holds the ids of the items whose pending cancellation this
	// notification carried out (R-0001 told to the prescriber): undoing the
	// notification leaves them cancelled.
	cancelled []string
}

// ClaimRecord is one accepted claim or claim amendment.
type ClaimRecord struct {
	ID            string
	ReplacementOf string
	At            time.Time
	// ClaimDate is when the first claim of the chain was made (its
	// Claim.created, else when it came), kept through amendments as Spine
	// keeps its claim date: the claim period runs from it.
	ClaimDate time.Time
}

// DispensingAgent is the person who released a prescription for a
// dispenser and the dispensing organisation's name, as a release request
// names them ("" where it does not).
type DispensingAgent struct {
	// OrgName is the owner Organization's name.
	OrgName string
	// RoleProfile is the agent PractitionerRole's SDS role profile id.
	RoleProfile string
	// PersonCode is the agent's person identifier (an SDS user id, or a
	// professional code); PersonName its display.
	PersonCode, PersonName string
	// Telecom is the agent's first telecom's value.
	Telecom string
}

// Prescription is EPS's record of one prescription.
type Prescription struct {
	ShortFormID string
	LongFormID  string
	NHSNumber   string
	// Prescriber is the prescribing organisation's ODS code.
	Prescriber string
	// Nominated is the nominated pharmacy's ODS code, if any.
	Nominated string
	Status    PrescriptionStatus
	// Dispenser is the ODS code of the pharmacy holding it, if any.
	Dispenser string
	// DispenserAgent is who downloaded it for the dispenser (the release
	// request's agent and owner), named in cancellation responses.
	DispenserAgent DispensingAgent
	Items          []Item
	// Order is the prescription-order Bundle exactly as received.
	Order []byte
	// OrderID is the prescription-order Bundle's id.
	OrderID string
	// TaskID identifies the prescription in tracker answers.
	TaskID    string
	Created   time.Time
	Updated   time.Time
	Dispenses []DispenseRecord
	Claims    []ClaimRecord
	// CourseOfTherapy is the treatment type as EPS FHIR codes it (acute,
	// continuous, continuous-repeat-dispensing), answered in the tracker's
	// Extension-EPS-Prescription.
	CourseOfTherapy string
	// TotalIssues is how many issues a repeat dispensing prescription
	// authorises (numberOfRepeatsAllowed + 1); 1 otherwise.
	TotalIssues int
	// CurrentIssue is the issue being dispensed, from 1 (see NextIssue).
	CurrentIssue int
	// PrescriberName is the prescribing organisation's name, answered as
	// the tracker Task's requester display.
	PrescriberName string
	// Released is when a dispenser downloaded the prescription (zero: not
	// yet), answered as the tracker's dateDownloaded.
	Released time.Time
	// LastIssueDispensed is the last dispense of the issue before the
	// current one (zero: none), answered as dateLastIssuedDispensed.
	LastIssueDispensed time.Time
	// PastIssues are the issues of a repeat dispensing prescription before
	// the current one, oldest first, kept for their claims (NextIssue).
	PastIssues []IssueRecord

	// expired is set once the prescription expired (Expire): a repeat
	// dispensing course has no next issue.
	expired bool
	// used numbers the prescription's latest use (state_evict.go).
	used uint64
	// dispensesDropped counts the dispense notifications of the current
	// issue dropped past maxHistory, droppedDispensedAt the latest time
	// among them (recordDispense).
	dispensesDropped   int
	droppedDispensedAt time.Time
	// messageIDs are the ids of the messages it took (prescription-order,
	// cancellation, dispense notification, return, withdrawal, claim), the
	// last maxHistory, to tell one sent again (state_duplicate.go).
	messageIDs []string
}

// dispensed reports whether any dispense notification of the current
// issue stands, kept or dropped past maxHistory.
func (p *Prescription) dispensed() bool {
	return len(p.Dispenses) > 0 || p.dispensesDropped > 0
}

// lastDispensed is the time of the latest dispense notification of the
// current issue that stands (zero: none).
func (p *Prescription) lastDispensed() time.Time {
	last := p.droppedDispensedAt
	for _, d := range p.Dispenses {
		if d.At.After(last) {
			last = d.At
		}
	}
	return last
}

// IssueRecord is an issue of a repeat dispensing prescription that made
// way for the next: how it ended and its claims, for a claim that comes
// after the next issue was made available.
type IssueRecord struct {
	// Number is the issue's number, from 1.
	Number    int
	Status    PrescriptionStatus
	Dispenser string
	Claims    []ClaimRecord
}

// pastIssue returns the record of issue n, or nil.
func (p *Prescription) pastIssue(n int) *IssueRecord {
	for i := range p.PastIssues {
		if p.PastIssues[i].Number == n {
			return &p.PastIssues[i]
		}
	}
	return nil
}

// clone returns a deep copy (Order is shared: it is never modified).
func (p *Prescription) clone() Prescription {
	c := *p
	c.Items = slices.Clone(p.Items)
	c.Dispenses = make([]DispenseRecord, len(p.Dispenses))
	for i, d := range p.Dispenses {
		d.Items = cloneMap(d.Items)
		d.before = slices.Clone(d.before)
		d.cancelled = slices.Clone(d.cancelled)
		c.Dispenses[i] = d
	}
	c.Claims = slices.Clone(p.Claims)
	c.messageIDs = slices.Clone(p.messageIDs)
	c.PastIssues = slices.Clone(p.PastIssues)
	for i := range c.PastIssues {
		c.PastIssues[i].Claims = slices.Clone(c.PastIssues[i].Claims)
	}
	return c
}

func cloneMap(m map[string]ItemStatus) map[string]ItemStatus {
	out := make(map[string]ItemStatus, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// itemIndex returns the position of line item id in p.Items, or -1.
func (p *Prescription) itemIndex(id string) int {
	for i := range p.Items {
		if p.Items[i].ID == id {
			return i
		}
	}
	return -1
}

func (p *Prescription) item(id string) *Item {
	if i := p.itemIndex(id); i >= 0 {
		return &p.Items[i]
	}
	return nil
}

// CancelResolution records a pending cancellation that resolved later (the
// trigger of a Subsequent Cancel Response, PORX_IN050102UK32).
type CancelResolution struct {
	Seq         int        `json:"seq"`
	ShortFormID string     `json:"shortFormId"`
	ItemID      string     `json:"itemId"`
	Code        CancelCode `json:"code"`
	At          time.Time  `json:"at"`
}

// Reason classifies why the state refused a request; each face maps it to
// its own error shape.
type Reason int

// Refusal reasons.
const (
	ReasonInvalid Reason = iota + 1
	ReasonInvalidCheckCharacter
	ReasonDuplicate
	ReasonNotFound
	ReasonItemNotFound
	ReasonWithAnotherDispenser
	ReasonCancelled
	ReasonExpired
	ReasonDispensed
	ReasonInvalidTransition
	ReasonClaimNotDispensed
	ReasonAmendMismatch
	ReasonPatientMismatch
	// ReasonItemInvalidTransition: a dispense notification moves a line item
	// out of a final status (cancelled, expired, dispensed, not dispensed);
	// Spine 0013, MEDICATIONREQUEST_INVALID_STATE_TRANSITION.
	ReasonItemInvalidTransition
	// ReasonClaimAmendPeriod: a claim amendment after the claim period
	// (claimAmendDeadline); Spine 0100, CLAIM_AMEND_PERIOD_ISSUE.
	ReasonClaimAmendPeriod
	// ReasonDuplicateMessage: a message (any the prescription applies)
	// with the id of one the prescription took already
	// (state_duplicate.go); Spine's acknowledgement code 202, Duplicate HL7
	// ID Error.
	ReasonDuplicateMessage
)

// StateError is a refusal by the State.
type StateError struct {
	Reason      Reason
	ShortFormID string
	// Dispenser is the ODS code of the other dispenser
	// (ReasonWithAnotherDispenser).
	Dispenser string
	Detail    string
	// Forgotten is set when EPS would hold the prescription but the
	// simulator's cap forgot it (state_evict.go): the refusal is the
	// simulator's, not EPS's.
	Forgotten bool
}

// Error implements error.
func (e *StateError) Error() string {
	return fmt.Sprintf("prescription %s: %s", e.ShortFormID, e.Detail)
}

// IsForgotten reports whether err is a refusal for a prescription the
// simulator's cap forgot (StateError.Forgotten).
func IsForgotten(err error) bool {
	var se *StateError
	return errors.As(err, &se) && se.Forgotten
}

func refuse(r Reason, id, format string, args ...any) *StateError {
	return &StateError{Reason: r, ShortFormID: id, Detail: fmt.Sprintf(format, args...)}
}
