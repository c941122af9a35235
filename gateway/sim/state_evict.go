package sim

import (
	"fmt"
	"time"
)

// The simulator runs for weeks under `make run`; EPS keeps prescriptions
// for years, the simulator only for as long as its cap allows. These are
// the bounds of its memory.
//
// A prescription the cap forgot is one EPS would still hold, so a later
// request for it is not answered as if it had never been: the State
// remembers the ids of the last maxForgotten prescriptions it forgot and
// refuses a request for one with a StateError whose Forgotten is set
// (IsForgotten) and whose Detail says why — not found (RESOURCE_NOT_FOUND,
// R-0008, the tracker's "Prescription ID not found", each with that
// diagnostics), a prescription-order again as DUPLICATE_PRESCRIPTION_ID,
// as EPS would answer it; a cancellation of one is not kept for a
// prescription still to come. The Server logs each such answer and counts
// it (Stats.ForgottenRequests, beside Stats.Evicted). What the simulator
// cannot tell: a nominated download does not deliver a forgotten
// prescription (nothing names it), a tracker search by NHS number leaves
// it out, and past maxForgotten the oldest ids are answered as unknown.

const (
	// DefaultMaxPrescriptions is how many prescriptions a State keeps when
	// no cap is set. A stored prescription costs about 14 KB of heap with a
	// 12 KB prescription-order Bundle (BenchmarkStateMemory), so the default
	// holds the simulator near 70 MB however long it runs.
	DefaultMaxPrescriptions = 5_000
	// maxResolutions is how many cancel resolutions are kept for
	// CancelResolutions; older ones have long been read by any poller.
	maxResolutions = 10_000
	// maxHistory is how many dispense notifications, and how many claims
	// (per issue), one prescription keeps: past it the oldest is dropped,
	// as Spine's prescription record prunes its change log past 512
	// changes (eps-spine-shared record.py SCN_MAX: "almost certainly in an
	// uncontrolled loop"). Only the latest are ever read — the last to
	// amend or withdraw, the latest dates for the tracker — so a
	// prescription answers as before but for a withdrawal reaching back
	// past maxHistory notifications, refused as an invalid transition.
	maxHistory = 512
	// maxForgotten is how many ids of prescriptions the cap forgot the
	// State remembers (about 100 bytes each), to answer a request for one
	// as forgotten rather than as never known.
	maxForgotten = 50_000
)

// keepLast returns s without its oldest entries beyond n, in the same
// backing array (so that it does not grow without end).
func keepLast[T any](s []T, n int) []T {
	if len(s) <= n {
		return s
	}
	k := copy(s, s[len(s)-n:])
	clear(s[k:])
	return s[:k]
}

// recordDispense appends rec to p's dispense notifications, dropping the
// oldest past maxHistory (its time kept for lastDispensed). Caller holds
// s.mu.
func recordDispense(p *Prescription, rec DispenseRecord) {
	p.Dispenses = append(p.Dispenses, rec)
	for _, d := range p.Dispenses[:max(len(p.Dispenses)-maxHistory, 0)] {
		p.dispensesDropped++
		if d.At.After(p.droppedDispensedAt) {
			p.droppedDispensedAt = d.At
		}
	}
	p.Dispenses = keepLast(p.Dispenses, maxHistory)
}

// SetCapacity sets how many prescriptions s keeps: when a new one would
// exceed max, the one least recently used (created, changed or downloaded)
// is forgotten, and a later request for it is answered as EPS answers an
// unknown prescription. A prescription still being dispensed, cancelled or
// claimed thus outlives the untouched ones created after it. max ≤ 0 keeps
// every prescription (tests that need exact totals).
func (s *State) SetCapacity(max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max
	s.evictLocked()
}

// orderEntry is one use of a prescription in the order queue; it is
// stale once the prescription was used again (its used is newer).
type orderEntry struct {
	id   string
	used uint64
}

// changed records a change of p at now: p becomes the most recently
// used prescription. Caller holds s.mu.
func (s *State) changed(p *Prescription, now time.Time) {
	p.Updated = now
	s.use(p)
}

// use makes p the most recently used prescription (changed, or downloaded
// again). Caller holds s.mu.
func (s *State) use(p *Prescription) {
	s.used++
	p.used = s.used
	s.order = append(s.order, orderEntry{id: p.ShortFormID, used: p.used})
	s.compact()
}

// current reports whether e is its prescription's latest use. Caller
// holds s.mu.
func (s *State) current(e orderEntry) bool {
	p, ok := s.rx[e.id]
	return ok && p.used == e.used
}

// evictLocked forgets the least recently used prescriptions beyond the
// cap. Caller holds s.mu.
func (s *State) evictLocked() {
	for s.max > 0 && len(s.rx) > s.max && s.head < len(s.order) {
		e := s.order[s.head]
		s.order[s.head] = orderEntry{}
		s.head++
		if s.current(e) {
			delete(s.rx, e.id)
			s.evicted++
			s.rememberForgotten(e.id)
		}
	}
	s.compact()
}

// rememberForgotten notes id as forgotten for the cap, keeping the last
// maxForgotten ids. Caller holds s.mu.
func (s *State) rememberForgotten(id string) {
	if s.forgotten == nil {
		s.forgotten = map[string]struct{}{}
	}
	s.forgotten[id] = struct{}{}
	s.forgottenOrder = append(s.forgottenOrder, id)
	if n := len(s.forgottenOrder) - maxForgotten; n > 0 {
		for _, old := range s.forgottenOrder[:n] {
			delete(s.forgotten, old)
		}
		s.forgottenOrder = s.forgottenOrder[n:]
	}
}

// forgottenError is the refusal, for reason r, of a request for
// prescription id when the cap forgot it; nil when it did not. Caller
// holds s.mu.
func (s *State) forgottenError(r Reason, id string) *StateError {
	if _, gone := s.forgotten[id]; !gone {
		return nil
	}
	return &StateError{Reason: r, ShortFormID: id, Forgotten: true, Detail: fmt.Sprintf(
		"forgotten by the EPS simulator, which keeps %d prescriptions, the least recently used forgotten first "+
			"(--sim-max-prescriptions, --max-prescriptions): EPS would still hold it", s.max)}
}

// forgottenRefusal is the not-found refusal for prescription id when the
// cap forgot it (among the last maxForgotten), else nil.
func (s *State) forgottenRefusal(id string) *StateError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forgottenError(ReasonNotFound, id)
}

// compact drops the order queue's dead head once it is half the queue, and
// its stale entries once they outnumber the live ones: the queue stays
// within about twice the prescriptions kept. Caller holds s.mu.
func (s *State) compact() {
	if queued := len(s.order) - s.head; s.head > 0 && s.head*2 >= len(s.order) || queued > 2*len(s.rx)+64 {
		kept := s.order[:0]
		for _, e := range s.order[s.head:] {
			if s.current(e) {
				kept = append(kept, e)
			}
		}
		clear(s.order[len(kept):])
		s.order, s.head = kept, 0
	}
}

// Evicted returns how many prescriptions were forgotten for the cap.
func (s *State) Evicted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
}

// addResolution appends r, numbered after the last one, keeping at most
// maxResolutions. Caller holds s.mu.
func (s *State) addResolution(r CancelResolution) CancelResolution {
	s.seq++
	r.Seq = s.seq
	if len(s.resolutions) >= maxResolutions {
		n := copy(s.resolutions, s.resolutions[len(s.resolutions)-maxResolutions+1:])
		s.resolutions = s.resolutions[:n]
	}
	s.resolutions = append(s.resolutions, r)
	return r
}
