package cancels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Tracker on Redis (key layout in the package doc). Several
// gateway replicas share one; a new Redis on the same server and prefix
// sees everything an earlier one tracked.
type Redis struct {
	client redis.UniversalClient
	prefix string
	opts   Options
	clock  func() time.Time
}

// NewRedis returns a Tracker on client under prefix ("" means
// "porxgate:"). The client stays the caller's to close.
func NewRedis(client redis.UniversalClient, prefix string, opts Options) *Redis {
	if prefix == "" {
		prefix = "porxgate:"
	}
	return &Redis{client: client, prefix: prefix, opts: opts.withDefaults(), clock: time.Now}
}

func (r *Redis) hashKey(id string) string  { return r.prefix + "cancel:" + id }
func (r *Redis) leaseKey(id string) string { return r.prefix + "cancel-lease:" + id }
func (r *Redis) dueKey() string            { return r.prefix + "cancels:due" }
func (r *Redis) expiryKey() string         { return r.prefix + "cancels:expiry" }
func (r *Redis) indexKey() string          { return r.prefix + "cancels:index" }
func (r *Redis) expiredKey() string        { return r.prefix + "cancels:expired" }
func (r *Redis) awaitingKey() string       { return r.prefix + "cancels:awaiting" }
func (r *Redis) answeredKey(id string) string {
	return r.prefix + "cancel-answered:" + id
}

// callKey is a new mark of one call of Track, Reschedule or Complete,
// which the call's script sets, for callMarkTTL, when it changes the
// record (see trackScript).
func (r *Redis) callKey() (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	return r.prefix + "cancel-call:" + token, nil
}

// callMarkTTL is how long the mark of a call is kept: longer than the
// client goes on sending a call again whose reply was lost (MaxRetries,
// each try bounded by the read timeout, and a backoff under a second).
const callMarkTTL = time.Minute

// fixedRecord is the part of a Record that never changes, as stored in the
// hash's rec field.
type fixedRecord struct {
	PrescriptionID string    `json:"prescriptionId"`
	LineItem       string    `json:"lineItem"`
	CancellationID string    `json:"cancellationId,omitempty"`
	ConversationID string    `json:"conversationId"`
	MessageID      string    `json:"messageId"`
	ResponseID     string    `json:"responseId,omitempty"`
	SenderPartyID  string    `json:"senderPartyId"`
	ReceiverParty  string    `json:"receiverPartyId,omitempty"`
	SenderASID     string    `json:"senderAsid,omitempty"`
	CPAID          string    `json:"cpaId,omitempty"`
	Request        []byte    `json:"request,omitempty"`
	TraceParent    string    `json:"traceParent,omitempty"`
	DispenserODS   string    `json:"dispenserOds,omitempty"`
	Awaiting       bool      `json:"awaitingPrescription,omitempty"`
	Created        time.Time `json:"created"`
	Expires        time.Time `json:"expires"`
}

func fixedOf(r Record) fixedRecord {
	return fixedRecord{
		PrescriptionID: r.PrescriptionID, LineItem: r.LineItem, CancellationID: r.CancellationID,
		ConversationID: r.ConversationID, MessageID: r.MessageID, ResponseID: r.ResponseID,
		SenderPartyID: r.SenderPartyID, ReceiverParty: r.ReceiverPartyID, SenderASID: r.SenderASID, CPAID: r.CPAID,
		Request: r.Request, TraceParent: r.TraceParent, DispenserODS: r.DispenserODS, Awaiting: r.AwaitingPrescription,
		Created: r.Created, Expires: r.Expires,
	}
}

// Track implements Tracker.
func (r *Redis) Track(ctx context.Context, rec Record) (bool, error) {
	rec, err := prepare(rec, r.opts)
	if err != nil {
		return false, err
	}
	data, err := json.Marshal(fixedOf(rec))
	if err != nil {
		return false, fmt.Errorf("cancels: track %s: %w", rec.Key(), err)
	}
	id := rec.Key()
	mark, err := r.callKey()
	if err != nil {
		return false, err
	}
	n, err := trackScript.Run(ctx, r.client,
		[]string{r.hashKey(id), r.dueKey(), r.expiryKey(), r.indexKey(), r.answeredKey(id), mark, r.awaitingKey()},
		id, data, rec.NextPoll.UnixMilli(), rec.Expires.UnixMilli(), rec.Created.UnixMilli(), answeredID(rec.MessageID),
		callMarkTTL.Milliseconds(), flag(rec.AwaitingPrescription)).Int()
	if err != nil {
		return false, fmt.Errorf("cancels: track %s: %w", id, err)
	}
	return n == 1, nil
}

// Get implements Tracker.
func (r *Redis) Get(ctx context.Context, prescriptionID, lineItem string) (Record, error) {
	id := recordKey(prescriptionID, lineItem)
	vals, err := r.client.HMGet(ctx, r.hashKey(id), "rec", "state", "outcome", "attempts", "next", "lastError").Result()
	if err != nil {
		return Record{}, fmt.Errorf("cancels: get %s: %w", id, err)
	}
	if vals[0] == nil {
		return Record{}, ErrNotFound
	}
	rec, err := decodeFields(vals)
	if err != nil {
		return Record{}, fmt.Errorf("cancels: get %s: %w", id, err)
	}
	return rec, nil
}

// Resolve implements Tracker.
func (r *Redis) Resolve(ctx context.Context, prescriptionID, lineItem string, outcome Outcome, now time.Time) (Claim, bool, error) {
	if err := checkIDs(prescriptionID, lineItem); err != nil {
		return Claim{}, false, err
	}
	id := recordKey(prescriptionID, lineItem)
	token, err := newToken()
	if err != nil {
		return Claim{}, false, err
	}
	data, err := json.Marshal(outcome)
	if err != nil {
		return Claim{}, false, fmt.Errorf("cancels: resolve %s: %w", id, err)
	}
	res, err := resolveScript.Run(ctx, r.client,
		[]string{r.hashKey(id), r.leaseKey(id), r.dueKey(), r.expiryKey()},
		id, data, token, r.opts.LeaseTTL.Milliseconds(), now.Add(r.opts.LeaseTTL).UnixMilli()).Slice()
	if errors.Is(err, redis.Nil) {
		return Claim{}, false, nil
	}
	if err != nil {
		return Claim{}, false, fmt.Errorf("cancels: resolve %s: %w", id, err)
	}
	rec, err := decodeFields(res)
	if err != nil {
		return Claim{}, false, fmt.Errorf("cancels: resolve %s: %w", id, err)
	}
	return Claim{Record: rec, Token: token}, true, nil
}

// dueScan is the fewest due entries one Due call looks at: entries another
// replica holds may still show due (replicas' clocks differ a little) and
// must not hide the ones behind them.
const dueScan = 32

// Due implements Tracker.
func (r *Redis) Due(ctx context.Context, now time.Time, limit int) ([]Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Look past entries others hold or just took: up to four per wanted,
	// and at least dueScan (the poller asks for one at a time).
	ids, err := r.client.ZRangeByScore(ctx, r.dueKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(max(limit*4, dueScan)),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("cancels: due: %w", err)
	}
	var out []Claim
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		token, err := newToken()
		if err != nil {
			return out, err
		}
		res, err := claimScript.Run(ctx, r.client,
			[]string{r.hashKey(id), r.leaseKey(id), r.dueKey()},
			id, now.UnixMilli(), token, r.opts.LeaseTTL.Milliseconds(), now.Add(r.opts.LeaseTTL).UnixMilli()).Slice()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("cancels: claim %s: %w", id, err)
		}
		rec, err := decodeFields(res)
		if err != nil {
			return out, fmt.Errorf("cancels: claim %s: %w", id, err)
		}
		out = append(out, Claim{Record: rec, Token: token})
	}
	return out, nil
}

// Extend implements Tracker.
func (r *Redis) Extend(ctx context.Context, c Claim) error {
	id := c.Key()
	n, err := extendScript.Run(ctx, r.client, []string{r.leaseKey(id), r.dueKey()},
		c.Token, r.opts.LeaseTTL.Milliseconds(), id, r.clock().Add(r.opts.LeaseTTL).UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("cancels: extend %s: %w", id, err)
	}
	if n != 1 {
		return ErrLeaseLost
	}
	return nil
}

// Reschedule implements Tracker.
func (r *Redis) Reschedule(ctx context.Context, c Claim, now time.Time, lastError string) (Record, error) {
	id := c.Key()
	attempts := c.Attempts + 1
	next := nextPoll(now, r.opts.Backoff(attempts), c.Expires)
	mark, err := r.callKey()
	if err != nil {
		return Record{}, err
	}
	n, err := rescheduleScript.Run(ctx, r.client, []string{r.hashKey(id), r.leaseKey(id), r.dueKey(), mark},
		c.Token, id, attempts, next.UnixMilli(), lastError, callMarkTTL.Milliseconds()).Int()
	if err != nil {
		return Record{}, fmt.Errorf("cancels: reschedule %s: %w", id, err)
	}
	switch n {
	case -1:
		return Record{}, ErrLeaseLost
	case -2:
		return Record{}, fmt.Errorf("cancels: reschedule %s: it is resolved", id)
	}
	rec := c.Record
	rec.Attempts, rec.NextPoll, rec.LastError = attempts, next.UTC(), lastError
	return rec, nil
}

// Complete implements Tracker.
func (r *Redis) Complete(ctx context.Context, c Claim) error {
	id := c.Key()
	mark, err := r.callKey()
	if err != nil {
		return err
	}
	n, err := completeScript.Run(ctx, r.client,
		[]string{r.hashKey(id), r.leaseKey(id), r.dueKey(), r.expiryKey(), r.indexKey(), r.answeredKey(id), mark, r.awaitingKey()},
		c.Token, id, answeredID(c.MessageID), r.opts.AnsweredTTL.Milliseconds(), callMarkTTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("cancels: complete %s: %w", id, err)
	}
	if n != 1 {
		return ErrLeaseLost
	}
	return nil
}

// Expire implements Tracker.
func (r *Redis) Expire(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := r.client.ZRangeByScore(ctx, r.expiryKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit * 4),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("cancels: expire: %w", err)
	}
	var out []Record
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		res, err := expireScript.Run(ctx, r.client,
			[]string{r.hashKey(id), r.leaseKey(id), r.dueKey(), r.expiryKey(), r.indexKey(), r.expiredKey(), r.awaitingKey()},
			id, now.UnixMilli(), r.opts.ExpiredCap).Slice()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("cancels: expire %s: %w", id, err)
		}
		rec, err := decodeFields(res)
		if err != nil {
			return out, fmt.Errorf("cancels: expire %s: %w", id, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// ListExpired implements Tracker.
func (r *Redis) ListExpired(ctx context.Context, limit int) ([]Record, error) {
	items, err := r.client.LRange(ctx, r.expiredKey(), 0, rangeStop(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("cancels: expired list: %w", err)
	}
	out := make([]Record, 0, len(items))
	for i, it := range items {
		var fields []any
		if err := json.Unmarshal([]byte(it), &fields); err != nil {
			return out, fmt.Errorf("cancels: expired list entry %d: %w", i, err)
		}
		rec, err := decodeFields(fields)
		if err != nil {
			return out, fmt.Errorf("cancels: expired list entry %d: %w", i, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// rangeStop is the last index of a Redis range of up to limit entries
// from the first (every one when limit <= 0).
func rangeStop(limit int) int64 {
	if limit <= 0 {
		return -1
	}
	return int64(limit - 1)
}

// List implements Tracker.
func (r *Redis) List(ctx context.Context, limit int) ([]Record, error) {
	ids, err := r.client.ZRange(ctx, r.indexKey(), 0, rangeStop(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("cancels: list: %w", err)
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, r.hashKey(id), "rec", "state", "outcome", "attempts", "next", "lastError")
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("cancels: list: %w", err)
		}
	}
	out := make([]Record, 0, len(ids))
	for i, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) == 0 || vals[0] == nil {
			continue // completed since the index was read
		}
		rec, err := decodeFields(vals)
		if err != nil {
			return out, fmt.Errorf("cancels: list %s: %w", ids[i], err)
		}
		out = append(out, rec)
	}
	sortByCreated(out)
	return out, nil
}

// Stats implements Tracker.
func (r *Redis) Stats(ctx context.Context, now time.Time) (Stats, error) {
	pipe := r.client.Pipeline()
	tracked := pipe.ZCard(ctx, r.indexKey())
	pending := pipe.ZCard(ctx, r.expiryKey())
	oldest := pipe.ZRangeWithScores(ctx, r.indexKey(), 0, 0)
	expired := pipe.LLen(ctx, r.expiredKey())
	awaiting := pipe.ZCard(ctx, r.awaitingKey())
	if _, err := pipe.Exec(ctx); err != nil {
		return Stats{}, fmt.Errorf("cancels: stats: %w", err)
	}
	s := Stats{Tracked: int(tracked.Val()), Pending: int(pending.Val()), Expired: int(expired.Val()), Awaiting: int(awaiting.Val())}
	if z := oldest.Val(); len(z) == 1 {
		if age := now.Sub(time.UnixMilli(int64(z[0].Score))); age > 0 {
			s.OldestAge = age
		}
	}
	return s, nil
}

// decodeFields turns a record's hash fields (script order: rec, state,
// outcome, attempts, next, lastError) into a Record.
func decodeFields(vals []any) (Record, error) {
	if len(vals) != 6 {
		return Record{}, fmt.Errorf("record has %d fields, want 6", len(vals))
	}
	str := func(i int) string {
		switch v := vals[i].(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return ""
	}
	var f fixedRecord
	if err := json.Unmarshal([]byte(str(0)), &f); err != nil {
		return Record{}, fmt.Errorf("record data: %w", err)
	}
	rec := Record{
		PrescriptionID: f.PrescriptionID, LineItem: f.LineItem, CancellationID: f.CancellationID,
		ConversationID: f.ConversationID, MessageID: f.MessageID, ResponseID: f.ResponseID,
		SenderPartyID: f.SenderPartyID, ReceiverPartyID: f.ReceiverParty, SenderASID: f.SenderASID, CPAID: f.CPAID, Request: f.Request,
		TraceParent: f.TraceParent, DispenserODS: f.DispenserODS, AwaitingPrescription: f.Awaiting, Created: f.Created, Expires: f.Expires,
		State: State(str(1)), LastError: str(5),
	}
	if o := str(2); o != "" {
		rec.Outcome = &Outcome{}
		if err := json.Unmarshal([]byte(o), rec.Outcome); err != nil {
			return Record{}, fmt.Errorf("record outcome: %w", err)
		}
	}
	if a := str(3); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil {
			return Record{}, fmt.Errorf("record attempts %q: %w", a, err)
		}
		rec.Attempts = n
	}
	if nx := str(4); nx != "" {
		ms, err := strconv.ParseInt(nx, 10, 64)
		if err != nil {
			return Record{}, fmt.Errorf("record next poll %q: %w", nx, err)
		}
		rec.NextPoll = time.UnixMilli(ms).UTC()
	}
	return rec, nil
}

// flag is a boolean as a script argument: "1" or "".
func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}
