package maptest

import (
	"fmt"
	"sync"
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

// SameConcurrently translates with one v3.Scratch from four goroutines at
// once (run it with -race), each going twice over the messages from its own
// starting point, and fails when a result differs from want (the results
// in fresh memory): each Space must be one translation's at a time.
// translate translates message i with the Scratch and renders the result.
func SameConcurrently(t testing.TB, want []string, translate func(i int, sc *v3.Scratch) string) {
	t.Helper()
	sc := v3.NewScratch()
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 2*len(want); k++ {
				i := (g*7 + k) % len(want)
				if got := translate(i, sc); got != want[i] {
					errs <- fmt.Sprintf("message %d:\n%s\nwant\n%s", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
