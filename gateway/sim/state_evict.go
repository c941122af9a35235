package sim

// The simulator runs for weeks under `make run`; EPS keeps prescriptions
// for years, the simulator only for as long as its cap allows. These are
// the bounds of its memory.

const (
	// DefaultMaxPrescriptions is how many prescriptions a State keeps when
	// no cap is set. A stored prescription costs about 14 KB of heap with a
	// 12 KB prescription-order Bundle (BenchmarkStateMemory), so the default
	// holds the simulator near 70 MB however long it runs.
	DefaultMaxPrescriptions = 5_000
	// maxResolutions is how many cancel resolutions are kept for
	// CancelResolutions; older ones have long been read by any poller.
	maxResolutions = 10_000
)

// SetCapacity sets how many prescriptions s keeps: when a new one would
// exceed max, the oldest stored is forgotten (a later request for it is
// answered as EPS answers an unknown prescription). max ≤ 0 keeps every
// prescription (tests that need exact totals).
func (s *State) SetCapacity(max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max
	s.evictLocked()
}

// remember notes id as the newest stored prescription and evicts the
// oldest beyond the cap. Caller holds s.mu.
func (s *State) remember(id string) {
	s.order = append(s.order, id)
	s.evictLocked()
}

// evictLocked forgets the oldest prescriptions beyond the cap, and frees
// the order queue's dead head when it is half the queue. Caller holds s.mu.
func (s *State) evictLocked() {
	for s.max > 0 && len(s.rx) > s.max && s.head < len(s.order) {
		delete(s.rx, s.order[s.head])
		s.order[s.head] = ""
		s.head++
		s.evicted++
	}
	if s.head > 0 && s.head*2 >= len(s.order) {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
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
