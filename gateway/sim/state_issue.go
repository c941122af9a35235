package sim

import "time"

// courseRepeatDispensing is the course of therapy of a repeat dispensing
// prescription, as EPS FHIR codes it.
const courseRepeatDispensing = "continuous-repeat-dispensing"

// courseContinuous is the course of therapy of a repeat prescribing
// prescription, as EPS FHIR codes it.
const courseContinuous = "continuous"

// NextIssue makes the next issue of a repeat dispensing prescription the
// current one, to be dispensed, as Spine's batch does when the next issue's
// dispensing window opens ("make prescription available for download").
// The current issue must be complete (dispensed, not dispensed, claimed,
// no-claimed or expired) and an issue must remain. The new issue starts
// from the prescription's line items, to be dispensed (an item cancelled,
// in this issue or for the issues to come, is cancelled; every item
// cancelled, the issue is), with no dispenser; the last dispense of the issue left
// behind is kept as LastIssueDispensed. Refusals: ReasonNotFound,
// ReasonInvalid (not repeat dispensing, no issue left, or expired: Expire),
// ReasonInvalidTransition (the current issue is not complete).
func (s *State) NextIssue(shortFormID string, now time.Time) (Prescription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(shortFormID)
	if err != nil {
		return Prescription{}, err
	}
	if p.CourseOfTherapy != courseRepeatDispensing || p.CurrentIssue >= p.TotalIssues {
		return Prescription{}, refuse(ReasonInvalid, p.ShortFormID, "issue %d of %d of a %q prescription: no next issue", p.CurrentIssue, p.TotalIssues, p.CourseOfTherapy)
	}
	if p.expired {
		return Prescription{}, refuse(ReasonInvalid, p.ShortFormID, "issue %d of %d: the prescription expired, and its issues to come with it", p.CurrentIssue, p.TotalIssues)
	}
	switch p.Status {
	case StatusDispensed, StatusNotDispensed, StatusClaimed, StatusNoClaimed, StatusExpired:
	default:
		return Prescription{}, refuse(ReasonInvalidTransition, p.ShortFormID, "issue %d is %s, not complete", p.CurrentIssue, p.Status.Display())
	}
	if last := p.lastDispensed(); last.After(p.LastIssueDispensed) {
		p.LastIssueDispensed = last
	}
	p.PastIssues = append(p.PastIssues, IssueRecord{Number: p.CurrentIssue, Status: p.Status, Dispenser: p.Dispenser, Claims: p.Claims})
	p.CurrentIssue++
	p.Status = StatusToBeDispensed
	p.Dispenser = ""
	p.Released = time.Time{}
	p.Dispenses, p.Claims = nil, nil
	p.dispensesDropped, p.droppedDispensedAt = 0, time.Time{}
	for i := range p.Items {
		it := &p.Items[i]
		switch {
		case it.CancelPending: // none should: a notification settles it, and an expired course has no next issue
			it.Status = ItemCancelled
			s.resolve(p, it, CancelDone, now)
		case it.Status == ItemCancelled || it.FutureCancelled:
			it.Status = ItemCancelled
		default:
			it.Status = ItemToBeDispensed
		}
	}
	if allItems(p, ItemCancelled) {
		p.Status = StatusCancelled
	}
	s.changed(p, now)
	return p.clone(), nil
}
