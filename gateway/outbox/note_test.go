package outbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestNoteDeadLetter: the NoteDeadLetter hook sees each dead letter before
// it is recorded. One it fails to note stays in the outbox (taken up again
// when its lease runs out), never recorded without its note; one it marks
// Owed is recorded so, with what it released, and cannot be resent.
func TestNoteDeadLetter(t *testing.T) {
	url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 0, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	released := &Released{Dispenser: "FCG71", Prescriptions: []string{"C1D2E3-A99968-00A1BM"}}
	tests := []struct {
		name string
		note func(ctx context.Context, dl *DeadLetter) error
		// dead is whether the message is recorded as a dead letter.
		dead bool
	}{
		{"note fails", func(context.Context, *DeadLetter) error { return errors.New("store down") }, false},
		{"noted owed", func(_ context.Context, dl *DeadLetter) error {
			if dl.Released == nil || dl.Released.Dispenser != "FCG71" {
				return fmt.Errorf("dead letter without what its message released: %+v", dl.Released)
			}
			dl.Owed, dl.Reason = true, dl.Reason+"; owed"
			return nil
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.NewMemory(nil)
			w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second, NoteDeadLetter: tt.note})
			answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000A1", "AAAAAAAA-0000-4000-8000-0000000000A2")
			answer.Released = released
			queue(t, st, answer)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			dls, _ := st.DeadLetters(context.Background(), 10)
			inOutbox, _ := st.QueueLen(context.Background(), Queue)
			if got := len(dls) == 1; got != tt.dead || (inOutbox == 1) == tt.dead {
				t.Fatalf("%d dead letters, %d in the outbox; want dead-lettered %v", len(dls), inOutbox, tt.dead)
			}
			if !tt.dead {
				return
			}
			dl, err := DecodeDeadLetter(dls[0])
			if err != nil || !dl.Owed || !strings.HasSuffix(dl.Reason, "; owed") || dl.Released == nil {
				t.Fatalf("dead letter %+v (%v); want it owed, with the note's reason and what it released", dl, err)
			}
			if _, err := dl.Redelivery(time.Now()); err == nil || !strings.Contains(err.Error(), "owed to dispenser FCG71") {
				t.Errorf("an owed dead letter resent: %v", err)
			}
		})
	}
}

// TestAcknowledgedWhileDeadLettered: a release response's receiver
// acknowledges it asynchronously (MarkAcknowledged, then the entry is
// dropped) while the worker dead-letters it, after the worker noted what
// it released owed (NoteDeadLetter) and before its Complete. The worker
// reads the acknowledgment's mark and undoes its note (NoteDelivered);
// no dead letter is recorded for a message dropped as acknowledged. An
// acknowledgment marked but not yet dropped when the worker completes
// leaves the dead letter recorded, its note undone all the same. Without
// an acknowledgment the note stands.
func TestAcknowledgedWhileDeadLettered(t *testing.T) {
	url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 0, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// mark and drop: what the acknowledgment has done when the
		// worker's note is over.
		mark, drop bool
		// dead is whether a dead letter is recorded, owed whether the
		// note stands.
		dead, owed bool
	}{
		{"no acknowledgment", false, false, true, true},
		{"acknowledged and dropped", true, true, false, false},
		{"acknowledged, not yet dropped", true, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.NewMemory(nil)
			var w *Worker
			owed := map[string]bool{}
			answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000C1", "AAAAAAAA-0000-4000-8000-0000000000C2")
			answer.Released = &Released{Dispenser: "FCG71", Prescriptions: []string{"C1D2E3-A99968-00A1BM"}}
			w = NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second,
				NoteDeadLetter: func(ctx context.Context, dl *DeadLetter) error {
					owed[dl.Released.Prescriptions[0]], dl.Owed = true, true
					if tt.mark {
						if err := w.MarkAcknowledged(ctx, answer); err != nil {
							return err
						}
					}
					if tt.drop {
						if _, err := st.Drop(ctx, Queue, answer.MessageID); err != nil {
							return err
						}
					}
					return nil
				},
				NoteDelivered: func(_ context.Context, d Delivery) error {
					delete(owed, d.Released.Prescriptions[0])
					return nil
				},
			})
			queue(t, st, answer)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			dls, _ := st.DeadLetters(context.Background(), 10)
			if (len(dls) == 1) != tt.dead || owed["C1D2E3-A99968-00A1BM"] != tt.owed {
				t.Fatalf("%d dead letters, owed %v; want dead-lettered %v, owed %v", len(dls), owed, tt.dead, tt.owed)
			}
		})
	}
}

// TestLeaseHeldWhileDeadLettering: noting what a dead letter leaves owed
// may take a while (the gateway's note waits up to 10 s for another
// release of the dispenser). The worker keeps its lease meanwhile, as it
// does during an attempt: another worker cannot take the message over
// and send it again while it goes to the dead letters. Before, the lease
// was not renewed after the attempt: a note longer than the lease left
// the message to the next worker, which sent it a second time.
func TestLeaseHeldWhileDeadLettering(t *testing.T) {
	var posts atomic.Int32
	url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 0, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	// The holder extends its lease every third of it: a 2 s lease lapses
	// only if the holding goroutine is kept from running for over 1.3 s,
	// which a loaded machine did to a 1 s one (a renewal 700 ms late).
	const lease = 2 * time.Second
	st := store.NewMemory(nil)
	other := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Lease: lease, Timeout: 5 * time.Second})
	var tookOver bool
	w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Lease: lease, Timeout: 5 * time.Second,
		NoteDeadLetter: func(ctx context.Context, dl *DeadLetter) error {
			time.Sleep(5 * lease / 2)
			tookOver, _ = other.DeliverOne(ctx)
			return nil
		}})
	answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000D1", "AAAAAAAA-0000-4000-8000-0000000000D2")
	queue(t, st, answer)
	if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
		t.Fatalf("DeliverOne = %v, %v", ok, err)
	}
	dls, _ := st.DeadLetters(context.Background(), 10)
	if tookOver || posts.Load() != 1 || len(dls) != 1 {
		t.Fatalf("taken over while dead-lettered: %v; sent %d times, %d dead letters; want sent once, one dead letter", tookOver, posts.Load(), len(dls))
	}
}

// TestAsynchronousRefusalEndsOneSending: a receiver's asynchronous
// refusal (Refused) dead-letters the delivery it was about after its
// attempt fails, and only that sending of it: an operator's resend of the
// dead letter (the same MessageId, queued afresh) is retried as any
// delivery is, the old refusal not held against it.
func TestAsynchronousRefusalEndsOneSending(t *testing.T) {
	url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 2, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := store.NewMemory(nil)
	w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second})
	answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000E1", "AAAAAAAA-0000-4000-8000-0000000000E2")
	answer.CreatedAt = time.Now().Add(-time.Minute)
	queue(t, st, answer)
	refusal := &ebxml.ErrorListError{RefToMessageID: answer.MessageID, Errors: []*ebxml.MessageError{
		ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 0, "refused by the test")}}
	if ok, err := w.Refused(ctx, answer, refusal); !ok || err != nil {
		t.Fatalf("Refused = %v, %v", ok, err)
	}
	if ok, err := w.DeliverOne(ctx); !ok || err != nil {
		t.Fatalf("DeliverOne = %v, %v", ok, err)
	}
	dls, _ := st.DeadLetters(ctx, 10)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want the refused delivery", len(dls))
	}
	dl, _ := DecodeDeadLetter(dls[0])
	if !strings.Contains(dl.Reason, "refused by the test") {
		t.Fatalf("reason %q", dl.Reason)
	}
	again, err := dl.Redelivery(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	it, err := again.Item(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Requeue(ctx, dls[0], it); !ok || err != nil {
		t.Fatalf("Requeue = %v, %v", ok, err)
	}
	if ok, err := w.DeliverOne(ctx); !ok || err != nil {
		t.Fatalf("DeliverOne = %v, %v", ok, err)
	}
	dls, _ = st.DeadLetters(ctx, 10)
	if n, _ := st.QueueLen(ctx, Queue); n != 1 || len(dls) != 0 {
		t.Fatalf("resent: %d in the outbox, %d dead letters; want it waiting for a retry", n, len(dls))
	}
}

// failDeadLetterOnce is a store whose first Complete with a dead letter
// fails, as Redis may for a moment.
type failDeadLetterOnce struct {
	*store.Memory
	failed atomic.Bool
}

func (s *failDeadLetterOnce) Complete(ctx context.Context, l *store.Lease, f store.Finish) error {
	if f.DeadLetter != nil && !s.failed.Swap(true) {
		return errors.New("store unreachable for a moment")
	}
	return s.Memory.Complete(ctx, l, f)
}

// TestOwedNoteUndoneWhenDeliveredAfterAll: a release response's last
// attempt fails and the worker notes its prescriptions owed, but the dead
// letter cannot be recorded (the store fails for a moment): the message
// stays in the outbox and, its lease run out, is sent again, and this time
// its receiver takes it. The note is undone (NoteDelivered): the pharmacy
// has the prescriptions. Before, they stayed owed, and the pharmacy's next
// nominated release delivered them a second time.
func TestOwedNoteUndoneWhenDeliveredAfterAll(t *testing.T) {
	var posts atomic.Int32
	url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 0, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	const lease = 200 * time.Millisecond
	st := &failDeadLetterOnce{Memory: store.NewMemory(nil)}
	owed := map[string]bool{}
	w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Lease: lease, Timeout: 5 * time.Second,
		NoteDeadLetter: func(_ context.Context, dl *DeadLetter) error {
			owed[dl.Released.Prescriptions[0]], dl.Owed = true, true
			return nil
		},
		NoteDelivered: func(_ context.Context, d Delivery) error {
			delete(owed, d.Released.Prescriptions[0])
			return nil
		},
	})
	answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000B1", "AAAAAAAA-0000-4000-8000-0000000000B2")
	answer.Released = &Released{Dispenser: "FCG71", Prescriptions: []string{"C1D2E3-A99968-00A1BM"}}
	it, err := answer.Item(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
		t.Fatalf("first DeliverOne = %v, %v", ok, err)
	}
	time.Sleep(2 * lease)
	if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
		t.Fatalf("second DeliverOne = %v, %v", ok, err)
	}
	dls, _ := st.DeadLetters(context.Background(), 10)
	if posts.Load() != 2 || len(dls) != 0 || owed["C1D2E3-A99968-00A1BM"] {
		t.Fatalf("sent %d times, %d dead letters, owed %v; want delivered at the second attempt, nothing owed", posts.Load(), len(dls), owed)
	}
}
