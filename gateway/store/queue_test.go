package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func item(queue, id, data string, due time.Time) store.Item {
	return store.Item{Queue: queue, ID: id, Data: []byte(data), Due: due}
}

func mustClaim(t *testing.T, s store.Store, queue string, now time.Time, lease time.Duration) *store.Lease {
	t.Helper()
	l, err := s.Claim(context.Background(), queue, now, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if l == nil {
		t.Fatalf("Claim(%s at %s): nothing due", queue, now.Format(time.TimeOnly))
	}
	return l
}

func wantNothing(t *testing.T, s store.Store, queue string, now time.Time) {
	t.Helper()
	l, err := s.Claim(context.Background(), queue, now, time.Minute)
	if err != nil || l != nil {
		t.Fatalf("Claim(%s at %s) = %+v, %v; want nothing due", queue, now.Format(time.TimeOnly), l, err)
	}
}

func TestQueues(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"a lease says whether more was due", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			s.Enqueue(ctx, item("inbox", "m1", "a", t0), item("inbox", "m2", "b", t0.Add(time.Second)),
				item("inbox", "m3", "c", t0.Add(time.Hour)))
			if l := mustClaim(t, s, "inbox", t0.Add(time.Second), time.Minute); l.ID != "m1" || !l.More {
				t.Fatalf("first claim %s more=%v, want m1 with more", l.ID, l.More)
			}
			if l := mustClaim(t, s, "inbox", t0.Add(time.Second), time.Minute); l.ID != "m2" || l.More {
				t.Fatalf("second claim %s more=%v, want m2 and nothing more due (m3 is not due, m1 is leased)", l.ID, l.More)
			}
			wantNothing(t, s, "inbox", t0.Add(time.Second))
		}},
		{"an item queued already claimed is its holder's until the lease ends", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			held := item("inbox", "h1", "held", t0.Add(time.Minute))
			held.Token = "tok-1"
			fresh, err := s.Accept(ctx, "held-1", time.Hour, held, item("outbox", "ack-1", "ack", t0))
			if err != nil || !fresh {
				t.Fatalf("Accept = %v, %v; want fresh", fresh, err)
			}
			wantNothing(t, s, "inbox", t0.Add(59*time.Second)) // held: not claimable
			l := held.HeldLease()
			if l.Until != held.Due || l.Token != "tok-1" || string(l.Data) != "held" {
				t.Fatalf("HeldLease = %+v", l)
			}
			if err := s.Extend(ctx, l, t0.Add(2*time.Minute)); err != nil {
				t.Fatalf("Extend by the holder: %v", err)
			}
			wantNothing(t, s, "inbox", t0.Add(90*time.Second))
			if err := s.Complete(ctx, l, store.Finish{}); err != nil {
				t.Fatalf("Complete by the holder: %v", err)
			}
			wantNothing(t, s, "inbox", t0.Add(time.Hour))
			if l := mustClaim(t, s, "outbox", t0, time.Minute); l.ID != "ack-1" {
				t.Fatalf("outbox claim %s, want ack-1", l.ID)
			}
		}},
		{"a held item whose holder stops is claimed when its lease ends", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			held := item("inbox", "h2", "held", t0.Add(time.Minute))
			held.Token = "tok-2"
			if fresh, err := s.Accept(ctx, "held-2", time.Hour, held); err != nil || !fresh {
				t.Fatalf("Accept = %v, %v; want fresh", fresh, err)
			}
			wantNothing(t, s, "inbox", t0.Add(30*time.Second))
			l := mustClaim(t, s, "inbox", t0.Add(time.Minute), time.Minute)
			if l.ID != "h2" || string(l.Data) != "held" {
				t.Fatalf("claim after the lease = %s %q", l.ID, l.Data)
			}
			if err := s.Complete(ctx, held.HeldLease(), store.Finish{}); !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("Complete by the first holder after the take-over = %v, want ErrLeaseLost", err)
			}
		}},
		{"a held item already queued makes the accept a duplicate with no lease", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			s.Enqueue(ctx, item("inbox", "h3", "first", t0))
			held := item("inbox", "h3", "again", t0.Add(time.Minute))
			held.Token = "tok-3"
			fresh, err := s.Accept(ctx, "held-3", time.Hour, held, item("outbox", "ack-3", "ack", t0))
			if err != nil || fresh {
				t.Fatalf("Accept = %v, %v; want a duplicate", fresh, err)
			}
			if err := s.Extend(ctx, held.HeldLease(), t0.Add(time.Hour)); !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("Extend without the lease = %v, want ErrLeaseLost", err)
			}
			if l := mustClaim(t, s, "inbox", t0, time.Minute); string(l.Data) != "first" {
				t.Fatalf("queued item = %q, want the first one untouched", l.Data)
			}
			if again, _ := s.Accept(ctx, "held-3", time.Hour); again {
				t.Fatal("the seen key was not recorded")
			}
			if l := mustClaim(t, s, "outbox", t0, time.Minute); l.ID != "ack-3" {
				t.Fatalf("outbox claim %s, want ack-3 (the acknowledgment is still queued)", l.ID)
			}
		}},
		{"complete queues an answer already claimed, or nothing when its id is taken", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			s.Enqueue(ctx, item("inbox", "m4", "in", t0), item("outbox", "taken", "first", t0.Add(time.Hour)))
			l := mustClaim(t, s, "inbox", t0, time.Minute)
			clash := item("outbox", "taken", "again", t0.Add(time.Minute))
			clash.Token = "tok-4"
			if err := s.Complete(ctx, l, store.Finish{Enqueue: []store.Item{item("outbox", "other", "x", t0), clash}}); !errors.Is(err, store.ErrHeldQueued) {
				t.Fatalf("Complete with a held id taken = %v, want ErrHeldQueued", err)
			}
			wantNothing(t, s, "outbox", t0) // nothing written: "other" not queued
			answer := item("outbox", "a4", "answer", t0.Add(time.Minute))
			answer.Token = "tok-5"
			if err := s.Complete(ctx, l, store.Finish{Enqueue: []store.Item{answer}}); err != nil {
				t.Fatalf("Complete with a held answer: %v (the lease must have survived the refused Complete)", err)
			}
			wantNothing(t, s, "inbox", t0.Add(time.Hour))
			wantNothing(t, s, "outbox", t0.Add(59*time.Second))
			if err := s.Complete(ctx, answer.HeldLease(), store.Finish{}); err != nil {
				t.Fatalf("Complete of the answer by its holder: %v", err)
			}
		}},
		{"requeue a dead letter once", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			s.Enqueue(ctx, item("inbox", "d1", "x", t0))
			l := mustClaim(t, s, "inbox", t0, time.Minute)
			if err := s.Complete(ctx, l, store.Finish{DeadLetter: []byte(`{"messageId":"d1"}`)}); err != nil {
				t.Fatal(err)
			}
			ok, err := s.Requeue(ctx, []byte(`{"messageId":"d1"}`), item("inbox", "d1", "again", t0))
			if err != nil || !ok {
				t.Fatalf("Requeue = %v, %v", ok, err)
			}
			ok, err = s.Requeue(ctx, []byte(`{"messageId":"d1"}`), item("inbox", "d1-b", "twice", t0))
			if err != nil || ok {
				t.Fatalf("second Requeue = %v, %v; want false", ok, err)
			}
			if dls, _ := s.DeadLetters(ctx, 10); len(dls) != 0 {
				t.Errorf("dead letters left: %q", dls)
			}
			if l := mustClaim(t, s, "inbox", t0, time.Minute); string(l.Data) != "again" {
				t.Errorf("requeued data %q", l.Data)
			}
			wantNothing(t, s, "inbox", t0)
		}},
		{"accept once", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			ok, err := s.Accept(ctx, "ebxml:X:1", time.Minute, item("inbox", "1", "a", t0), item("outbox", "ack1", "b", t0))
			if err != nil || !ok {
				t.Fatalf("first Accept = %v, %v", ok, err)
			}
			ok, err = s.Accept(ctx, "ebxml:X:1", time.Minute, item("inbox", "1", "changed", t0), item("outbox", "ack2", "c", t0))
			if err != nil || ok {
				t.Fatalf("duplicate Accept = %v, %v; want false", ok, err)
			}
			for q, want := range map[string]int{"inbox": 1, "outbox": 1} {
				if n, _ := s.QueueLen(ctx, q); n != want {
					t.Errorf("QueueLen(%s) = %d, want %d", q, n, want)
				}
			}
			if l := mustClaim(t, s, "inbox", t0, time.Minute); string(l.Data) != "a" {
				t.Errorf("data = %q, want a", l.Data)
			}
			if fresh, _ := s.MarkSeen(ctx, "ebxml:X:1", time.Minute); fresh {
				t.Error("Accept did not mark the key seen")
			}
			if err := s.Forget(ctx, "ebxml:X:1"); err != nil {
				t.Fatal(err)
			}
			if fresh, _ := s.MarkSeen(ctx, "ebxml:X:1", time.Minute); !fresh {
				t.Error("Forget did not forget")
			}
		}},
		{"claim order and due", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			if err := s.Enqueue(ctx, item("q", "late", "l", t0.Add(time.Minute)), item("q", "b", "b", t0), item("q", "a", "a", t0.Add(-time.Second))); err != nil {
				t.Fatal(err)
			}
			if err := s.Enqueue(ctx, item("q", "a", "replaced?", t0)); err != nil {
				t.Fatal(err)
			}
			l1 := mustClaim(t, s, "q", t0, 2*time.Minute)
			l2 := mustClaim(t, s, "q", t0, 2*time.Minute)
			if l1.ID != "a" || string(l1.Data) != "a" || l2.ID != "b" {
				t.Fatalf("claimed %s(%s), %s; want a(a), b", l1.ID, l1.Data, l2.ID)
			}
			wantNothing(t, s, "q", t0)
			if l := mustClaim(t, s, "q", t0.Add(time.Minute), time.Hour); l.ID != "late" { // a and b are leased until t0+2m
				t.Fatalf("claimed %s, want late", l.ID)
			}
		}},
		{"lease expiry and takeover", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("q", "m", "d", t0))
			dead := mustClaim(t, s, "q", t0, 30*time.Second)
			wantNothing(t, s, "q", t0.Add(29*time.Second))
			alive := mustClaim(t, s, "q", t0.Add(31*time.Second), 30*time.Second)
			if alive.ID != "m" || alive.Token == dead.Token {
				t.Fatalf("takeover lease = %+v", alive)
			}
			for name, err := range map[string]error{
				"extend":   s.Extend(ctx, dead, t0.Add(time.Hour)),
				"retry":    s.Retry(ctx, dead, []byte("x"), t0),
				"complete": s.Complete(ctx, dead, store.Finish{DeadLetter: []byte("no")}),
			} {
				if !errors.Is(err, store.ErrLeaseLost) {
					t.Errorf("%s with the stale lease = %v, want ErrLeaseLost", name, err)
				}
			}
			if dl, _ := s.DeadLetters(ctx, 10); len(dl) != 0 {
				t.Errorf("stale Complete wrote a dead letter")
			}
			if err := s.Complete(ctx, alive, store.Finish{}); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.QueueLen(ctx, "q"); n != 0 {
				t.Fatalf("QueueLen after Complete = %d", n)
			}
		}},
		{"extend keeps the lease", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("q", "m", "d", t0))
			l := mustClaim(t, s, "q", t0, 10*time.Second)
			if err := s.Extend(ctx, l, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if !l.Until.Equal(t0.Add(time.Minute)) {
				t.Errorf("Until = %s", l.Until)
			}
			wantNothing(t, s, "q", t0.Add(30*time.Second))
			mustClaim(t, s, "q", t0.Add(61*time.Second), time.Second)
		}},
		{"retry replaces data and reschedules", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("q", "m", "v1", t0))
			l := mustClaim(t, s, "q", t0, time.Hour)
			if err := s.Retry(ctx, l, []byte("v2"), t0.Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := s.Retry(ctx, l, []byte("v3"), t0); !errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("second Retry on a released lease = %v, want ErrLeaseLost", err)
			}
			wantNothing(t, s, "q", t0.Add(4*time.Second))
			if l2 := mustClaim(t, s, "q", t0.Add(5*time.Second), time.Minute); string(l2.Data) != "v2" {
				t.Errorf("data after Retry = %q", l2.Data)
			}
		}},
		{"complete enqueues and dead-letters atomically", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("inbox", "m", "in", t0))
			l := mustClaim(t, s, "inbox", t0, time.Minute)
			err := s.Complete(ctx, l, store.Finish{
				Enqueue:    []store.Item{item("outbox", "o1", "ans1", t0), item("outbox", "o2", "ans2", t0)},
				DeadLetter: []byte(`{"reason":"r1"}`),
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := s.QueueLen(ctx, "outbox"); n != 2 {
				t.Errorf("outbox length = %d, want 2", n)
			}
			if n, _ := s.QueueLen(ctx, "inbox"); n != 0 {
				t.Errorf("inbox length = %d, want 0", n)
			}
			_ = s.Enqueue(ctx, item("inbox", "m2", "in", t0))
			l = mustClaim(t, s, "inbox", t0, time.Minute)
			_ = s.Complete(ctx, l, store.Finish{DeadLetter: []byte(`{"reason":"r2"}`)})
			dl, err := s.DeadLetters(ctx, 10)
			if err != nil || len(dl) != 2 || string(dl[0]) != `{"reason":"r2"}` || string(dl[1]) != `{"reason":"r1"}` {
				t.Fatalf("DeadLetters = %q, %v; want newest first", dl, err)
			}
			if dl, _ := s.DeadLetters(ctx, 1); len(dl) != 1 {
				t.Errorf("DeadLetters(limit 1) gave %d", len(dl))
			}
			pages := []struct {
				offset, limit int
				want          []string
			}{
				{0, 1, []string{`{"reason":"r2"}`}},
				{1, 1, []string{`{"reason":"r1"}`}},
				{1, 5, []string{`{"reason":"r1"}`}},
				{2, 5, nil},
				{0, 0, nil},
				{-1, 2, nil},
			}
			for _, p := range pages {
				got, err := s.DeadLetterPage(ctx, p.offset, p.limit)
				if err != nil || len(got) != len(p.want) {
					t.Errorf("DeadLetterPage(%d, %d) = %q, %v; want %q", p.offset, p.limit, got, err, p.want)
					continue
				}
				for i := range got {
					if string(got[i]) != p.want[i] {
						t.Errorf("DeadLetterPage(%d, %d) = %q; want %q", p.offset, p.limit, got, p.want)
					}
				}
			}
		}},
		{"drop", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("q", "m", "d", t0))
			l := mustClaim(t, s, "q", t0, time.Minute)
			if data, ok, err := s.Peek(ctx, "q", "m"); err != nil || !ok || string(data) != "d" {
				t.Fatalf("Peek of a leased item = %q, %v, %v; want its data", data, ok, err)
			}
			if ok, err := s.Drop(ctx, "q", "m"); err != nil || !ok {
				t.Fatalf("Drop = %v, %v", ok, err)
			}
			if ok, _ := s.Drop(ctx, "q", "m"); ok {
				t.Error("second Drop found the item")
			}
			if data, ok, err := s.Peek(ctx, "q", "m"); err != nil || ok || data != nil {
				t.Errorf("Peek after Drop = %q, %v, %v; want nothing", data, ok, err)
			}
			if err := s.Complete(ctx, l, store.Finish{}); !errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("Complete after Drop = %v", err)
			}
		}},
		{"a duplicate is told the party its mark was taken from", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			it := item("inbox", "p1", "first", t0)
			it.Party = "FQ2KM-807341"
			if a, err := s.AcceptFrom(ctx, "party-1", "FQ2KM-807341", time.Hour, it); err != nil || a != (store.Accepted{Fresh: true}) {
				t.Fatalf("AcceptFrom = %+v, %v; want fresh", a, err)
			}
			for _, from := range []string{"FQ2KM-807341", "FCG71-807342"} {
				if a, err := s.AcceptFrom(ctx, "party-1", from, time.Hour, item("inbox", "p1", "again", t0)); err != nil || a != (store.Accepted{Party: "FQ2KM-807341"}) {
					t.Errorf("AcceptFrom by %s = %+v, %v; want a duplicate of FQ2KM-807341's", from, a, err)
				}
			}
			if party, ok, err := s.TouchMark(ctx, "party-1", time.Hour); err != nil || !ok || party != "FQ2KM-807341" {
				t.Errorf("TouchMark = %q, %v, %v; want FQ2KM-807341's mark", party, ok, err)
			}
			// Marks without a party: MarkSeen's, Accept's.
			if _, err := s.MarkSeen(ctx, "party-2", time.Hour); err != nil {
				t.Fatal(err)
			}
			if a, err := s.AcceptFrom(ctx, "party-2", "FCG71-807342", time.Hour); err != nil || a != (store.Accepted{}) {
				t.Errorf("AcceptFrom under a mark without a party = %+v, %v; want a duplicate of nobody's", a, err)
			}
			if party, ok, err := s.TouchMark(ctx, "party-2", time.Hour); err != nil || !ok || party != "" {
				t.Errorf("TouchMark of a mark without a party = %q, %v, %v", party, ok, err)
			}
			if party, ok, err := s.TouchMark(ctx, "party-none", time.Hour); err != nil || ok || party != "" {
				t.Errorf("TouchMark of no mark = %q, %v, %v; want none", party, ok, err)
			}
		}},
		{"a message in hand past its mark is another party's to refuse, its own party's duplicate", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			queued := item("inbox", "X:1", "first", t0)
			queued.Party = "FQ2KM-807341"
			if err := s.Enqueue(ctx, queued); err != nil { // its mark gone
				t.Fatal(err)
			}
			other := item("inbox", "X:1", "other's", t0)
			other.Party, other.Token = "FCG71-807342", "tok-o"
			a, err := s.AcceptFrom(ctx, "inhand", "FCG71-807342", time.Hour, other, item("outbox", "ack-o", "ack", t0))
			if err != nil || a != (store.Accepted{Party: "FQ2KM-807341"}) {
				t.Fatalf("another party's AcceptFrom = %+v, %v; want a duplicate of FQ2KM-807341's", a, err)
			}
			if party, ok, _ := s.TouchMark(ctx, "inhand", time.Hour); ok {
				t.Fatalf("another party's message in hand left a mark (of %q)", party)
			}
			if n, _ := s.QueueLen(ctx, "outbox"); n != 0 {
				t.Fatalf("another party's message in hand queued %d items", n)
			}
			own := item("inbox", "X:1", "again", t0)
			own.Party = "FQ2KM-807341"
			a, err = s.AcceptFrom(ctx, "inhand", "FQ2KM-807341", time.Hour, own, item("outbox", "ack-1", "ack", t0))
			if err != nil || a != (store.Accepted{Party: "FQ2KM-807341"}) {
				t.Fatalf("its own party's AcceptFrom = %+v, %v; want a duplicate", a, err)
			}
			if party, ok, _ := s.TouchMark(ctx, "inhand", time.Hour); !ok || party != "FQ2KM-807341" {
				t.Errorf("its own party's retry marked %q, %v; want the mark made again", party, ok)
			}
			if l := mustClaim(t, s, "inbox", t0, time.Minute); string(l.Data) != "first" {
				t.Errorf("queued %q, want the first untouched", l.Data)
			}
			if l := mustClaim(t, s, "outbox", t0, time.Minute); l.ID != "ack-1" {
				t.Errorf("outbox %s, want ack-1", l.ID)
			}
		}},
		{"replies", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			if _, ok, err := s.GetReply(ctx, "k"); ok || err != nil {
				t.Fatalf("GetReply of nothing = %v, %v", ok, err)
			}
			body := []byte("<r>£ ✓</r>\x00\xff")
			if err := s.PutReply(ctx, "k", body, time.Minute); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.GetReply(ctx, "k")
			if err != nil || !ok || string(got) != string(body) {
				t.Fatalf("GetReply = %q, %v, %v", got, ok, err)
			}
		}},
		{"due times count in whole milliseconds, ties in id order", func(t *testing.T, s store.Store) {
			// Redis scores a queue in Unix milliseconds and orders equal
			// scores by member (the id); the memory store once compared
			// nanoseconds and broke ties by arrival, so tests on it saw
			// an order production never gives.
			ctx := context.Background()
			ms := t0.Add(500 * time.Microsecond) // within t0's millisecond
			_ = s.Enqueue(ctx, item("q", "z", "z", t0), item("q", "y", "y", t0),
				item("q", "c", "c", t0.Add(300*time.Microsecond)), item("q", "b", "b", t0.Add(900*time.Microsecond)),
				item("q", "a", "a", t0.Add(time.Millisecond)))
			var got []string
			for range 4 {
				got = append(got, mustClaim(t, s, "q", ms, time.Minute).ID)
			}
			if strings.Join(got, ",") != "b,c,y,z" {
				t.Fatalf("claimed %v within t0's millisecond, want b,c,y,z (all due in it; a is due at the next)", got)
			}
			wantNothing(t, s, "q", ms)
			if l := mustClaim(t, s, "q", t0.Add(time.Millisecond), time.Minute); l.ID != "a" || l.More {
				t.Fatalf("claimed %s more=%v at t0+1ms, want a and nothing more", l.ID, l.More)
			}
		}},
		{"a lease ends in the millisecond of its end", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			_ = s.Enqueue(ctx, item("q", "m", "d", t0))
			first := mustClaim(t, s, "q", t0.Add(200*time.Microsecond), 10*time.Second+600*time.Microsecond)
			if !first.Until.Equal(t0.Add(10*time.Second + 800*time.Microsecond)) {
				t.Fatalf("Until = %s", first.Until)
			}
			// The lease's end falls within t0+10s's millisecond: the item is
			// due again from its start, as Redis keeps the end.
			if l := mustClaim(t, s, "q", t0.Add(10*time.Second+100*time.Microsecond), time.Minute); l.ID != "m" {
				t.Fatalf("claimed %s, want m", l.ID)
			}
		}},
		{"requeue of one of two equal dead letters takes the newest", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			for i, dl := range []string{"A", "B", "A"} {
				_ = s.Enqueue(ctx, item("q", fmt.Sprint(i), "d", t0))
				l := mustClaim(t, s, "q", t0, time.Minute)
				if err := s.Complete(ctx, l, store.Finish{DeadLetter: []byte(dl)}); err != nil {
					t.Fatal(err)
				}
			}
			if ok, err := s.Requeue(ctx, []byte("A")); err != nil || !ok {
				t.Fatalf("Requeue = %v, %v", ok, err)
			}
			if dls, _ := s.DeadLetters(ctx, 10); fmt.Sprintf("%s", dls) != "[B A]" {
				t.Fatalf("dead letters after the requeue = %s, want [B A] (newest first; the newest A taken, as LREM takes it)", dls)
			}
		}},
		{"binary data survives", func(t *testing.T, s store.Store) {
			ctx := context.Background()
			data := "Zoë \x00\x01\xfe\xff 🙂"
			_ = s.Enqueue(ctx, item("q", "m", data, t0))
			if l := mustClaim(t, s, "q", t0, time.Minute); string(l.Data) != data {
				t.Fatalf("data = %q", l.Data)
			}
		}},
	}
	srv := redistest.Start(t)
	for i, tt := range tests {
		r, err := store.NewRedis(srv.URL(), fmt.Sprintf("t%d:", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		for name, s := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": r} {
			t.Run(tt.name+"/"+name, func(t *testing.T) { tt.run(t, s) })
		}
	}
}

// TestClaimIsExclusive has many workers claim from one queue at once and
// checks that every item is claimed exactly once.
func TestClaimIsExclusive(t *testing.T) {
	const items, workers = 60, 6
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i := range items {
				if err := s.Enqueue(ctx, item("q", fmt.Sprint(i), "d", t0)); err != nil {
					t.Fatal(err)
				}
			}
			var (
				mu  sync.Mutex
				got = map[string]int{}
				wg  sync.WaitGroup
			)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						l, err := s.Claim(ctx, "q", t0, time.Hour)
						if err != nil {
							t.Error(err)
							return
						}
						if l == nil {
							return
						}
						mu.Lock()
						got[l.ID]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(got) != items {
				t.Fatalf("claimed %d distinct items, want %d", len(got), items)
			}
			for id, n := range got {
				if n != 1 {
					t.Errorf("item %s claimed %d times", id, n)
				}
			}
		})
	}
}

// TestEachItemFinishedOnce has workers take messages through two queues
// at once, as the gateway's inbox and delivery workers do, on one virtual
// clock that runs leases out under them: a worker now and then abandons
// its lease (a replica dying, or pausing: it takes the stale lease up
// again later), retries, extends, or is slow enough for its lease to be
// taken over. A message's Complete queues its answer, half the
// time already claimed for the same worker (the handoff), which then
// finishes it without a Claim. Every message and every answer must be
// completed exactly once, no held answer found queued already, and
// nothing left queued.
func TestEachItemFinishedOnce(t *testing.T) {
	const items, workers, lease = 60, 6, 10 * time.Millisecond
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var clock atomic.Int64 // virtual milliseconds since t0
			now := func() time.Time { return t0.Add(time.Duration(clock.Load()) * time.Millisecond) }
			for i := range items {
				if err := s.Enqueue(ctx, item("in", fmt.Sprint(i), "msg", t0)); err != nil {
					t.Fatal(err)
				}
			}
			var (
				mu   sync.Mutex
				done = map[string]int{}
				wg   sync.WaitGroup
			)
			finished := func(l *store.Lease) {
				mu.Lock()
				defer mu.Unlock()
				done[l.Queue+"/"+l.ID]++
			}
			left := func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(done) < 2*items
			}
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 7))
					var held *store.Lease
					var paused []*store.Lease // leases abandoned, taken up again later
					for n := 0; n < 100000 && left(); n++ {
						l := held
						held = nil
						if l == nil && len(paused) > 0 && r.IntN(8) == 0 { // back from a pause
							l, paused = paused[0], paused[1:]
						}
						if l == nil {
							var err error
							if l, err = s.Claim(ctx, []string{"in", "out"}[r.IntN(2)], now(), lease); err != nil {
								t.Error(err)
								return
							}
							if l == nil { // idle: time passes (slowly, so that busy workers keep up)
								clock.Add(1)
								time.Sleep(10 * time.Microsecond)
								continue
							}
						}
						switch r.IntN(10) {
						case 0: // abandoned (a pause, or a replica dying): the lease runs out
							if len(paused) < 4 {
								paused = append(paused, l)
							}
							clock.Add(1)
							continue
						case 1:
							if err := s.Retry(ctx, l, l.Data, now()); err != nil && !errors.Is(err, store.ErrLeaseLost) {
								t.Error(err)
								return
							}
							continue
						case 2:
							if err := s.Extend(ctx, l, now().Add(lease)); err != nil && !errors.Is(err, store.ErrLeaseLost) {
								t.Error(err)
								return
							}
						case 3: // slow: the lease runs out while the work goes on
							clock.Add(int64(lease/time.Millisecond) + 1)
						}
						clock.Add(int64(r.IntN(3))) // the work takes time, sometimes the whole lease
						runtime.Gosched()
						var f store.Finish
						var answer store.Item
						if l.Queue == "in" {
							answer = item("out", "ans-"+l.ID, "answer", now())
							if r.IntN(2) == 0 {
								answer.Token, answer.Due = fmt.Sprintf("w%d-%d", w, n), now().Add(lease)
							}
							f.Enqueue = []store.Item{answer}
						}
						switch err := s.Complete(ctx, l, f); {
						case err == nil:
							finished(l)
							if answer.Token != "" {
								held = answer.HeldLease()
							}
						case errors.Is(err, store.ErrLeaseLost):
						default: // ErrHeldQueued too: only the one Complete of a message queues its answer
							t.Errorf("Complete %s/%s: %v", l.Queue, l.ID, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for i := range items {
				for _, k := range []string{fmt.Sprint("in/", i), fmt.Sprint("out/ans-", i)} {
					if done[k] != 1 {
						t.Errorf("%s completed %d times, want once", k, done[k])
					}
				}
			}
			for _, q := range []string{"in", "out"} {
				if n, err := s.QueueLen(ctx, q); err != nil || n != 0 {
					t.Errorf("QueueLen(%s) = %d, %v; want nothing left", q, n, err)
				}
			}
		})
	}
}

func TestClosedMemoryQueues(t *testing.T) {
	m := store.NewMemory(nil)
	_ = m.Close()
	ctx := context.Background()
	if _, err := m.Accept(ctx, "k", time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Accept after Close = %v", err)
	}
	if err := m.Enqueue(ctx, item("q", "1", "d", t0)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Enqueue after Close = %v", err)
	}
}

func TestRedisUnreachable(t *testing.T) {
	r, err := store.NewRedis("redis://127.0.0.1:1/0", "t:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Accept(ctx, "k", time.Minute, item("inbox", "1", "d", t0)); err == nil || !strings.Contains(err.Error(), "redis accept") {
		t.Fatalf("Accept on an unreachable Redis = %v", err)
	}
}
