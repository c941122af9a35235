package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestQueueScriptsAskOncePerItem: Accept and Complete ask Redis whether
// an item to be queued is there (EXISTS) once, where they asked twice
// before (inHand or heldQueued, then enqueue: enqueueLua's present), and
// queue, skip or refuse the items as before: a staged item (over
// stagedItemMin) and one written by the script, an item queued already
// claimed (Item.Token) and one not, the same id twice in one call (the
// second left as it is), and the completed item's own id queued again
// (after its hash is deleted).
func TestQueueScriptsAskOncePerItem(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "ask:")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	small := []byte("m")
	big := bytes.Repeat([]byte("x"), stagedItemMin+1)

	// exists runs f and returns the EXISTS calls it cost.
	exists := func(f func()) int64 {
		t.Helper()
		before := srv.Calls(t, "exists")
		f()
		return srv.Calls(t, "exists") - before
	}
	claim := func(queue string) *Lease {
		t.Helper()
		l, err := r.Claim(ctx, queue, now.Add(time.Second), time.Minute)
		if err != nil || l == nil {
			t.Fatalf("Claim %s: %v, %v", queue, l, err)
		}
		return l
	}

	for _, tt := range []struct {
		name string
		data []byte
		held bool
		// want is the EXISTS calls of the Accept and of the Complete that
		// queues the answer: one per staged item for its staged hash,
		// one per item (two before this release), and Complete's of a
		// claimed answer only (heldQueued).
		wantAccept, wantComplete int64
	}{
		{name: "small", data: small, wantAccept: 1, wantComplete: 1},
		{name: "small held", data: small, held: true, wantAccept: 1, wantComplete: 1},
		{name: "staged", data: big, wantAccept: 2, wantComplete: 2},
		{name: "staged held", data: big, held: true, wantAccept: 2, wantComplete: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := Item{Queue: "inbox", ID: "in-" + tt.name, Data: tt.data, Due: now}
			if tt.held {
				in.Token, in.Due = "tok-in-"+tt.name, now.Add(time.Minute)
			}
			var acc Accepted
			if got := exists(func() {
				var err error
				acc, err = r.AcceptFrom(ctx, "ebxml:X:"+tt.name, "P1", time.Hour, in)
				if err != nil {
					t.Fatalf("AcceptFrom: %v", err)
				}
			}); got != tt.wantAccept {
				t.Errorf("AcceptFrom: %d EXISTS, want %d", got, tt.wantAccept)
			}
			if !acc.Fresh {
				t.Fatalf("AcceptFrom: %+v, want fresh", acc)
			}
			var l *Lease
			if tt.held {
				l = in.HeldLease()
			} else {
				l = claim("inbox")
			}
			if !bytes.Equal(l.Data, tt.data) && !tt.held {
				t.Fatalf("claimed %d bytes, want %d", len(l.Data), len(tt.data))
			}
			out := Item{Queue: "outbox", ID: "out-" + tt.name, Data: tt.data, Due: now}
			if tt.held {
				out.Token, out.Due = "tok-out-"+tt.name, now.Add(time.Minute)
			}
			if got := exists(func() {
				if err := r.Complete(ctx, l, Finish{Enqueue: []Item{out}}); err != nil {
					t.Fatalf("Complete: %v", err)
				}
			}); got != tt.wantComplete {
				t.Errorf("Complete: %d EXISTS, want %d", got, tt.wantComplete)
			}
			data, ok, err := r.Peek(ctx, "outbox", out.ID)
			if err != nil || !ok || !bytes.Equal(data, tt.data) {
				t.Fatalf("Peek outbox %s: %d bytes, %v, %v; want the answer", out.ID, len(data), ok, err)
			}
			if _, ok, _ := r.Peek(ctx, "inbox", in.ID); ok {
				t.Fatalf("inbox item %s still queued after Complete", in.ID)
			}
			ol := out.HeldLease()
			if !tt.held {
				ol = claim("outbox")
			}
			if err := r.Complete(ctx, ol, Finish{}); err != nil {
				t.Fatalf("Complete outbox: %v", err)
			}
			if n, err := r.QueueLen(ctx, "outbox"); err != nil || n != 0 {
				t.Fatalf("outbox length %d, %v; want 0", n, err)
			}
		})
	}

	t.Run("in hand", func(t *testing.T) {
		in := Item{Queue: "inbox", ID: "hand", Data: small, Due: now.Add(time.Hour), Party: "P1"}
		if acc, err := r.AcceptFrom(ctx, "ebxml:X:hand-1", "P1", time.Hour, in); err != nil || !acc.Fresh {
			t.Fatalf("AcceptFrom: %+v, %v", acc, err)
		}
		// Under another mark (the first lapsed): in hand, a duplicate.
		acc, err := r.AcceptFrom(ctx, "ebxml:X:hand-2", "P1", time.Hour, in)
		if err != nil || acc.Fresh || acc.Party != "P1" {
			t.Fatalf("AcceptFrom again: %+v, %v; want a duplicate of P1", acc, err)
		}
		if _, err := r.Drop(ctx, "inbox", "hand"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("same id twice and its own id", func(t *testing.T) {
		if _, err := r.Accept(ctx, "ebxml:X:self", time.Hour, Item{Queue: "inbox", ID: "self", Data: []byte("first"), Due: now}); err != nil {
			t.Fatal(err)
		}
		l := claim("inbox")
		f := Finish{Enqueue: []Item{
			{Queue: "outbox", ID: "twice", Data: []byte("one"), Due: now},
			{Queue: "outbox", ID: "twice", Data: []byte("two"), Due: now},
			{Queue: "inbox", ID: "self", Data: []byte("again"), Due: now.Add(time.Hour)},
		}}
		if err := r.Complete(ctx, l, f); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		if data, ok, err := r.Peek(ctx, "outbox", "twice"); err != nil || !ok || string(data) != "one" {
			t.Errorf("outbox twice: %q, %v, %v; want the first", data, ok, err)
		}
		if data, ok, err := r.Peek(ctx, "inbox", "self"); err != nil || !ok || string(data) != "again" {
			t.Errorf("inbox self: %q, %v, %v; want it queued again", data, ok, err)
		}
		// Queued already claimed under its own id: refused, nothing written.
		l = claim("outbox")
		held := Item{Queue: "outbox", ID: "twice", Data: []byte("three"), Due: now.Add(time.Minute), Token: "tok-twice"}
		if err := r.Complete(ctx, l, Finish{Enqueue: []Item{held}}); !errors.Is(err, ErrHeldQueued) {
			t.Errorf("Complete queueing its own id claimed: %v, want ErrHeldQueued", err)
		}
	})
}
