package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/internal/ids"
)

// dueKey is the sorted set of a queue's item ids by due time.
func (r *Redis) dueKey(queue string) string { return r.prefix + "q:" + queue + ":due" }

// itemPrefix prefixes the hash key of each of a queue's items.
func (r *Redis) itemPrefix(queue string) string { return r.prefix + "q:" + queue + ":item:" }

// endedKey is a new mark, kept for endedTTL, that one call of Retry or
// Complete ended its lease (retryScript, completeScript): each call
// names itself with a token of its own, so that only the same call, sent
// again by the client, finds it; a second call on the same lease is
// refused (ErrLeaseLost) as before.
func (r *Redis) endedKey(queue string) string {
	return r.prefix + "q:" + queue + ":ended:" + ids.NewUUID()
}

// endedTTL is how long the mark of a lease that Retry or Complete ended
// is kept: longer than the client goes on sending a call again whose
// reply was lost (MaxRetries, 3 by default, each attempt bounded by the
// read timeout, 3 s, and a backoff under a second).
const endedTTL = time.Minute

// endedMS is endedTTL in milliseconds, as the scripts take it.
var endedMS = strconv.FormatInt(endedTTL.Milliseconds(), 10)

// deadKey is the dead-letter list.
func (r *Redis) deadKey() string { return r.prefix + "deadletters" }

// deadHeadsKey is the list of the dead letters' heads (headsLua).
func (r *Redis) deadHeadsKey() string { return r.deadKey() + ":heads" }

// deadHeadlessKey counts the oldest dead letters that have no head
// (headsLua).
func (r *Redis) deadHeadlessKey() string { return r.deadKey() + ":headless" }

// ms returns t as Unix milliseconds in decimal.
func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// stagedItemMin is the size of an item's data from which it is written
// before the script that queues it (stagedItem) rather than carried as
// its argument. Redis's Lua hashes every byte of a script's arguments:
// an inbox entry (a prescription, about 18 KB) cost about 126,000 of
// Redis's instructions in that loop alone. Below it, the two commands
// more (the hash, its expiry) and the rename outweigh the bytes kept out.
const stagedItemMin = 1 << 10

// stagedTTL bounds how long an item written before its script lasts if
// the script never runs (the gateway stopped between the two): longer
// than the client goes on sending a call again (endedTTL's reasoning).
const stagedTTL = time.Minute

// stagedItem is an item's hash as the script that queues it renames into
// place (enqueueLua): written by plain commands just before the script,
// in the same pipeline, with stagedTTL.
type stagedItem struct {
	key          string
	data         []byte
	token, party string
}

// itemArgs appends the KEYS and ARGV that enqueueLua reads for items, and
// returns the items to be written before the script (stagedItemMin).
func (r *Redis) itemArgs(keys []string, args []any, items []Item) ([]string, []any, []stagedItem) {
	var staged []stagedItem
	for _, it := range items {
		keys = append(keys, r.dueKey(it.Queue), r.itemPrefix(it.Queue)+it.ID)
		if len(it.Data) > stagedItemMin {
			k := r.prefix + "q:" + it.Queue + ":staged:" + ids.NewUUID()
			staged = append(staged, stagedItem{key: k, data: it.Data, token: it.Token, party: it.Party})
			args = append(args, it.ID, "", ms(it.Due), it.Token, it.Party, k)
			continue
		}
		args = append(args, it.ID, it.Data, ms(it.Due), it.Token, it.Party, "")
	}
	return keys, args, staged
}

// Accept implements Store.
func (r *Redis) Accept(ctx context.Context, seenKey string, ttl time.Duration, items ...Item) (bool, error) {
	a, err := r.AcceptFrom(ctx, seenKey, "", ttl, items...)
	return a.Fresh, err
}

// AcceptFrom implements Store with one Lua script (acceptScript): SET NX
// PX on the seen key, its value naming party, then the items, only when
// the key was new.
func (r *Redis) AcceptFrom(ctx context.Context, seenKey, party string, ttl time.Duration, items ...Item) (Accepted, error) {
	keys, args, staged := r.itemArgs([]string{r.prefix + "seen:" + seenKey},
		[]any{strconv.FormatInt(max(ttl.Milliseconds(), 1), 10), seenMarkOf(party), party}, items)
	res, err := acceptScript.Run(ctx, r.scripts.with(staged), keys, args...).Slice()
	if err != nil {
		return Accepted{}, fmt.Errorf("redis accept %s: %w", seenKey, err)
	}
	if len(res) != 2 {
		return Accepted{}, fmt.Errorf("redis accept %s: unexpected reply %v", seenKey, res)
	}
	n, _ := res[0].(int64)
	p, _ := res[1].(string)
	return Accepted{Fresh: n == 1, Party: p}, nil
}

// Touch implements Store with PEXPIRE.
func (r *Redis) Touch(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.client.PExpire(ctx, r.prefix+"seen:"+key, keyTTL(ttl)).Result()
	if err != nil {
		return false, fmt.Errorf("redis touch %s: %w", key, err)
	}
	return ok, nil
}

// TouchMark implements Store with one Lua script (touchMarkScript),
// which, as Touch, does not wait for replicas.
func (r *Redis) TouchMark(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	party, err := touchMarkScript.Run(ctx, r.scripts.base, []string{r.prefix + "seen:" + key}, keyTTL(ttl).Milliseconds()).Text()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis touch mark %s: %w", key, err)
	}
	return party, true, nil
}

// Forget implements Store.
func (r *Redis) Forget(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+"seen:"+key).Err(); err != nil {
		return fmt.Errorf("redis forget %s: %w", key, err)
	}
	return nil
}

// Enqueue implements Store.
func (r *Redis) Enqueue(ctx context.Context, items ...Item) error {
	if len(items) == 0 {
		return nil
	}
	keys, args, staged := r.itemArgs(nil, nil, items)
	if err := enqueueScript.Run(ctx, r.scripts.with(staged), keys, args...).Err(); err != nil {
		return fmt.Errorf("redis enqueue: %w", err)
	}
	return nil
}

// Claim implements Store.
func (r *Redis) Claim(ctx context.Context, queue string, now time.Time, lease time.Duration) (*Lease, error) {
	token := ids.NewUUID()
	until := now.Add(lease)
	res, err := claimScript.Run(ctx, r.scripts, []string{r.dueKey(queue)},
		ms(now), ms(until), token, r.itemPrefix(queue)).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis claim from %s: %w", queue, err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("redis claim from %s: unexpected reply %v", queue, res)
	}
	id, _ := res[0].(string)
	data, _ := res[1].(string)
	more, _ := res[2].(int64)
	return &Lease{Queue: queue, ID: id, Data: replyBytes(data), Token: token, Until: until, More: more > 0}, nil
}

// leaseResult turns a script's 1/0 answer into nil / ErrLeaseLost.
func leaseResult(op string, l *Lease, n int, err error) error {
	if err != nil {
		return fmt.Errorf("redis %s %s/%s: %w", op, l.Queue, l.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("%s %s/%s: %w", op, l.Queue, l.ID, ErrLeaseLost)
	}
	return nil
}

// Extend implements Store.
func (r *Redis) Extend(ctx context.Context, l *Lease, until time.Time) error {
	n, err := extendScript.Run(ctx, r.scripts, []string{r.dueKey(l.Queue), r.itemPrefix(l.Queue) + l.ID},
		l.ID, l.Token, ms(until)).Int()
	if err := leaseResult("extend", l, n, err); err != nil {
		return err
	}
	l.Until = until
	return nil
}

// Retry implements Store.
func (r *Redis) Retry(ctx context.Context, l *Lease, data []byte, due time.Time) error {
	n, err := retryScript.Run(ctx, r.scripts, []string{r.dueKey(l.Queue), r.itemPrefix(l.Queue) + l.ID, r.endedKey(l.Queue)},
		l.ID, l.Token, data, ms(due), endedMS).Int()
	return leaseResult("retry", l, n, err)
}

// completeArgs returns the KEYS and ARGV of completeLua for l and f, the
// arguments more between its own and the items', and the items written
// before the script.
func (r *Redis) completeArgs(l *Lease, f Finish, more ...any) ([]string, []any, []stagedItem) {
	push := "0"
	if f.DeadLetter != nil {
		push = "1"
	}
	args := append([]any{l.ID, l.Token, push, f.DeadLetter, strconv.Itoa(DeadLetterCap), endedMS, f.DeadLetterHead}, more...)
	return r.itemArgs(
		[]string{r.dueKey(l.Queue), r.itemPrefix(l.Queue) + l.ID, r.deadKey(), r.endedKey(l.Queue), r.deadHeadsKey(), r.deadHeadlessKey()},
		args, f.Enqueue)
}

// completeResult turns completeLua's answer into nil, ErrHeldQueued or
// ErrLeaseLost.
func completeResult(l *Lease, n int, err error) error {
	if err == nil && n == 2 {
		return fmt.Errorf("complete %s/%s: %w", l.Queue, l.ID, ErrHeldQueued)
	}
	return leaseResult("complete", l, n, err)
}

// Complete implements Store.
func (r *Redis) Complete(ctx context.Context, l *Lease, f Finish) error {
	keys, args, staged := r.completeArgs(l, f)
	n, err := completeScript.Run(ctx, r.scripts.with(staged), keys, args...).Int()
	return completeResult(l, n, err)
}

// CompleteClaim implements CompleteClaimer with one Lua script
// (completeClaimScript): completeScript's work, then, when it completed
// l, claimScript's on l's queue.
func (r *Redis) CompleteClaim(ctx context.Context, l *Lease, f Finish, now time.Time, lease time.Duration) (*Lease, error) {
	token := ids.NewUUID()
	until := now.Add(lease)
	keys, args, staged := r.completeArgs(l, f, ms(now), ms(until), token, r.itemPrefix(l.Queue))
	res, err := completeClaimScript.Run(ctx, r.scripts.with(staged), keys, args...).Slice()
	if err != nil {
		return nil, completeResult(l, 0, err)
	}
	n, _ := res[0].(int64)
	if err := completeResult(l, int(n), nil); err != nil || len(res) == 1 {
		return nil, err
	}
	if len(res) != 4 {
		return nil, fmt.Errorf("redis complete %s/%s and claim: unexpected reply %v", l.Queue, l.ID, res)
	}
	id, _ := res[1].(string)
	data, _ := res[2].(string)
	more, _ := res[3].(int64)
	return &Lease{Queue: l.Queue, ID: id, Data: replyBytes(data), Token: token, Until: until, More: more > 0}, nil
}

// replyBytes returns the bytes of a string the Redis client read for one
// reply: the client reads each bulk string into memory of its own, made
// for it and shared with no one (go-redis proto.Reader.readStringReply),
// so the bytes are its memory, not a copy. A claimed item's data was
// read, then copied whole: an inbox entry (a prescription with its
// payload in base64, 20 KB) twice for each message claimed.
func replyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Requeue implements Store with one Lua script: LREM of the dead letter,
// then the items, only when it was listed.
func (r *Redis) Requeue(ctx context.Context, deadLetter []byte, items ...Item) (bool, error) {
	keys, args, staged := r.itemArgs([]string{r.deadKey(), r.deadKey() + ":requeued:" + ids.NewUUID(), r.deadHeadsKey(), r.deadHeadlessKey()}, []any{deadLetter, endedMS}, items)
	n, err := requeueScript.Run(ctx, r.scripts.with(staged), keys, args...).Int()
	if err != nil {
		return false, fmt.Errorf("redis requeue dead letter: %w", err)
	}
	return n == 1, nil
}

// Peek implements Store with one HGET.
func (r *Redis) Peek(ctx context.Context, queue, id string) ([]byte, bool, error) {
	data, err := r.client.HGet(ctx, r.itemPrefix(queue)+id, "data").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis peek %s/%s: %w", queue, id, err)
	}
	return data, true, nil
}

// Drop implements Store with one script (dropScript), which with
// WaitReplicas waits for the replicas.
func (r *Redis) Drop(ctx context.Context, queue, id string) (bool, error) {
	n, err := dropScript.Run(ctx, r.scripts, []string{r.dueKey(queue), r.itemPrefix(queue) + id, r.prefix + "q:" + queue + ":dropped:" + ids.NewUUID()},
		id, endedMS).Int()
	if err != nil {
		return false, fmt.Errorf("redis drop %s/%s: %w", queue, id, err)
	}
	return n == 1, nil
}

// QueueLen implements Store.
func (r *Redis) QueueLen(ctx context.Context, queue string) (int, error) {
	n, err := r.client.ZCard(ctx, r.dueKey(queue)).Result()
	if err != nil {
		return 0, fmt.Errorf("redis queue length %s: %w", queue, err)
	}
	return int(n), nil
}

// DeadLetters implements Store.
func (r *Redis) DeadLetters(ctx context.Context, limit int) ([][]byte, error) {
	return r.DeadLetterPage(ctx, 0, limit)
}

// DeadLetterPage implements Store with one LRANGE.
func (r *Redis) DeadLetterPage(ctx context.Context, offset, limit int) ([][]byte, error) {
	if limit <= 0 || offset < 0 {
		return nil, nil
	}
	vals, err := r.client.LRange(ctx, r.deadKey(), int64(offset), int64(offset+limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis dead letters: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}

// PutReply implements Store with SET PX (putReplyScript: with
// WaitReplicas it waits for the replicas, as the record of EPS's answer,
// acted on once written, must).
func (r *Redis) PutReply(ctx context.Context, key string, body []byte, ttl time.Duration) error {
	err := putReplyScript.Run(ctx, r.scripts, []string{r.prefix + "reply:" + key}, body, keyTTL(ttl).Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis put reply %s: %w", key, err)
	}
	return nil
}

// PutReplyRemoving is Memory.PutReplyRemoving's Redis form: SET PX and
// an SREM per removal in one script (putReplyRemovingScript), which with
// WaitReplicas waits for the replicas, as PutReply and SetRemove do.
func (r *Redis) PutReplyRemoving(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...SetRemoval) error {
	keys := []string{r.prefix + "reply:" + key}
	args := []any{body, keyTTL(ttl).Milliseconds()}
	keys, args = r.removalArgs(keys, args, removals)
	if err := putReplyRemovingScript.Run(ctx, r.scripts, keys, args...).Err(); err != nil {
		return fmt.Errorf("redis put reply %s: %w", key, err)
	}
	return nil
}

// removalArgs appends the KEYS (a set each) and ARGV (the number of
// members, then the members) of the removals that remove any, as
// setMembersLua reads them.
func (r *Redis) removalArgs(keys []string, args []any, removals []SetRemoval) ([]string, []any) {
	for _, rm := range removals {
		if len(rm.Members) > 0 {
			keys = append(keys, r.setKey(rm.Set))
			args = appendMembers(args, rm.Members)
		}
	}
	return keys, args
}

// KeepReply implements Store with SET PX, PEXPIRE, SET NX PX and an SREM
// per removal in one script (keepReplyScript), which with WaitReplicas
// waits for the replicas: the answer it keeps is handed to the sender
// next.
func (r *Redis) KeepReply(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...SetRemoval) (bool, error) {
	keys := []string{r.prefix + "reply:" + key, r.prefix + "seen:" + key}
	args := []any{body, keyTTL(ttl).Milliseconds(), seenMark()}
	keys, args = r.removalArgs(keys, args, removals)
	touched, err := keepReplyScript.Run(ctx, r.scripts, keys, args...).Int()
	if err != nil {
		return false, fmt.Errorf("redis keep reply %s: %w", key, err)
	}
	return touched == 1, nil
}

// GetReply implements Store.
func (r *Redis) GetReply(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+"reply:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis get reply %s: %w", key, err)
	}
	return b, true, nil
}
