package sim

import "time"

// NextIssue makes the next issue of a repeat dispensing prescription the
// current one, to be dispensed, as Spine's batch does when the next issue's
// dispensing window opens ("make prescription available for download").
// The current issue must be complete (dispensed, not dispensed, claimed,
// no-claimed or expired) and an issue must remain. The new issue starts
// from the prescription's line items, to be dispensed (a cancelled item
// stays cancelled), with no dispenser; the last dispense of the issue left
// behind is kept as LastIssueDispensed. Refusals: ReasonNotFound,
// ReasonInvalid (not repeat dispensing, or no issue left),
// ReasonInvalidTransition (the current issue is not complete).
func (s *State) NextIssue(shortFormID string, now time.Time) (Prescription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookup(shortFormID)
	if err != nil {
		return Prescription{}, err
	}
	if p.CourseOfTherapy != "continuous-repeat-dispensing" || p.CurrentIssue >= p.TotalIssues {
		return Prescription{}, refuse(ReasonInvalid, p.ShortFormID, "issue %d of %d of a %q prescription: no next issue", p.CurrentIssue, p.TotalIssues, p.CourseOfTherapy)
	}
	switch p.Status {
	case StatusDispensed, StatusNotDispensed, StatusClaimed, StatusNoClaimed, StatusExpired:
	default:
		return Prescription{}, refuse(ReasonInvalidTransition, p.ShortFormID, "issue %d is %s, not complete", p.CurrentIssue, p.Status.Display())
	}
	for _, d := range p.Dispenses {
		if d.At.After(p.LastIssueDispensed) {
			p.LastIssueDispensed = d.At
		}
	}
	p.CurrentIssue++
	p.Status = StatusToBeDispensed
	p.Dispenser = ""
	p.Released = time.Time{}
	p.Dispenses, p.Claims = nil, nil
	for i := range p.Items {
		if p.Items[i].Status != ItemCancelled {
			p.Items[i].Status = ItemToBeDispensed
		}
	}
	s.changed(p, now)
	return p.clone(), nil
}
