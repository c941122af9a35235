package v3

import "testing"

// countingCompanion counts its resets.
type countingCompanion struct{ resets int }

func (c *countingCompanion) Reset() { c.resets++ }

// TestSpaceCompanion checks that a Space makes its companion once, keeps it
// from message to message and resets it when it is given back, and that a
// nil Space has none.
func TestSpaceCompanion(t *testing.T) {
	var nilSpace *Space
	made := 0
	mk := func() Companion { made++; return &countingCompanion{} }
	if c := nilSpace.Companion(mk); c != nil || made != 0 {
		t.Fatalf("a nil Space gave companion %v (made %d)", c, made)
	}
	sc := NewScratch()
	sp := sc.Get()
	c := sp.Companion(mk).(*countingCompanion)
	if again := sp.Companion(mk); again != c || made != 1 {
		t.Fatalf("asked twice, the Space gave %p then %p (made %d)", c, again, made)
	}
	if c.resets != 0 {
		t.Fatalf("reset %d times before the Space was given back", c.resets)
	}
	sc.Put(sp)
	if c.resets != 1 {
		t.Fatalf("reset %d times when the Space was given back, want 1", c.resets)
	}
	if again := sp.Companion(mk); again != c || made != 1 {
		t.Fatalf("after Put, the Space gave %p, want its companion %p kept (made %d)", again, c, made)
	}
}
