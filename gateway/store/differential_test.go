package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// The differential test: one pseudo-random sequence of operations applied
// to a Memory store and to a Redis store (a real redis-server) side by
// side, every answer of the one compared with the other's, then their
// final states. The gateway runs on the memory store under `make run` and
// in most of its tests, on Redis in production: a difference between the
// two is a production behaviour no test of the gateway sees.
//
// Queue operations take their time from the caller: both stores get the
// same virtual clock, which moves by seconds and now and then by less
// than a millisecond (both stores count due times in whole milliseconds).
// Duplicate marks, replies, sets and holds expire by the wall clock (Redis's own
// for Redis), so their ttls are either an hour (they never expire during a
// run) or at most diffShortTTL, and then no operation touches the key
// again until it has surely expired in both stores: every answer is
// determined, and a failure names its seed (or fuzz input) and the
// operations that led to it.

const (
	diffShortTTL = 2 * time.Millisecond
	diffLongTTL  = time.Hour
	// diffMargin covers Redis's millisecond expiry and the clock reads
	// around a call.
	diffMargin = 3 * time.Millisecond
	// diffMaxLeases bounds the leases (current and stale) the run keeps
	// to use again.
	diffMaxLeases = 16
)

var (
	diffQueues  = []string{"inbox", "outbox"}
	diffIDs     = []string{"a", "b", "c", "d", "e", "f"}
	diffKeys    = []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}
	diffSets    = []string{"s0", "s1", "s2"}
	diffMembers = []string{"m0", "m1", "m2", "m3"}
	diffDead    = []string{`{"dl":0}`, `{"dl":1}`, `{"dl":2}`}
	diffHolders = []string{"h0", "h1", "h2"}
	diffParties = []string{"", "P1", "P2", "P 3"}
)

// chooser makes the run's choices: a seeded generator, or a fuzz input.
type chooser interface {
	// intn returns a choice in [0, n).
	intn(n int) int
	// more reports whether to run another operation.
	more() bool
}

// seededChooser is a PCG generator seeded with one number, for ops
// operations.
type seededChooser struct {
	r   *rand.Rand
	ops int
}

func (c *seededChooser) intn(n int) int { return c.r.IntN(n) }

func (c *seededChooser) more() bool { c.ops--; return c.ops >= 0 }

// bytesChooser takes its choices from a fuzz input, one byte each; the
// run ends with the input.
type bytesChooser struct {
	b []byte
	i int
}

func (c *bytesChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	c.i++
	return int(c.b[c.i-1]) % n
}

func (c *bytesChooser) more() bool { return c.i < len(c.b) }

// leasePair is one lease as each store gave it (Claim), or as its holder
// built it (an item queued already claimed).
type leasePair struct {
	m, r *store.Lease
}

// diffRun is one run of the differential test.
type diffRun struct {
	t   testing.TB
	ctx context.Context
	ch  chooser
	mem *store.Memory
	red *store.Redis
	// now is the queues' clock.
	now    time.Time
	leases []leasePair
	// expiring holds, for a key ("seen:k", "reply:k", "set:s") given a
	// short ttl, the wall-clock time after which it has surely expired in
	// both stores.
	expiring map[string]time.Time
	seq      int
	trail    []string
}

// newDiffRun starts a run on a fresh Memory store and on red (keys under
// a prefix of the run's own).
func newDiffRun(t testing.TB, red *store.Redis, ch chooser) *diffRun {
	t.Helper()
	t.Cleanup(func() { _ = red.Close() })
	return &diffRun{
		t: t, ctx: context.Background(), ch: ch, mem: store.NewMemory(nil), red: red,
		now: t0, expiring: map[string]time.Time{},
	}
}

// run applies operations while the chooser says so, then compares the
// final states.
func (d *diffRun) run() {
	for d.ch.more() {
		d.step()
	}
	d.final()
}

// pick chooses one of xs.
func pick[T any](d *diffRun, xs []T) T { return xs[d.ch.intn(len(xs))] }

// note records an operation for the failure message.
func (d *diffRun) note(format string, args ...any) {
	d.trail = append(d.trail, fmt.Sprintf("%4d %s: ", len(d.trail), d.now.Sub(t0))+fmt.Sprintf(format, args...))
}

// fail reports a difference (or an unexpected error) with the operations
// that led to it.
func (d *diffRun) fail(format string, args ...any) {
	d.t.Helper()
	trail := d.trail
	if len(trail) > 60 {
		trail = trail[len(trail)-60:]
	}
	d.t.Fatalf("%s\noperations (last %d of %d):\n%s", fmt.Sprintf(format, args...), len(trail), len(d.trail), strings.Join(trail, "\n"))
}

// same fails unless the memory store's answer m equals the Redis store's r.
func (d *diffRun) same(what, m, r string) {
	d.t.Helper()
	if strings.HasPrefix(m, "error") || strings.HasPrefix(r, "error") {
		d.fail("%s: unexpected error: memory %s, redis %s", what, m, r)
	}
	if m != r {
		d.fail("%s differs:\n  memory: %s\n  redis:  %s", what, m, r)
	}
}

// class names an error as the stores' contract does.
func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrLeaseLost):
		return "ErrLeaseLost"
	case errors.Is(err, store.ErrHeldQueued):
		return "ErrHeldQueued"
	default:
		return "error " + err.Error()
	}
}

// settle waits until none of keys can be mid-expiry: a key given a short
// ttl is touched again only once it has expired in both stores.
func (d *diffRun) settle(keys ...string) {
	for _, k := range keys {
		if until, ok := d.expiring[k]; ok {
			if wait := time.Until(until); wait > 0 {
				time.Sleep(wait)
			}
			delete(d.expiring, k)
		}
	}
}

// ttl chooses a ttl for keys: mostly an hour, else a short one (none
// or less included, which both stores keep at most a millisecond); call
// expired after the operation.
func (d *diffRun) ttl() time.Duration {
	if d.ch.intn(4) == 0 {
		return pick(d, []time.Duration{diffShortTTL, diffShortTTL, 0, -time.Second})
	}
	return diffLongTTL
}

// expired records that keys were given ttl by an operation just done.
func (d *diffRun) expired(ttl time.Duration, keys ...string) {
	if ttl >= diffLongTTL {
		return
	}
	until := time.Now().Add(max(ttl, time.Millisecond) + diffMargin)
	for _, k := range keys {
		if until.After(d.expiring[k]) {
			d.expiring[k] = until
		}
	}
}

// offset is a due time relative to now: past, now, or to come.
func (d *diffRun) offset() time.Duration {
	return pick(d, []time.Duration{-2 * time.Second, 0, 0, 400 * time.Microsecond, time.Millisecond, time.Second, 5 * time.Second})
}

// leaseLen is a lease length.
func (d *diffRun) leaseLen() time.Duration {
	return pick(d, []time.Duration{0, 700 * time.Microsecond, time.Millisecond, time.Second, 5 * time.Second, 30 * time.Second})
}

// data is a fresh item's data (now and then none; now and then bigger
// than the Redis store writes as a script's argument, so that it is
// written before the script and renamed into place).
func (d *diffRun) data() []byte {
	d.seq++
	switch d.ch.intn(16) {
	case 0:
		return nil
	case 1, 2, 3:
		return fmt.Appendf(nil, "data-%d-%s", d.seq, bytes.Repeat([]byte("big"), 700))
	}
	return fmt.Appendf(nil, "data-%d", d.seq)
}

// item is a new item, queued already claimed when held.
func (d *diffRun) item(held bool) store.Item {
	it := store.Item{Queue: pick(d, diffQueues), ID: pick(d, diffIDs), Data: d.data(), Due: d.now.Add(d.offset()), Party: pick(d, diffParties)}
	if held {
		it.Token = fmt.Sprintf("held-%d", d.seq)
		it.Due = d.now.Add(d.leaseLen())
	}
	return it
}

// items are up to max new items; heldOK lets the first be held.
func (d *diffRun) items(max int, heldOK bool) []store.Item {
	var its []store.Item
	for i := range d.ch.intn(max + 1) {
		its = append(its, d.item(heldOK && i == 0 && d.ch.intn(3) == 0))
	}
	return its
}

// describe is items for the trail.
func describe(its []store.Item) string {
	var b strings.Builder
	for _, it := range its {
		fmt.Fprintf(&b, " %s/%s=%q@%s", it.Queue, it.ID, it.Data, it.Due.Sub(t0))
		if it.Token != "" {
			fmt.Fprintf(&b, "[held %s]", it.Token)
		}
		if it.Party != "" {
			fmt.Fprintf(&b, "[from %s]", it.Party)
		}
	}
	return b.String()
}

// hold keeps the leases of the held items among its (whether or not they
// were queued: a lease never made must be refused by both).
func (d *diffRun) hold(its []store.Item) {
	for _, it := range its {
		if it.Token != "" {
			d.keep(leasePair{m: it.HeldLease(), r: it.HeldLease()})
		}
	}
}

func (d *diffRun) keep(p leasePair) {
	d.leases = append(d.leases, p)
	if len(d.leases) > diffMaxLeases {
		d.leases = slices.Delete(d.leases, 0, 1)
	}
}

// lease is one of the leases kept, current or stale; false when none.
func (d *diffRun) lease() (leasePair, int, bool) {
	if len(d.leases) == 0 {
		return leasePair{}, 0, false
	}
	i := d.ch.intn(len(d.leases))
	if n := len(d.leases); n > 3 && d.ch.intn(4) > 0 { // mostly a recent one
		i = n - 1 - d.ch.intn(3)
	}
	return d.leases[i], i, true
}

func leaseString(l *store.Lease) string {
	if l == nil {
		return "nothing due"
	}
	return fmt.Sprintf("%s/%s data=%q until=%s more=%v", l.Queue, l.ID, l.Data, l.Until.Sub(t0), l.More)
}

// step applies one operation to both stores and compares the answers.
func (d *diffRun) step() {
	ctx := d.ctx
	switch op := d.ch.intn(29); op {
	case 0, 1: // the clock moves on
		step := pick(d, []time.Duration{300 * time.Microsecond, time.Millisecond, 500 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second})
		d.now = d.now.Add(step)
		d.note("clock +%s", step)
	case 2, 3, 4: // Accept, or AcceptFrom a party
		key, ttl, party := pick(d, diffKeys), d.ttl(), pick(d, diffParties)
		its := d.items(3, true)
		d.note("AcceptFrom %s party=%q ttl=%s%s", key, party, ttl, describe(its))
		d.settle("seen:" + key)
		if party == "" && d.ch.intn(2) == 0 {
			mok, merr := d.mem.Accept(ctx, key, ttl, its...)
			rok, rerr := d.red.Accept(ctx, key, ttl, its...)
			d.expired(ttl, "seen:"+key)
			d.same("Accept", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
			d.hold(its)
			return
		}
		ma, merr := d.mem.AcceptFrom(ctx, key, party, ttl, its...)
		ra, rerr := d.red.AcceptFrom(ctx, key, party, ttl, its...)
		d.expired(ttl, "seen:"+key)
		d.same("AcceptFrom", fmt.Sprintf("%+v %s", ma, class(merr)), fmt.Sprintf("%+v %s", ra, class(rerr)))
		d.hold(its)
	case 5: // Enqueue (held items too, though callers should not)
		its := d.items(3, d.ch.intn(4) == 0)
		d.note("Enqueue%s", describe(its))
		d.same("Enqueue", class(d.mem.Enqueue(ctx, its...)), class(d.red.Enqueue(ctx, its...)))
		d.hold(its)
	case 6, 7, 8, 9: // Claim
		q, lease := pick(d, diffQueues), d.leaseLen()
		d.note("Claim %s lease=%s", q, lease)
		ml, merr := d.mem.Claim(ctx, q, d.now, lease)
		rl, rerr := d.red.Claim(ctx, q, d.now, lease)
		d.same("Claim", leaseString(ml)+" "+class(merr), leaseString(rl)+" "+class(rerr))
		if ml != nil && rl != nil {
			d.keep(leasePair{m: ml, r: rl})
		}
	case 10, 11: // Extend
		p, i, ok := d.lease()
		if !ok {
			return
		}
		until := d.now.Add(pick(d, []time.Duration{-time.Second, 0, 2 * time.Second, 10 * time.Second}))
		d.note("Extend lease %d (%s) to %s", i, leaseString(p.m), until.Sub(t0))
		merr, rerr := d.mem.Extend(ctx, p.m, until), d.red.Extend(ctx, p.r, until)
		d.same("Extend", class(merr)+" until="+p.m.Until.Sub(t0).String(), class(rerr)+" until="+p.r.Until.Sub(t0).String())
	case 12, 13: // Retry
		p, i, ok := d.lease()
		if !ok {
			return
		}
		data, due := d.data(), d.now.Add(d.offset())
		d.note("Retry lease %d (%s) data=%q due=%s", i, leaseString(p.m), data, due.Sub(t0))
		d.same("Retry", class(d.mem.Retry(ctx, p.m, data, due)), class(d.red.Retry(ctx, p.r, data, due)))
	case 14, 15, 16: // Complete, or CompleteClaim
		p, i, ok := d.lease()
		if !ok {
			return
		}
		f := store.Finish{Enqueue: d.items(2, true)}
		if d.ch.intn(2) == 0 {
			f.DeadLetter = []byte(pick(d, diffDead))
		}
		if d.ch.intn(3) == 0 {
			lease := d.leaseLen()
			d.note("CompleteClaim lease %d (%s) dead=%q%s lease=%s", i, leaseString(p.m), f.DeadLetter, describe(f.Enqueue), lease)
			ml, merr := d.mem.CompleteClaim(ctx, p.m, f, d.now, lease)
			rl, rerr := d.red.CompleteClaim(ctx, p.r, f, d.now, lease)
			d.same("CompleteClaim", leaseString(ml)+" "+class(merr), leaseString(rl)+" "+class(rerr))
			d.hold(f.Enqueue)
			if ml != nil && rl != nil {
				d.keep(leasePair{m: ml, r: rl})
			}
			return
		}
		d.note("Complete lease %d (%s) dead=%q%s", i, leaseString(p.m), f.DeadLetter, describe(f.Enqueue))
		d.same("Complete", class(d.mem.Complete(ctx, p.m, f)), class(d.red.Complete(ctx, p.r, f)))
		d.hold(f.Enqueue)
	case 17: // Peek, then Drop
		q, id := pick(d, diffQueues), pick(d, diffIDs)
		d.note("Peek %s/%s", q, id)
		mdata, mfound, merr := d.mem.Peek(ctx, q, id)
		rdata, rfound, rerr := d.red.Peek(ctx, q, id)
		d.same("Peek", fmt.Sprintf("%q %v %s", mdata, mfound, class(merr)), fmt.Sprintf("%q %v %s", rdata, rfound, class(rerr)))
		d.note("Drop %s/%s", q, id)
		mok, merr := d.mem.Drop(ctx, q, id)
		rok, rerr := d.red.Drop(ctx, q, id)
		d.same("Drop", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
	case 18: // QueueLen, DeadLetters, DeadLetterLen
		d.note("QueueLen, DeadLetters")
		d.compareCounts()
		limit := pick(d, []int{0, 1, 2, 100})
		mdl, merr := d.mem.DeadLetters(ctx, limit)
		rdl, rerr := d.red.DeadLetters(ctx, limit)
		d.same(fmt.Sprintf("DeadLetters(%d)", limit), fmt.Sprintf("%q %s", mdl, class(merr)), fmt.Sprintf("%q %s", rdl, class(rerr)))
	case 19: // Requeue a dead letter listed (or not)
		if d.ch.intn(2) == 0 {
			return
		}
		dl := []byte(pick(d, diffDead))
		if listed, _ := d.mem.DeadLetters(ctx, 10); len(listed) > 0 && d.ch.intn(4) > 0 {
			dl = listed[d.ch.intn(len(listed))]
		}
		its := d.items(2, d.ch.intn(8) == 0)
		d.note("Requeue %q%s", dl, describe(its))
		mok, merr := d.mem.Requeue(ctx, dl, its...)
		rok, rerr := d.red.Requeue(ctx, dl, its...)
		d.same("Requeue", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
		d.hold(its)
	case 20: // MarkSeen
		key, ttl := pick(d, diffKeys), d.ttl()
		d.note("MarkSeen %s ttl=%s", key, ttl)
		d.settle("seen:" + key)
		mok, merr := d.mem.MarkSeen(ctx, key, ttl)
		rok, rerr := d.red.MarkSeen(ctx, key, ttl)
		d.expired(ttl, "seen:"+key)
		d.same("MarkSeen", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
	case 21: // Touch or Forget
		key := pick(d, diffKeys)
		d.settle("seen:" + key)
		if d.ch.intn(3) == 0 {
			d.note("Forget %s", key)
			d.same("Forget", class(d.mem.Forget(ctx, key)), class(d.red.Forget(ctx, key)))
			return
		}
		ttl := d.ttl()
		if d.ch.intn(2) == 0 {
			d.note("TouchMark %s ttl=%s", key, ttl)
			mp, mok, merr := d.mem.TouchMark(ctx, key, ttl)
			rp, rok, rerr := d.red.TouchMark(ctx, key, ttl)
			d.expired(ttl, "seen:"+key)
			d.same("TouchMark", fmt.Sprintf("%q %v %s", mp, mok, class(merr)), fmt.Sprintf("%q %v %s", rp, rok, class(rerr)))
			return
		}
		d.note("Touch %s ttl=%s", key, ttl)
		mok, merr := d.mem.Touch(ctx, key, ttl)
		rok, rerr := d.red.Touch(ctx, key, ttl)
		d.expired(ttl, "seen:"+key)
		d.same("Touch", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
	case 22: // PutReply, PutReplyRemoving or KeepReply
		key, ttl := pick(d, diffKeys), d.ttl()
		body := d.data()
		d.settle("seen:"+key, "reply:"+key)
		if d.ch.intn(2) == 0 {
			d.note("PutReply %s %q ttl=%s", key, body, ttl)
			d.same("PutReply", class(d.mem.PutReply(ctx, key, body, ttl)), class(d.red.PutReply(ctx, key, body, ttl)))
			d.expired(ttl, "reply:"+key)
			return
		}
		var removals []store.SetRemoval
		for range d.ch.intn(3) {
			rm := store.SetRemoval{Set: pick(d, diffSets)}
			for range d.ch.intn(3) {
				rm.Members = append(rm.Members, pick(d, diffMembers))
			}
			removals = append(removals, rm)
			d.settle("set:" + rm.Set)
		}
		if d.ch.intn(2) == 0 {
			d.note("PutReplyRemoving %s %q ttl=%s removals=%+v", key, body, ttl, removals)
			d.same("PutReplyRemoving", class(d.mem.PutReplyRemoving(ctx, key, body, ttl, removals...)),
				class(d.red.PutReplyRemoving(ctx, key, body, ttl, removals...)))
			d.expired(ttl, "reply:"+key)
			return
		}
		d.note("KeepReply %s %q ttl=%s removals=%+v", key, body, ttl, removals)
		mok, merr := d.mem.KeepReply(ctx, key, body, ttl, removals...)
		rok, rerr := d.red.KeepReply(ctx, key, body, ttl, removals...)
		d.expired(ttl, "seen:"+key, "reply:"+key)
		d.same("KeepReply", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
	case 23: // GetReply
		key := pick(d, diffKeys)
		d.settle("reply:" + key)
		d.note("GetReply %s", key)
		d.same("GetReply "+key, d.reply(d.mem, key), d.reply(d.red, key))
	case 24: // ReserveReply
		key, ttl := pick(d, diffKeys), d.ttl()
		body := d.data()
		var adds []store.SetAddition
		for range d.ch.intn(3) {
			a := store.SetAddition{Set: pick(d, diffSets), TTL: d.ttl()}
			for range d.ch.intn(3) {
				a.Members = append(a.Members, pick(d, diffMembers))
			}
			adds = append(adds, a)
		}
		keys := []string{"reply:" + key}
		for _, a := range adds {
			keys = append(keys, "set:"+a.Set)
		}
		d.settle(keys...)
		d.note("ReserveReply %s %q ttl=%s adds=%+v", key, body, ttl, adds)
		mb, mok, merr := d.mem.ReserveReply(ctx, key, body, ttl, adds...)
		rb, rok, rerr := d.red.ReserveReply(ctx, key, body, ttl, adds...)
		d.expired(ttl, "reply:"+key)
		for _, a := range adds {
			d.expired(a.TTL, "set:"+a.Set)
		}
		d.same("ReserveReply", fmt.Sprintf("%q %v %s", mb, mok, class(merr)), fmt.Sprintf("%q %v %s", rb, rok, class(rerr)))
	case 25: // SetAdd or SetRemove
		set := pick(d, diffSets)
		var members []string
		for range d.ch.intn(3) {
			members = append(members, pick(d, diffMembers))
		}
		d.settle("set:" + set)
		if d.ch.intn(3) == 0 {
			d.note("SetRemove %s %v", set, members)
			d.same("SetRemove", class(d.mem.SetRemove(ctx, set, members...)), class(d.red.SetRemove(ctx, set, members...)))
			return
		}
		ttl := d.ttl()
		d.note("SetAdd %s ttl=%s %v", set, ttl, members)
		d.same("SetAdd", class(d.mem.SetAdd(ctx, set, ttl, members...)), class(d.red.SetAdd(ctx, set, ttl, members...)))
		d.expired(ttl, "set:"+set)
	case 26: // SetMembers
		set := pick(d, diffSets)
		d.settle("set:" + set)
		d.note("SetMembers %s", set)
		d.same("SetMembers "+set, d.members(d.mem, set), d.members(d.red, set))
	case 27: // HoldKey or DropHold
		key, token := pick(d, diffKeys), pick(d, diffHolders)
		d.settle("hold:" + key)
		if d.ch.intn(3) == 0 {
			d.note("DropHold %s %s", key, token)
			d.same("DropHold", class(d.mem.DropHold(ctx, key, token)), class(d.red.DropHold(ctx, key, token)))
			return
		}
		ttl := d.ttl()
		d.note("HoldKey %s %s ttl=%s", key, token, ttl)
		mok, merr := d.mem.HoldKey(ctx, key, token, ttl)
		rok, rerr := d.red.HoldKey(ctx, key, token, ttl)
		d.expired(ttl, "hold:"+key)
		d.same("HoldKey", fmt.Sprint(mok, " ", class(merr)), fmt.Sprint(rok, " ", class(rerr)))
	case 28: // DeadLetterPage
		offset, limit := pick(d, []int{-1, 0, 1, 2, 5}), pick(d, []int{-1, 0, 1, 2, 100})
		d.note("DeadLetterPage offset=%d limit=%d", offset, limit)
		mdl, merr := d.mem.DeadLetterPage(ctx, offset, limit)
		rdl, rerr := d.red.DeadLetterPage(ctx, offset, limit)
		d.same(fmt.Sprintf("DeadLetterPage(%d, %d)", offset, limit), fmt.Sprintf("%q %s", mdl, class(merr)), fmt.Sprintf("%q %s", rdl, class(rerr)))
	}
}

// holdsOf is who has each hold of diffKeys, as HoldKey with a token of
// none of diffHolders says (it renews none: "free" or "held").
func (d *diffRun) holdsOf(s store.Holds) string {
	var b strings.Builder
	for _, k := range diffKeys {
		ok, err := s.HoldKey(d.ctx, k, "nobody", time.Millisecond)
		state := "held"
		if ok {
			state = "free"
		}
		fmt.Fprintf(&b, "%s=%s %s; ", k, state, class(err))
	}
	return b.String()
}

// reply is GetReply's answer as text.
func (d *diffRun) reply(s store.Store, key string) string {
	b, ok, err := s.GetReply(d.ctx, key)
	if ok && b == nil {
		b = []byte{}
	}
	return fmt.Sprintf("%q %v %s", b, ok, class(err))
}

// members is SetMembers's answer as text.
func (d *diffRun) members(s store.Store, set string) string {
	m, err := s.SetMembers(d.ctx, set)
	return fmt.Sprintf("%q %s", m, class(err))
}

// compareCounts compares the queues' lengths and the dead letters' count.
func (d *diffRun) compareCounts() {
	for _, q := range diffQueues {
		mn, merr := d.mem.QueueLen(d.ctx, q)
		rn, rerr := d.red.QueueLen(d.ctx, q)
		d.same("QueueLen "+q, fmt.Sprint(mn, " ", class(merr)), fmt.Sprint(rn, " ", class(rerr)))
	}
	mn, merr := d.mem.DeadLetterLen(d.ctx)
	rn, rerr := d.red.DeadLetterLen(d.ctx)
	d.same("DeadLetterLen", fmt.Sprint(mn, " ", class(merr)), fmt.Sprint(rn, " ", class(rerr)))
}

// final compares what both stores hold at the end: every queue drained in
// claim order, the dead letters, replies, marks and sets.
func (d *diffRun) final() {
	ctx := d.ctx
	d.note("final state")
	for k, until := range d.expiring {
		if wait := time.Until(until); wait > 0 {
			time.Sleep(wait)
		}
		delete(d.expiring, k)
	}
	d.compareCounts()
	mdl, _ := d.mem.DeadLetters(ctx, store.DeadLetterCap)
	rdl, _ := d.red.DeadLetters(ctx, store.DeadLetterCap)
	d.same("final dead letters", fmt.Sprintf("%q", mdl), fmt.Sprintf("%q", rdl))
	late := d.now.Add(24 * time.Hour)
	for _, q := range diffQueues {
		for i := 0; ; i++ {
			ml, merr := d.mem.Claim(ctx, q, late, time.Hour)
			rl, rerr := d.red.Claim(ctx, q, late, time.Hour)
			d.same(fmt.Sprintf("final drain of %s, claim %d", q, i), leaseString(ml)+" "+class(merr), leaseString(rl)+" "+class(rerr))
			if ml == nil || i > len(diffIDs) {
				break
			}
		}
	}
	for _, k := range diffKeys {
		d.same("final reply "+k, d.reply(d.mem, k), d.reply(d.red, k))
		mp, mok, merr := d.mem.TouchMark(ctx, k, time.Hour)
		rp, rok, rerr := d.red.TouchMark(ctx, k, time.Hour)
		d.same("final mark "+k, fmt.Sprintf("%q %v %s", mp, mok, class(merr)), fmt.Sprintf("%q %v %s", rp, rok, class(rerr)))
	}
	for _, s := range diffSets {
		d.same("final set "+s, d.members(d.mem, s), d.members(d.red, s))
	}
	d.same("final holds", d.holdsOf(d.mem), d.holdsOf(d.red))
}

// TestStoresAgree runs seeded sequences of operations on a Memory and a
// Redis store side by side and fails at the first answer in which they
// differ, with the seed and the operations that led to it.
//
// A run on a Redis Cluster (every key of a script on one slot) follows,
// with fewer seeds.
func TestStoresAgree(t *testing.T) {
	const ops = 500
	srv := redistest.Start(t)
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			red, err := store.NewRedis(srv.URL(), fmt.Sprintf("diff%d:", seed))
			if err != nil {
				t.Fatal(err)
			}
			newDiffRun(t, red, &seededChooser{r: rand.New(rand.NewPCG(seed, 0x5eed)), ops: ops}).run()
		})
	}
	cluster := redistest.StartCluster(t)
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("cluster seed ", seed), func(t *testing.T) {
			red, err := store.OpenRedis(store.RedisOptions{ClusterAddrs: cluster.Addrs()}, fmt.Sprintf("diff%d:", seed))
			if err != nil {
				t.Fatal(err)
			}
			newDiffRun(t, red, &seededChooser{r: rand.New(rand.NewPCG(seed, 0xc1)), ops: ops}).run()
		})
	}
}

// FuzzStoresAgree is TestStoresAgree driven by the fuzzer: each byte of
// the input is one choice of the run.
func FuzzStoresAgree(f *testing.F) {
	srv := redistest.Start(f)
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 6, 0, 0, 14, 0, 0})
	f.Add(bytes.Repeat([]byte{2, 1, 3, 0, 1, 1, 0, 0, 1, 6, 1, 2, 14, 0, 0, 1, 1, 1, 0, 3}, 8))
	f.Add([]byte{19, 0, 2, 0, 0, 0, 24, 1, 1, 2, 1, 0, 1, 26, 0})
	var runs atomic.Int64
	f.Fuzz(func(t *testing.T, choices []byte) {
		if len(choices) > 4096 {
			return
		}
		red, err := store.NewRedis(srv.URL(), fmt.Sprintf("fuzz%d:", runs.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		newDiffRun(t, red, &bytesChooser{b: choices}).run()
	})
}
