package sim

import (
	"sort"
	"sync"
	"time"
)

// State is EPS's prescription store and its state machine. It knows no wire
// format: every method takes decoded requests and a time, and returns copies
// or a *StateError. It is safe for concurrent use.
type State struct {
	mu          sync.Mutex
	rx          map[string]*Prescription // by short-form id
	resolutions []CancelResolution
	onResolved  func(CancelResolution)
	// seq numbers the resolutions (kept even when old ones are dropped).
	seq int
	// order lists prescription uses, least recent first from head
	// (entries superseded by a later use are skipped); used numbers the
	// uses; max caps len(rx) (state_evict.go); evicted counts what the
	// cap forgot.
	order   []orderEntry
	head    int
	used    uint64
	max     int
	evicted int
	// early holds cancellations of prescriptions not stored when they
	// came, by short-form id, earlyOrder their ids oldest first
	// (state_early_cancel.go).
	early      map[string]earlyCancel
	earlyOrder []string
	// forgotten holds the ids of prescriptions the cap forgot,
	// forgottenOrder them oldest first (state_evict.go).
	forgotten      map[string]struct{}
	forgottenOrder []string
}

// NewState returns an empty State that keeps DefaultMaxPrescriptions
// (SetCapacity changes it). onResolved, if not nil, is called (with the
// State's lock held: keep it quick) for every pending cancellation that
// resolves.
func NewState(onResolved func(CancelResolution)) *State {
	return &State{rx: map[string]*Prescription{}, onResolved: onResolved, max: DefaultMaxPrescriptions}
}

// Len returns the number of stored prescriptions.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rx)
}

// Get returns a copy of the prescription with the given short-form id.
func (s *State) Get(shortFormID string) (Prescription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.rx[shortFormID]
	if !ok {
		return Prescription{}, false
	}
	return p.clone(), true
}

// Query selects prescriptions for the tracker. Empty fields match anything;
// at least ShortFormID or NHSNumber should be set.
type Query struct {
	ShortFormID string
	NHSNumber   string
	Status      PrescriptionStatus
	// AuthoredFrom and AuthoredTo bound when the prescription was created
	// (zero: unbounded; To is exclusive).
	AuthoredFrom, AuthoredTo time.Time
}

// Search returns copies of the matching prescriptions, oldest first.
func (s *State) Search(q Query) []Prescription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Prescription
	for _, p := range s.rx {
		if (q.ShortFormID == "" || p.ShortFormID == q.ShortFormID) &&
			(q.NHSNumber == "" || p.NHSNumber == q.NHSNumber) &&
			(q.Status == "" || p.Status == q.Status) &&
			(q.AuthoredFrom.IsZero() || !p.Created.Before(q.AuthoredFrom)) &&
			(q.AuthoredTo.IsZero() || p.Created.Before(q.AuthoredTo)) {
			out = append(out, p.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ShortFormID < out[j].ShortFormID
	})
	return out
}

// CancelResolutions returns the resolutions with Seq > after.
func (s *State) CancelResolutions(after int) []CancelResolution {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CancelResolution
	for _, r := range s.resolutions {
		if r.Seq > after {
			out = append(out, r)
		}
	}
	return out
}

// resolve records a pending cancellation's outcome. Caller holds s.mu.
func (s *State) resolve(p *Prescription, it *Item, code CancelCode, now time.Time) {
	it.CancelPending = false
	it.CancelRequester = ""
	r := s.addResolution(CancelResolution{ShortFormID: p.ShortFormID, ItemID: it.ID, Code: code, At: now})
	if s.onResolved != nil {
		s.onResolved(r)
	}
}

// lookup returns the stored prescription or a not-found refusal (one that
// says so when the cap forgot the prescription). Caller holds s.mu.
func (s *State) lookup(id string) (*Prescription, error) {
	p, ok := s.rx[id]
	if !ok {
		if err := s.forgottenError(ReasonNotFound, id); err != nil {
			return nil, err
		}
		return nil, refuse(ReasonNotFound, id, "not found")
	}
	return p, nil
}

// deriveStatus computes the prescription status from its items once a
// dispenser holds it.
func deriveStatus(p *Prescription) PrescriptionStatus {
	allTerminal, anyDispensed, allCancelled := true, false, true
	for _, it := range p.Items {
		switch it.Status {
		case ItemDispensed, ItemPartial:
			anyDispensed = true
		}
		if it.Status != ItemCancelled {
			allCancelled = false
		}
		if !it.Status.terminal() {
			allTerminal = false
		}
	}
	switch {
	case allCancelled:
		return StatusCancelled
	case allTerminal && anyDispensed:
		return StatusDispensed
	case allTerminal:
		return StatusNotDispensed
	case p.dispensed():
		return StatusWithDispenserActive
	default:
		return StatusWithDispenser
	}
}
