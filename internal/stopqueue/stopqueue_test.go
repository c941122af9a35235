package stopqueue

import (
	"sync"
	"testing"
)

// TestQueue: Put refuses when full and after Close; Close returns what
// was queued, in order; under concurrent Puts every item is either
// returned by a taker or Close, or refused — none is lost.
func TestQueue(t *testing.T) {
	q := New[int](2)
	for i, want := range []int{Queued, Queued, Full} {
		if got := q.Put(i); got != want {
			t.Fatalf("Put(%d) = %d, want %d", i, got, want)
		}
	}
	if left := q.Close(); len(left) != 2 || left[0] != 0 || left[1] != 1 {
		t.Fatalf("Close = %v, want [0 1]", left)
	}
	if got := q.Put(9); got != Closed {
		t.Fatalf("Put after Close = %d, want Closed", got)
	}

	q = New[int](8)
	stop, takerDone := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-q.C():
				n++
			case <-stop:
				takerDone <- n
				return
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if q.Put(p*1000+i) != Queued {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	taken := <-takerDone
	left := q.Close()
	if taken+len(left)+refused != 2000 {
		t.Fatalf("taken %d + left %d + refused %d != 2000", taken, len(left), refused)
	}
}
