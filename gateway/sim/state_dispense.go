package sim

import (
	"slices"
	"strings"
	"time"
)

// ReleaseRequest is a decoded Task/$release: Owner (the pharmacy's ODS code)
// alone is a nominated release; with ShortFormID a patient release.
type ReleaseRequest struct {
	Owner       string
	ShortFormID string
	// Agent is who releases for the owner.
	Agent DispensingAgent
}

// MaxNominatedRelease is how many prescriptions one nominated release
// hands over, as EPS does: "download up to 25 prescriptions (per request)
// nominated to a dispenser" (NHS Digital's Task $release
// OperationDefinition). The dispenser asks again for the rest.
const MaxNominatedRelease = 25

// Release hands prescriptions to a dispenser. Nominated: the prescriptions
// nominated to Owner that are to be dispensed, oldest first, at most
// MaxNominatedRelease, each only once (it is then with the dispenser; the
// rest wait for the next request); none is not an error. Patient: the one
// prescription, also again to the dispenser already holding it; refusals
// ReasonNotFound, ReasonWithAnotherDispenser, ReasonCancelled,
// ReasonExpired, ReasonDispensed. It returns copies of the released
// prescriptions.
func (s *State) Release(req ReleaseRequest, now time.Time) ([]Prescription, error) {
	if req.Owner == "" {
		return nil, refuse(ReasonInvalid, req.ShortFormID, "release without owner")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.ShortFormID == "" {
		var due []*Prescription
		for _, p := range s.rx {
			if p.Nominated == req.Owner && p.Status == StatusToBeDispensed {
				due = append(due, p)
			}
		}
		slices.SortFunc(due, func(a, b *Prescription) int {
			if c := a.Created.Compare(b.Created); c != 0 {
				return c
			}
			return strings.Compare(a.ShortFormID, b.ShortFormID)
		})
		out := make([]Prescription, 0, min(len(due), MaxNominatedRelease))
		for _, p := range due[:min(len(due), MaxNominatedRelease)] {
			s.releaseTo(p, req, now)
			out = append(out, p.clone())
		}
		return out, nil
	}
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case StatusToBeDispensed:
		s.releaseTo(p, req, now)
	case StatusWithDispenser, StatusWithDispenserActive:
		if p.Dispenser != req.Owner {
			e := refuse(ReasonWithAnotherDispenser, p.ShortFormID, "with dispenser %s", p.Dispenser)
			e.Dispenser = p.Dispenser
			return nil, e
		}
		s.use(p) // downloaded again: in use, though unchanged
	case StatusCancelled:
		return nil, refuse(ReasonCancelled, p.ShortFormID, "cancelled")
	case StatusExpired:
		return nil, refuse(ReasonExpired, p.ShortFormID, "expired")
	default:
		return nil, refuse(ReasonDispensed, p.ShortFormID, "already %s", p.Status.Display())
	}
	return []Prescription{p.clone()}, nil
}

// releaseTo hands p to req's owner. Caller holds s.mu.
func (s *State) releaseTo(p *Prescription, req ReleaseRequest, now time.Time) {
	p.Status = StatusWithDispenser
	p.Dispenser, p.DispenserAgent = req.Owner, req.Agent
	p.Released = now
	for i := range p.Items {
		if p.Items[i].Status == ItemToBeDispensed {
			p.Items[i].Status = ItemWithDispenser
		}
	}
	s.changed(p, now)
}

// holder checks that dispenser holds p. Caller holds s.mu.
func holder(p *Prescription, dispenser string) error {
	switch p.Status {
	case StatusCancelled:
		return refuse(ReasonCancelled, p.ShortFormID, "cancelled")
	case StatusExpired:
		return refuse(ReasonExpired, p.ShortFormID, "expired")
	case StatusToBeDispensed:
		return refuse(ReasonInvalidTransition, p.ShortFormID, "not released to a dispenser")
	}
	if dispenser != "" && p.Dispenser != dispenser {
		e := refuse(ReasonWithAnotherDispenser, p.ShortFormID, "with dispenser %s, not %s", p.Dispenser, dispenser)
		e.Dispenser = p.Dispenser
		return e
	}
	return nil
}

// DispenseRequest is a decoded dispense-notification.
type DispenseRequest struct {
	// MessageID is the notification Bundle's identifier.
	MessageID   string
	Dispenser   string
	ShortFormID string
	// ReplacementOf, when set, makes this an amendment of that notification,
	// which must be the last one.
	ReplacementOf string
	// Items are the new statuses by line item id.
	Items map[string]ItemStatus
}

// Dispense applies a dispense notification (or an amendment: the last
// notification is undone first), which must report every line item, as
// Spine requires (ReasonItemNotFound otherwise). One whose MessageID the
// prescription took already is refused, ReasonDuplicateMessage, and
// changes nothing (state_duplicate.go). Pending cancellations resolve: item
// cancelled → R-0001, dispensed → R-0004, not dispensed → R-0010; partly
// dispensed or owing stays pending (Spine holds a partly dispensed item as
// with the dispenser: eps-spine-shared ITEM_WITH_DISPENSER_STATES).
func (s *State) Dispense(req DispenseRequest, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		return err
	}
	if err := p.replayed(req.MessageID, "dispense notification"); err != nil {
		return err
	}
	if req.ReplacementOf != "" {
		if n := len(p.Dispenses); n == 0 || !strings.EqualFold(p.Dispenses[n-1].ID, req.ReplacementOf) {
			return refuse(ReasonAmendMismatch, p.ShortFormID, "amendment of %s does not pertain to the last dispense", req.ReplacementOf)
		}
		if p.Status == StatusClaimed || p.Status == StatusNoClaimed {
			return refuse(ReasonInvalidTransition, p.ShortFormID, "cannot amend when %s", p.Status.Display())
		}
		if p.Dispenser != req.Dispenser {
			e := refuse(ReasonWithAnotherDispenser, p.ShortFormID, "with dispenser %s", p.Dispenser)
			e.Dispenser = p.Dispenser
			return e
		}
	} else {
		if err := holder(p, req.Dispenser); err != nil {
			return err
		}
		if p.Status != StatusWithDispenser && p.Status != StatusWithDispenserActive {
			return refuse(ReasonDispensed, p.ShortFormID, "already %s", p.Status.Display())
		}
	}
	if len(req.Items) == 0 {
		return refuse(ReasonInvalid, p.ShortFormID, "dispense notification without line items")
	}
	// Spine takes a notification (or an amendment) only when it reports
	// every line item of the prescription, those it did not dispense or
	// that were cancelled too (compare_line_items_for_dispense: the ids
	// given must be the ids stored, else ITEM_NOT_FOUND, 0014).
	for i := range p.Items {
		if _, ok := req.Items[p.Items[i].ID]; !ok {
			return refuse(ReasonItemNotFound, p.ShortFormID, "line item %s missing: a dispense notification reports every line item", p.Items[i].ID)
		}
	}
	// An amendment is checked against the statuses it starts from: the
	// last notification undone.
	base := make([]ItemStatus, len(p.Items))
	for i := range p.Items {
		base[i] = p.Items[i].Status
	}
	if req.ReplacementOf != "" {
		base = undoneStatuses(p, p.Dispenses[len(p.Dispenses)-1])
	}
	for id, st := range req.Items {
		i := p.itemIndex(id)
		if i < 0 {
			return refuse(ReasonItemNotFound, p.ShortFormID, "line item %s not found", id)
		}
		if !st.dispenserSettable() {
			return refuse(ReasonInvalid, p.ShortFormID, "line item %s: status %s cannot be set by a dispenser", id, st)
		}
		if from := base[i]; from.terminal() && from != st {
			return refuse(ReasonItemInvalidTransition, p.ShortFormID, "line item %s is %s: it cannot become %s", id, from.Display(), st.Display())
		}
	}
	if req.ReplacementOf != "" {
		undoLast(p)
	}
	rec := DispenseRecord{ID: req.MessageID, Dispenser: req.Dispenser, At: now, Items: cloneMap(req.Items)}
	for i := range p.Items {
		rec.before = append(rec.before, p.Items[i].Status)
	}
	for i := range p.Items {
		it := &p.Items[i]
		st, ok := req.Items[it.ID]
		if !ok {
			continue
		}
		it.Status = st
		if !it.CancelPending {
			continue
		}
		switch st {
		case ItemCancelled:
			s.resolve(p, it, CancelDone, now)
			rec.cancelled = append(rec.cancelled, it.ID)
		case ItemDispensed:
			s.resolve(p, it, CancelDispensed, now)
		case ItemNotDispensed:
			s.resolve(p, it, CancelNotDispensed, now)
		}
	}
	recordDispense(p, rec)
	p.noteMessage(req.MessageID)
	p.Status = deriveStatus(p)
	s.changed(p, now)
	return nil
}

// undoneStatuses are the item statuses with last undone: each as before
// it, but an item whose pending cancellation it carried out stays
// cancelled (the prescriber was told so).
func undoneStatuses(p *Prescription, last DispenseRecord) []ItemStatus {
	out := slices.Clone(last.before)
	for i := range p.Items {
		if slices.Contains(last.cancelled, p.Items[i].ID) {
			out[i] = ItemCancelled
		}
	}
	return out
}

// undoLast undoes the last dispense notification (amendment, withdrawal).
func undoLast(p *Prescription) {
	n := len(p.Dispenses)
	for i, st := range undoneStatuses(p, p.Dispenses[n-1]) {
		p.Items[i].Status = st
	}
	p.Dispenses = p.Dispenses[:n-1]
}

// ReturnRequest is a decoded dispense proposal return (Task rejected).
type ReturnRequest struct {
	// MessageID is the Task's identifier (the HL7 message id).
	MessageID   string
	ShortFormID string
	Dispenser   string
	Reason      string
}

// Return gives an undispensed prescription back to EPS: it is to be
// dispensed again and pending cancellations take effect (R-0001). It is
// no longer nominated, as Spine's update_for_return clears the nominated
// performer (eps-spine-shared record.py): no nominated download hands it
// over again, and a pharmacy takes it by its id (the patient's token),
// with a patient release.
func (s *State) Return(req ReturnRequest, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		return err
	}
	if err := p.replayed(req.MessageID, "return"); err != nil {
		return err
	}
	if err := holder(p, req.Dispenser); err != nil {
		return err
	}
	if p.Status != StatusWithDispenser {
		return refuse(ReasonInvalidTransition, p.ShortFormID, "cannot return when %s", p.Status.Display())
	}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Status == ItemWithDispenser {
			it.Status = ItemToBeDispensed
		}
		if it.CancelPending {
			it.Status = ItemCancelled
			s.resolve(p, it, CancelDone, now)
		}
	}
	p.Dispenser, p.Nominated = "", ""
	p.Status = StatusToBeDispensed
	if allItems(p, ItemCancelled) {
		p.Status = StatusCancelled
	}
	p.noteMessage(req.MessageID)
	s.changed(p, now)
	return nil
}

// WithdrawRequest is a decoded dispenser withdraw (Task abort).
type WithdrawRequest struct {
	// MessageID is the Task's identifier (the HL7 message id).
	MessageID   string
	ShortFormID string
	Dispenser   string
	// DispenseID is the notification to withdraw; empty means the last.
	DispenseID string
	Reason     string
}

// Withdraw undoes the last dispense notification; a repeat dispensing
// prescription stays with dispenser - active, as Spine keeps it.
func (s *State) Withdraw(req WithdrawRequest, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		return err
	}
	if err := p.replayed(req.MessageID, "withdrawal"); err != nil {
		return err
	}
	if p.Status == StatusClaimed || p.Status == StatusNoClaimed {
		return refuse(ReasonInvalidTransition, p.ShortFormID, "cannot withdraw when %s", p.Status.Display())
	}
	n := len(p.Dispenses)
	switch {
	case n == 0 && p.dispensesDropped > 0:
		return refuse(ReasonInvalidTransition, p.ShortFormID, "the %d dispense notifications left are older than the last %d kept: they cannot be withdrawn",
			p.dispensesDropped, maxHistory)
	case n == 0:
		return refuse(ReasonInvalidTransition, p.ShortFormID, "nothing dispensed to withdraw")
	}
	if p.Dispenser != req.Dispenser {
		e := refuse(ReasonWithAnotherDispenser, p.ShortFormID, "with dispenser %s", p.Dispenser)
		e.Dispenser = p.Dispenser
		return e
	}
	last := p.Dispenses[n-1]
	if req.DispenseID != "" && !strings.EqualFold(req.DispenseID, last.ID) {
		return refuse(ReasonAmendMismatch, p.ShortFormID, "withdrawal of %s does not pertain to the last dispense", req.DispenseID)
	}
	undoLast(p)
	p.Status = deriveStatus(p)
	if p.Status == StatusWithDispenser && p.CourseOfTherapy == courseRepeatDispensing {
		// Spine's withdrawal of a repeat dispensing issue goes back no
		// further than with dispenser - active (RepeatDispenseRecord
		// get_withdrawn_status, eps-spine-shared repeat_dispense.py): the
		// issue cannot then be returned.
		p.Status = StatusWithDispenserActive
	}
	p.noteMessage(req.MessageID)
	s.changed(p, now)
	return nil
}

// ClaimRequest is a decoded Claim.
type ClaimRequest struct {
	ShortFormID   string
	ClaimID       string
	Claimant      string
	ReplacementOf string
	// Issue is the issue of a repeat dispensing prescription claimed for
	// (from 1); 0: the claim does not say (the current issue).
	Issue int
	// Created is Claim.created (the v3 claim's effectiveTime); zero: when
	// it came.
	Created time.Time
}

// Claim records a claim once the prescription is dispensed (or not
// dispensed); an amendment (ReplacementOf = the last claim's id) once it is
// claimed. A claim for an earlier issue of a repeat dispensing prescription
// (the dispenser claims after the next issue was made available) is
// recorded on that issue; one for an issue not yet made available is
// refused as not dispensed. An amendment after the claim period is refused,
// ReasonClaimAmendPeriod (claimAmendDeadline).
func (s *State) Claim(req ClaimRequest, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(req.ShortFormID)
	if err != nil {
		return err
	}
	if err := p.replayed(req.ClaimID, "claim"); err != nil {
		return err
	}
	status, dispenser, claims := &p.Status, p.Dispenser, &p.Claims
	if p.CourseOfTherapy == courseRepeatDispensing && req.Issue > 0 && req.Issue != p.CurrentIssue {
		past := p.pastIssue(req.Issue)
		if past == nil {
			return refuse(ReasonClaimNotDispensed, p.ShortFormID, "cannot claim issue %d: the current issue is %d", req.Issue, p.CurrentIssue)
		}
		status, dispenser, claims = &past.Status, past.Dispenser, &past.Claims
	}
	if req.Claimant != "" && dispenser != "" && req.Claimant != dispenser {
		e := refuse(ReasonWithAnotherDispenser, p.ShortFormID, "dispensed by %s", dispenser)
		e.Dispenser = dispenser
		return e
	}
	claimDate := req.Created
	if claimDate.IsZero() {
		claimDate = now
	}
	switch n := len(*claims); {
	case req.ReplacementOf != "":
		if *status != StatusClaimed || n == 0 || !strings.EqualFold((*claims)[n-1].ID, req.ReplacementOf) {
			return refuse(ReasonAmendMismatch, p.ShortFormID, "claim amendment of %s does not pertain to the last claim", req.ReplacementOf)
		}
		claimDate = (*claims)[n-1].ClaimDate
		if deadline := claimAmendDeadline(claimDate); !now.Before(deadline) {
			return refuse(ReasonClaimAmendPeriod, p.ShortFormID, "claim made %s may be amended until %s",
				claimDate.UTC().Format(time.DateOnly), deadline.Add(-time.Nanosecond).Format(time.DateOnly))
		}
	case *status == StatusClaimed:
		return refuse(ReasonInvalidTransition, p.ShortFormID, "already claimed")
	case *status != StatusDispensed && *status != StatusNotDispensed:
		return refuse(ReasonClaimNotDispensed, p.ShortFormID, "cannot claim when %s", status.Display())
	}
	*claims = keepLast(append(*claims, ClaimRecord{ID: req.ClaimID, ReplacementOf: req.ReplacementOf, At: now, ClaimDate: claimDate}), maxHistory)
	*status = StatusClaimed
	p.noteMessage(req.ClaimID)
	s.changed(p, now)
	return nil
}

// claimAmendDeadline is when the claim period of a claim made at
// claimDate ends: with the 5th day of the following month (UTC), after
// which Spine refuses an amendment, 0100 "Claim amendment is not permitted
// outside of the claim period" (the EPS API's dispenseClaim.feature: a
// claim created on 28 February, amended after the 5th of March).
func claimAmendDeadline(claimDate time.Time) time.Time {
	y, m, _ := claimDate.UTC().Date()
	return time.Date(y, m+1, 6, 0, 0, 0, 0, time.UTC)
}
