package maptest

import (
	"testing"

	v3 "github.com/porxgate/porxgate/v3"
)

// SameWithScratch checks that translations building their trees in a
// reused v3.Scratch return what translations in fresh memory return:
// nothing returned refers to memory given back, and nothing of one message
// leaks into the next. run translates every message in turn with the given
// Scratch (nil: fresh memory) and renders each result (its output, the
// values returned beside it, its error) as a string. SameWithScratch runs
// it once in fresh memory, then twice with one Scratch, so that each
// message is read and written in the memory of the ones before, and fails
// at the first difference. It returns the fresh results, for the caller to
// check that they are the ones it meant.
func SameWithScratch(t testing.TB, run func(sc *v3.Scratch) []string) []string {
	t.Helper()
	want := run(nil)
	sc := v3.NewScratch()
	for round := 0; round < 2; round++ {
		got := run(sc)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d results with a reused Scratch, %d in fresh memory", round, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("message %d (round %d), translated with a reused Scratch:\n%s\nwant\n%s", i, round, got[i], want[i])
			}
		}
	}
	return want
}
