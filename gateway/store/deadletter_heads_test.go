package store_test

import (
	"context"
	"fmt"
	"github.com/redis/go-redis/v9"
	"slices"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// headsOf lists the heads DeadLetterHeads gives from offset, "-" for none.
func headsOf(t *testing.T, s store.Store, offset, limit int) []string {
	t.Helper()
	h, ok := s.(interface {
		DeadLetterHeads(ctx context.Context, offset, limit int) ([]store.DeadLetterHead, error)
	})
	if !ok {
		t.Fatalf("%T keeps no dead-letter heads", s)
	}
	heads, err := h.DeadLetterHeads(context.Background(), offset, limit)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, x := range heads {
		if x.Head == nil {
			out = append(out, "-")
			continue
		}
		out = append(out, string(x.Head))
	}
	return out
}

// TestDeadLetterHeadsInStep: the head kept with each dead letter (what
// the live state lists, without the message) stays at its dead letter's
// place whatever is requeued, including a dead letter kept without one
// (by an older porxgate) and one of two equal dead letters, so that a
// listing never shows one dead letter's reason against another.
func TestDeadLetterHeadsInStep(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dead := func(id, head string) {
				t.Helper()
				if err := s.Enqueue(ctx, item("inbox", id, "x", t0)); err != nil {
					t.Fatal(err)
				}
				l := mustClaim(t, s, "inbox", t0, time.Minute)
				f := store.Finish{DeadLetter: []byte("dead " + id)}
				if head != "" {
					f.DeadLetterHead = []byte(head)
				}
				if err := s.Complete(ctx, l, f); err != nil {
					t.Fatal(err)
				}
			}
			requeue := func(id string) {
				t.Helper()
				if ok, err := s.Requeue(ctx, []byte("dead "+id)); err != nil || !ok {
					t.Fatalf("Requeue %s = %v, %v", id, ok, err)
				}
			}
			dead("old1", "") // older porxgate: no head
			dead("old2", "")
			for i := range 5 {
				dead(fmt.Sprint("n", i), fmt.Sprint("head n", i))
			}
			if got, want := headsOf(t, s, 0, 10), []string{"head n4", "head n3", "head n2", "head n1", "head n0", "-", "-"}; !slices.Equal(got, want) {
				t.Fatalf("heads %q, want %q", got, want)
			}
			requeue("n2")   // one with a head, in the middle
			requeue("old1") // one without, past the heads
			requeue("n4")   // the newest
			if got, want := headsOf(t, s, 0, 10), []string{"head n3", "head n1", "head n0", "-"}; !slices.Equal(got, want) {
				t.Errorf("after requeues, heads %q, want %q", got, want)
			}
			if got, want := headsOf(t, s, 2, 1), []string{"head n0"}; !slices.Equal(got, want) {
				t.Errorf("heads from offset 2: %q, want %q", got, want)
			}
			raw, err := s.DeadLetterPage(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, b := range raw {
				ids = append(ids, string(b))
			}
			if want := []string{"dead n3", "dead n1", "dead n0", "dead old2"}; !slices.Equal(ids, want) {
				t.Errorf("dead letters %q, want %q", ids, want)
			}
			// Two equal dead letters: requeuing one leaves one, and one head.
			dead("n1", "head n1")
			requeue("n1")
			if got, want := headsOf(t, s, 0, 10), []string{"head n3", "head n1", "head n0", "-"}; !slices.Equal(got, want) {
				t.Errorf("after requeuing one of two equal, heads %q, want %q", got, want)
			}
		})
	}
}

// TestDeadLetterHeadsBesideAnOlderPorxgate: an older porxgate on the same
// Redis (a rolling upgrade, a rollback) pushes and resends dead letters
// without their heads. The heads then no longer match the dead letters'
// places, and a listing from them would show one dead letter's reason
// against another's: they are not used (every dead letter is read whole)
// until the next write starts them afresh. At the cap, where an older
// porxgate's push and trim leave the lengths as they were, none are kept.
func TestDeadLetterHeadsBesideAnOlderPorxgate(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	all := stores(t)
	for _, name := range []string{"redis", "redis-cluster"} {
		s := all[name].(*store.Redis)
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c, key := s.Client(), s.Prefix()+"deadletters"
			n := 0
			dead := func() string {
				t.Helper()
				n++
				id := fmt.Sprint(name, n)
				if err := s.Enqueue(ctx, item("inbox", id, "x", t0)); err != nil {
					t.Fatal(err)
				}
				l := mustClaim(t, s, "inbox", t0, time.Minute)
				if err := s.Complete(ctx, l, store.Finish{DeadLetter: []byte("dead " + id), DeadLetterHead: []byte("head " + id)}); err != nil {
					t.Fatal(err)
				}
				return "head " + id
			}
			older := func(op func() error) {
				t.Helper()
				if err := op(); err != nil {
					t.Fatal(err)
				}
			}
			a, b := dead(), dead()
			if got, want := headsOf(t, s, 0, 5), []string{b, a}; !slices.Equal(got, want) {
				t.Fatalf("heads %q, want %q", got, want)
			}
			older(func() error { return c.LPush(ctx, key, "dead by an older porxgate").Err() })
			if got, want := headsOf(t, s, 0, 5), []string{"-", "-", "-"}; !slices.Equal(got, want) {
				t.Errorf("after an older porxgate's push, heads %q, want none used %q", got, want)
			}
			d := dead()
			if got, want := headsOf(t, s, 0, 5), []string{d, "-", "-", "-"}; !slices.Equal(got, want) {
				t.Errorf("after a write started them afresh, heads %q, want %q", got, want)
			}
			older(func() error { return c.LRem(ctx, key, 1, "dead by an older porxgate").Err() })
			if got, want := headsOf(t, s, 0, 5), []string{"-", "-", "-"}; !slices.Equal(got, want) {
				t.Errorf("after an older porxgate's resend, heads %q, want none used %q", got, want)
			}
			// At the cap: no heads, so an older porxgate's push and trim there
			// cannot put them out of step.
			older(func() error {
				_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for range store.DeadLetterCap - 4 {
						p.RPush(ctx, key, "old")
					}
					return nil
				})
				return err
			})
			dead()
			older(func() error {
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.LPush(ctx, key, "dead by an older porxgate at the cap")
					p.LTrim(ctx, key, 0, store.DeadLetterCap-1)
					return nil
				})
				return err
			})
			if got, want := headsOf(t, s, 0, 3), []string{"-", "-", "-"}; !slices.Equal(got, want) {
				t.Errorf("at the cap, heads %q, want none %q", got, want)
			}
			for _, dl := range []string{"dead by an older porxgate at the cap", "old"} {
				if ok, err := s.Requeue(ctx, []byte(dl)); err != nil || !ok {
					t.Fatalf("Requeue %q = %v, %v", dl, ok, err)
				}
			}
			e := dead()
			if got, want := headsOf(t, s, 0, 3), []string{e, "-", "-"}; !slices.Equal(got, want) {
				t.Errorf("below the cap again, heads %q, want %q", got, want)
			}
		})
	}
}
