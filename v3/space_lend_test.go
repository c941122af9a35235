package v3

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestLend checks the room a Space lends: every loan of a message apart
// from the others and of the length asked for, past the first slab too;
// lent again, from the start of the largest slab, once the Space is given
// back; fresh memory from a nil Space; a slab past maxKeptLent not kept.
func TestLend(t *testing.T) {
	s := NewScratch()
	sp := s.Get()
	var loans [][]byte
	sizes := []int{0, 1, 100, 3000, lendSlab, 5000, 2 * lendSlab, 7}
	for i, n := range sizes {
		b := sp.Lend(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("Lend(%d): len %d cap %d", n, len(b), cap(b))
		}
		for j := range b {
			b[j] = byte(i + 1)
		}
		loans = append(loans, b)
	}
	for i, b := range loans {
		if want := bytes.Repeat([]byte{byte(i + 1)}, sizes[i]); !bytes.Equal(b, want) {
			t.Fatalf("loan %d (%d bytes) written over by a later one", i, sizes[i])
		}
	}
	last := unsafe.SliceData(sp.lent)
	s.Put(sp)
	if len(sp.lent) != 0 || unsafe.SliceData(sp.lent) != last {
		t.Fatalf("after Put: %d bytes lent, slab kept %v; want 0, the last slab", len(sp.lent), unsafe.SliceData(sp.lent) == last)
	}
	if b := sp.Lend(10); unsafe.SliceData(b) != last {
		t.Fatal("a Space given back does not lend its last slab again from its start")
	}

	var nilSpace *Space
	if b := nilSpace.Lend(5); len(b) != 5 || cap(b) != 5 {
		t.Fatalf("nil Space: len %d cap %d", len(b), cap(b))
	}

	big := &Space{}
	big.Lend(maxKeptLent + 1)
	big.reset()
	if big.lent != nil {
		t.Fatalf("a slab of %d bytes kept past reset", maxKeptLent+1)
	}
}

// TestLendNoAllocation checks that a Space that has lent as much before
// lends without an allocation.
func TestLendNoAllocation(t *testing.T) {
	sp := &Space{}
	sp.Lend(3000)
	sp.reset()
	if n := testing.AllocsPerRun(100, func() {
		sp.Lend(1000)
		sp.Lend(2000)
		sp.reset()
	}); n != 0 {
		t.Fatalf("%v allocations a message", n)
	}
}
