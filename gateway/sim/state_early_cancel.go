package sim

import (
	"slices"
	"strings"
	"time"
)

// A cancellation can reach Spine before the prescription it cancels (the
// two travel apart; a sender's messages may be processed out of order).
// Spine answers it "not found" (R-0008) and remembers it: "the Spine
// cancels the prescription automatically when it arrives" (the Vision
// Spine Services guide to cancellation responses), and then tells the
// prescriber so in a Subsequent Cancel Response. The State does the same,
// for up to maxEarlyCancels prescriptions: each item cancelled on arrival
// is a CancelResolution (R-0001).

// maxEarlyCancels is how many cancellations of prescriptions not (yet)
// stored the State remembers; the oldest is forgotten first.
const maxEarlyCancels = 10_000

// earlyCancel is a cancellation remembered until its prescription comes.
type earlyCancel struct {
	nhsNumber string
	// items are the line items to cancel (lower case); nil: all.
	items []string
}

// rememberEarlyCancel notes req, answered not found, for the prescription
// when it comes. Caller holds s.mu.
func (s *State) rememberEarlyCancel(req CancelRequest) {
	if s.early == nil {
		s.early = map[string]earlyCancel{}
	}
	var items []string
	for _, id := range req.ItemIDs {
		items = append(items, strings.ToLower(id))
	}
	ec, seen := s.early[req.ShortFormID]
	switch {
	case !seen:
		ec = earlyCancel{nhsNumber: req.NHSNumber, items: items}
		s.earlyOrder = append(s.earlyOrder, req.ShortFormID)
	case ec.items == nil || items == nil:
		ec.items = nil // the whole prescription
	default:
		for _, id := range items {
			if !slices.Contains(ec.items, id) {
				ec.items = append(ec.items, id)
			}
		}
	}
	s.early[req.ShortFormID] = ec
	for len(s.early) > maxEarlyCancels && len(s.earlyOrder) > 0 {
		delete(s.early, s.earlyOrder[0])
		s.earlyOrder = s.earlyOrder[1:]
	}
	if len(s.earlyOrder) > 2*maxEarlyCancels { // ids already applied
		s.earlyOrder = slices.DeleteFunc(s.earlyOrder, func(id string) bool { _, ok := s.early[id]; return !ok })
	}
}

// applyEarlyCancel cancels in p, as it is stored, what a cancellation that
// came before it asked for, when that cancellation was for the same patient,
// each item cancelled a resolution (R-0001), as Spine's prescription
// creation answers each pending cancellation it applies with a "Subsequent
// cancellation" (eps-spine-shared create_prescription.py). Caller holds s.mu.
func (s *State) applyEarlyCancel(p *Prescription, now time.Time) {
	ec, ok := s.early[p.ShortFormID]
	if !ok {
		return
	}
	delete(s.early, p.ShortFormID)
	if ec.nhsNumber != "" && ec.nhsNumber != p.NHSNumber {
		return
	}
	for i := range p.Items {
		it := &p.Items[i]
		if ec.items == nil || slices.Contains(ec.items, it.ID) {
			it.Status = ItemCancelled
			it.FutureCancelled = p.CourseOfTherapy == courseRepeatDispensing
			// The prescriber was answered not found: Spine tells it the
			// cancellation took effect (a Subsequent Cancel Response).
			s.resolve(p, it, CancelDone, now)
		}
	}
	if allItems(p, ItemCancelled) {
		p.Status = StatusCancelled
	}
	p.Updated = now
}
