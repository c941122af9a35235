package store

import (
	"context"
	"errors"
	"time"
)

// Store is the gateway's durable state: duplicate elimination, the durable
// queues (inbox and outbox) with leases, the dead-letter list and the
// cache of SOAP sync replies.
type Store interface {
	// MarkSeen records key for ttl and reports whether it was new; a key
	// already recorded and not yet expired gives false. A ttl under a
	// millisecond (0 or less too) lasts at most a millisecond, as with
	// every ttl the store takes: nothing is kept for ever.
	MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Touch sets the time left to a key recorded by MarkSeen to ttl (used to
	// keep a short "in progress" mark alive while its work runs, then to
	// give it its full duration). It reports false when the key is gone.
	Touch(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// TouchMark is Touch in one step with a read of the party the mark
	// was recorded with (AcceptFrom's; "" for none): whether the mark is
	// there, and if so whose.
	TouchMark(ctx context.Context, key string, ttl time.Duration) (party string, ok bool, err error)
	// Forget removes a key recorded by MarkSeen or Accept, so that the
	// message it stands for is taken again (used when a sync request
	// failed before it was answered).
	Forget(ctx context.Context, key string) error
	// Accept is AcceptFrom with no party; it reports Accepted.Fresh.
	Accept(ctx context.Context, seenKey string, ttl time.Duration, items ...Item) (bool, error)
	// AcceptFrom records seenKey for ttl, with party (the sender of the
	// message it marks; "" for none) in the mark, and, only when it was
	// new, enqueues items, in one atomic step (one round trip): either
	// both happen or neither. It reports whether seenKey was new
	// (Accepted.Fresh); when it was not, a duplicate, nothing was written,
	// and Accepted.Party is the party its mark was recorded with ("" when
	// none was: a mark of MarkSeen, KeepReply, Accept, or of a release
	// before marks kept one).
	//
	// One exception: when an item to be queued (the message, held or
	// not) is in its queue already, its message is in hand though its
	// mark is gone (lapsed while it waited). AcceptFrom then reports a
	// duplicate, and the caller holds no lease, with Accepted.Party the
	// party recorded with the item queued (Item.Party). If that is a party
	// other than party, nothing is written; else (the same party, or none
	// recorded) seenKey and the other items are recorded as for a new key.
	AcceptFrom(ctx context.Context, seenKey, party string, ttl time.Duration, items ...Item) (Accepted, error)
	// Enqueue adds items to their queues. An item whose id is already in
	// its queue is left as it is.
	Enqueue(ctx context.Context, items ...Item) error
	// Claim leases the item of queue that has been due longest (Due at or
	// before now) until now+lease and returns it; nil, nil when none is
	// due. While leased the item is not claimable; when the lease runs out
	// without Complete, Retry or Extend, anyone may claim it again. Due
	// times and lease ends count in whole Unix milliseconds (as Redis
	// keeps them): an item is due from the start of its due millisecond,
	// and items due in the same millisecond are claimed in order of id.
	Claim(ctx context.Context, queue string, now time.Time, lease time.Duration) (*Lease, error)
	// Extend moves the end of a lease that is still held to until.
	// ErrLeaseLost when the item was claimed by someone else or is gone.
	Extend(ctx context.Context, l *Lease, until time.Time) error
	// Retry replaces the data of a leased item and makes it due again at
	// due, ending the lease. ErrLeaseLost as for Extend.
	Retry(ctx context.Context, l *Lease, data []byte, due time.Time) error
	// Complete removes a leased item and, in the same atomic step, writes
	// what f says (further items, a dead letter). ErrLeaseLost as for
	// Extend; then nothing is written. ErrHeldQueued when an item of
	// f.Enqueue to be queued already claimed (Item.Token) is in its queue
	// already; then nothing is written either, and the caller may
	// complete again with the item queued unclaimed.
	Complete(ctx context.Context, l *Lease, f Finish) error
	// Peek returns the data of an item of queue, leased or not, and whether
	// it is there; it changes nothing.
	Peek(ctx context.Context, queue, id string) ([]byte, bool, error)
	// Drop removes an item whatever its lease and reports whether it was there.
	Drop(ctx context.Context, queue, id string) (bool, error)
	// QueueLen returns the number of items in queue, leased or not.
	QueueLen(ctx context.Context, queue string) (int, error)
	// DeadLetters returns up to limit dead letters, newest first. The list
	// keeps the newest DeadLetterCap entries.
	DeadLetters(ctx context.Context, limit int) ([][]byte, error)
	// DeadLetterPage returns up to limit dead letters, newest first,
	// starting with the offset-th newest (0: the newest): a page of the
	// list, for callers that look through it without holding it whole.
	DeadLetterPage(ctx context.Context, offset, limit int) ([][]byte, error)
	// Requeue removes one dead letter (byte for byte as DeadLetters
	// returned it) and enqueues items, in one atomic step; false, and
	// nothing enqueued, when that dead letter is no longer listed (another
	// operator resent it first). An operator's resend uses it, so a dead
	// letter is resent at most once.
	Requeue(ctx context.Context, deadLetter []byte, items ...Item) (bool, error)
	// SetAdd adds members to the named set (created if absent) and makes
	// the set last ttl from now. With no members it does nothing.
	SetAdd(ctx context.Context, set string, ttl time.Duration, members ...string) error
	// SetMembers returns the members of the named set (none when absent).
	SetMembers(ctx context.Context, set string) ([]string, error)
	// SetRemove removes members from the named set.
	SetRemove(ctx context.Context, set string, members ...string) error
	// PutReply keeps the answer to a sync request under key for ttl.
	PutReply(ctx context.Context, key string, body []byte, ttl time.Duration) error
	// KeepReply is PutReply and Touch of the same key with the same ttl in
	// one step (one round trip): a sync request's answer kept for
	// duplicates, and its duplicate-elimination mark given as long (made
	// again when it had lapsed, so that a duplicate gets the kept answer).
	// It reports Touch's answer: whether the mark was still there. Each
	// removal's members leave its set (SetRemove) in the same step: what
	// the kept answer delivers is no longer owed by other means.
	KeepReply(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...SetRemoval) (bool, error)
	// GetReply returns the answer kept under key, and whether there is one.
	GetReply(ctx context.Context, key string) ([]byte, bool, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
	// Kind names the backing store ("memory" or "redis") for logs and /readyz.
	Kind() string
}

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("store: closed")
