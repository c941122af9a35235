package sim

import (
	"strings"
	"time"
)

// NewPrescription is a decoded prescription-order.
type NewPrescription struct {
	// MessageID is the prescription-order Bundle's identifier (the HL7
	// message id).
	MessageID   string
	ShortFormID string
	LongFormID  string
	NHSNumber   string
	Prescriber  string
	Nominated   string
	ItemIDs     []string
	Order       []byte
	// OrderID is the prescription-order Bundle's id (its fullUrl in a
	// release answer).
	OrderID string
	TaskID  string
	// CourseOfTherapy is MedicationRequest.courseOfTherapyType's code.
	CourseOfTherapy string
	// RepeatsAllowed is dispenseRequest.numberOfRepeatsAllowed of a repeat
	// dispensing prescription (issues after the first).
	RepeatsAllowed int
	// PrescriberName is the prescribing organisation's name.
	PrescriberName string
}

// AddPrescription stores a new prescription, to be dispensed. It refuses a
// bad short-form id check character and a duplicate short-form id (also
// the id of a prescription the cap forgot, which EPS would still hold).
func (s *State) AddPrescription(np NewPrescription, now time.Time) error {
	if err := checkShortFormID(np.ShortFormID); err != nil {
		return &StateError{Reason: ReasonInvalidCheckCharacter, ShortFormID: np.ShortFormID, Detail: err.Error()}
	}
	if len(np.ItemIDs) < 1 || len(np.ItemIDs) > 4 {
		return refuse(ReasonInvalid, np.ShortFormID, "%d line items, want 1 to 4", len(np.ItemIDs))
	}
	p := &Prescription{
		ShortFormID: np.ShortFormID, LongFormID: np.LongFormID, NHSNumber: np.NHSNumber,
		Prescriber: np.Prescriber, Nominated: np.Nominated, Status: StatusToBeDispensed,
		Order: np.Order, OrderID: np.OrderID, TaskID: np.TaskID, Created: now, Updated: now,
		CourseOfTherapy: np.CourseOfTherapy, TotalIssues: 1 + max(np.RepeatsAllowed, 0), CurrentIssue: 1,
		PrescriberName: np.PrescriberName,
	}
	seen := map[string]bool{}
	for _, id := range np.ItemIDs {
		id = strings.ToLower(id)
		if id == "" || seen[id] {
			return refuse(ReasonInvalid, np.ShortFormID, "line item id %q missing or repeated", id)
		}
		seen[id] = true
		p.Items = append(p.Items, Item{ID: id, Status: ItemToBeDispensed})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if held, dup := s.rx[np.ShortFormID]; dup {
		if err := held.replayed(np.MessageID, "prescription-order"); err != nil {
			return err
		}
		return refuse(ReasonDuplicate, np.ShortFormID, "duplicate prescription id")
	}
	if err := s.forgottenError(ReasonDuplicate, np.ShortFormID); err != nil {
		return err // EPS would still hold it
	}
	s.applyEarlyCancel(p, now)
	p.noteMessage(np.MessageID)
	s.rx[np.ShortFormID] = p
	s.changed(p, now)
	s.evictLocked()
	return nil
}

// CancelRequest is a decoded prescription-order-update (cancel).
type CancelRequest struct {
	// MessageID is the cancellation Bundle's identifier (the HL7 message
	// id).
	MessageID   string
	ShortFormID string
	NHSNumber   string
	// Requester is the ODS code of the organisation that asked (Spine's
	// agentOrganization: the requester's organisation, else the sender),
	// which tells a cancellation "by another prescriber" (R-0007).
	Requester string
	// ItemIDs are the line items to cancel; empty means all.
	ItemIDs []string
}

// CancelOutcome is the result for one line item.
type CancelOutcome struct {
	ItemID  string
	Code    CancelCode
	Pending bool
}

// Cancel applies a cancellation. While the prescription is to be dispensed
// an item is cancelled (R-0001); while a dispenser holds it the cancellation
// is marked pending (R-0002 / R-0003) and resolves when the dispenser returns
// or dispenses the item. Refusals: ReasonNotFound (R-0008; the
// cancellation is remembered and applied when the prescription comes, as
// Spine does: state_early_cancel.go), ReasonPatientMismatch (R-5000).
func (s *State) Cancel(req CancelRequest, now time.Time) ([]CancelOutcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		if !IsForgotten(err) { // it came before: EPS never had it
			s.rememberEarlyCancel(req) // applied if the prescription comes
		}
		return nil, err
	}
	if err := p.replayed(req.MessageID, "cancellation"); err != nil {
		return nil, err
	}
	if req.NHSNumber != "" && req.NHSNumber != p.NHSNumber {
		return nil, refuse(ReasonPatientMismatch, req.ShortFormID, "NHS number does not match the prescription")
	}
	ids := req.ItemIDs
	if len(ids) == 0 {
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
	}
	targets := make([]*Item, 0, len(ids))
	for _, id := range ids {
		it := p.item(strings.ToLower(id))
		if it == nil {
			return nil, refuse(ReasonItemNotFound, req.ShortFormID, "line item %s not found", id)
		}
		targets = append(targets, it)
	}
	out := make([]CancelOutcome, 0, len(targets))
	took := false
	for _, it := range targets {
		if p.CourseOfTherapy == courseRepeatDispensing {
			// "All outstanding issues that have not been downloaded by the
			// dispenser will be cancelled" (NHS England, cancelling a repeat
			// dispensing prescription), whatever the current issue's answer.
			it.FutureCancelled = true
		}
		code := cancelItem(p, it, req.Requester)
		out = append(out, CancelOutcome{ItemID: it.ID, Code: code, Pending: it.CancelPending})
		took = took || code == CancelDone || code == CancelPendingWithDispenser || code == CancelPendingDispenserActive
	}
	if took { // a cancellation refused for every item changed nothing
		p.noteMessage(req.MessageID)
	}
	if p.Status == StatusToBeDispensed && allItems(p, ItemCancelled) {
		p.Status = StatusCancelled
	}
	s.changed(p, now)
	return out, nil
}

// cancelItem decides one item's cancellation. A settled item answers by
// its own status, as Spine answers a line item's cancellation
// (eps-spine-shared record.py return_error_for_invalid_cancel_by_li_id):
// an item not dispensed is "not dispensed" (R-0010) even when the
// prescription as a whole was dispensed; the prescription's status answers
// only for an item whose own does not say.
func cancelItem(p *Prescription, it *Item, requester string) CancelCode {
	switch {
	case it.Status == ItemCancelled:
		return CancelAlreadyCancelled
	case it.Status == ItemExpired:
		return CancelExpired
	case it.Status == ItemDispensed:
		return CancelDispensed
	case it.Status == ItemNotDispensed:
		return CancelNotDispensed
	case p.Status == StatusExpired:
		return CancelExpired
	case p.Status == StatusDispensed, p.Status == StatusClaimed, p.Status == StatusNoClaimed:
		return CancelDispensed
	case p.Status == StatusNotDispensed:
		return CancelNotDispensed
	case p.Status == StatusToBeDispensed:
		it.Status = ItemCancelled
		return CancelDone
	}
	// A dispenser holds it: mark for cancellation.
	pending := CancelPendingWithDispenser
	if p.Status == StatusWithDispenserActive {
		pending = CancelPendingDispenserActive
	}
	if it.CancelPending && it.CancelRequester != requester {
		return CancelByAnotherPrescriber
	}
	it.CancelPending = true
	it.CancelRequester = requester
	return pending
}

func allItems(p *Prescription, st ItemStatus) bool {
	for _, it := range p.Items {
		if it.Status != st {
			return false
		}
	}
	return true
}

// Expire expires a prescription as Spine's expiry does (for tests: the
// simulator runs no expiry clock of its own). The statuses follow Spine's
// expiry lookups (eps-spine-shared statuses.py EXPIRY_LOOKUP, issue.py and
// line_item.py expire): to be dispensed or with the dispenser becomes
// expired; with the dispenser - active becomes dispensed (what was
// dispensed stands, and may be claimed); a completed prescription keeps
// its status. Items to be dispensed or with the dispenser become expired,
// partly dispensed ones fully dispensed, owing ones not dispensed. The
// issues of a repeat dispensing prescription still to come expire with it
// (record.py: "we must expire all subsequent issues as well"): no next
// issue follows.
func (s *State) Expire(shortFormID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(shortFormID)
	if err != nil {
		return err
	}
	switch p.Status {
	case StatusToBeDispensed, StatusWithDispenser:
		p.Status = StatusExpired
	case StatusWithDispenserActive:
		p.Status = StatusDispensed
	}
	for i := range p.Items {
		it := &p.Items[i]
		switch it.Status {
		case ItemToBeDispensed, ItemWithDispenser:
			it.Status = ItemExpired
		case ItemPartial:
			it.Status = ItemDispensed
		case ItemOwing:
			it.Status = ItemNotDispensed
		}
	}
	p.expired = true
	s.changed(p, now)
	return nil
}
