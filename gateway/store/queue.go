package store

import (
	"context"
	"errors"
	"time"
)

// DeadLetterCap is how many dead letters the store keeps; older ones are
// dropped as new ones arrive.
const DeadLetterCap = 10000

// ErrLeaseLost reports a lease that is no longer held: it ran out and
// someone else claimed the item, or the item was dropped.
var ErrLeaseLost = errors.New("store: lease lost")

// ErrHeldQueued reports an item to be queued already claimed (Item.Token)
// whose id was in its queue already, so that the claim could not be made;
// Complete writes nothing then.
var ErrHeldQueued = errors.New("store: an item to be queued already claimed is queued already")

// Item is one entry of a durable queue.
type Item struct {
	// Queue names the queue ("inbox", "outbox").
	Queue string
	// ID is unique within the queue.
	ID string
	// Data is the entry, opaque to the store.
	Data []byte
	// Due is when the item may first be claimed.
	Due time.Time
	// Token, when set, queues the item already claimed: held by whoever
	// has Token until Due, as if claimed at once with a lease ending at
	// Due. Its holder builds the Lease (Lease.Until is Due) and uses it as
	// one Claim returned; if the holder never finishes, the item is
	// claimed by someone else when Due passes, as any lease runs out. This
	// saves the Claim's round trip for work handed straight to an idle
	// worker of the same process. Only Accept and Complete say when such
	// an item could not be queued (its id was queued already); queue held
	// items with them, not with Enqueue or Requeue.
	Token string
	// Party, when set, is recorded with the item (in Redis, its hash's
	// party field) as the sender of the message it holds: AcceptFrom
	// tells a message of another party under the same id from the one in
	// hand by it.
	Party string
}

// Accepted is what AcceptFrom did.
type Accepted struct {
	// Fresh: the mark was new and the items are queued.
	Fresh bool
	// Party, when not Fresh, is the party recorded with the mark found,
	// or with the item found in hand; "" when none was.
	Party string
}

// HeldLease is the lease on it of the holder of an item queued already
// claimed (it.Token set).
func (it Item) HeldLease() *Lease {
	return &Lease{Queue: it.Queue, ID: it.ID, Data: it.Data, Token: it.Token, Until: it.Due}
}

// Lease is an item claimed by one worker.
type Lease struct {
	// Queue and ID name the item.
	Queue, ID string
	// Data is the item's data when it was claimed.
	Data []byte
	// Token identifies this claim; only its holder may Extend, Retry or
	// Complete the item.
	Token string
	// Until is when the lease runs out.
	Until time.Time
	// More reports that another item of the queue was due when this one
	// was claimed, so that a worker claims again at once only then: with
	// nothing more due it waits to be woken (by work queued) or for its
	// next poll instead of asking the store once more for nothing.
	More bool
}

// Finish is what Complete writes in the same atomic step as it removes the
// leased item.
type Finish struct {
	// Enqueue are items added to their queues (an id already queued is
	// left as it is).
	Enqueue []Item
	// DeadLetter, when not nil, is pushed onto the dead-letter list.
	DeadLetter []byte
	// DeadLetterHead is what a listing of the dead letters shows of
	// DeadLetter (its ids, time and reason, without the message it
	// keeps), kept beside it (DeadLetterHeads); nil: none, a listing
	// reads the dead letter whole.
	DeadLetterHead []byte
}

// CompleteClaimer completes a lease and claims the next due item of its
// queue in one step (Memory and Redis satisfy it): a worker that saw more
// work due as it claimed (Lease.More) saves the round trip of its next
// Claim. The completion is Complete's, with its errors (ErrLeaseLost,
// ErrHeldQueued); only when it completed is anything claimed, as Claim
// claims (nil: nothing due).
type CompleteClaimer interface {
	CompleteClaim(ctx context.Context, l *Lease, f Finish, now time.Time, lease time.Duration) (*Lease, error)
}
