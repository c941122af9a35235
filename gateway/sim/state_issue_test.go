package sim

import (
	"testing"
	"time"
)

// TestNextIssue moves a repeat dispensing prescription through its issues:
// refused while the issue is open, then each next issue to be dispensed,
// with the last dispense of the one before kept; refused past the last.
func TestNextIssue(t *testing.T) {
	s := NewState(nil)
	p := newRx(t, 7, "FH542")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008", Nominated: p.pharmacy,
		ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t", CourseOfTherapy: "continuous-repeat-dispensing", RepeatsAllowed: 1}, t0))
	acute := newRx(t, 8, "FH542")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: acute.sf, NHSNumber: acute.nhs, ItemIDs: []string{acute.item1},
		Order: []byte(`{}`), TaskID: "u", CourseOfTherapy: "acute"}, t0))

	_, err := s.NextIssue(p.sf, t0)
	wantReason(t, err, ReasonInvalidTransition)
	_, err = s.NextIssue(acute.sf, t0)
	wantReason(t, err, ReasonInvalid)
	_, err = s.NextIssue(newRx(t, 9, "X").sf, t0)
	wantReason(t, err, ReasonNotFound)

	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	_, err = s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t1)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t1))
	got, err := s.NextIssue(p.sf, t2)
	mustDo(t, err)
	if got.CurrentIssue != 2 || got.TotalIssues != 2 || got.Status != StatusToBeDispensed || got.Dispenser != "" ||
		!got.Released.IsZero() || !got.LastIssueDispensed.Equal(t1) || len(got.Dispenses) != 0 || !got.Updated.Equal(t2) {
		t.Errorf("after the next issue: %+v", got)
	}
	for _, it := range got.Items {
		if it.Status != ItemToBeDispensed {
			t.Errorf("item %s is %s, want to be dispensed", it.ID, it.Status)
		}
	}
	_, err = s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t2)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d2", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemNotDispensed, p.item2: ItemNotDispensed}}, t2))
	_, err = s.NextIssue(p.sf, t2)
	wantReason(t, err, ReasonInvalid)
}
