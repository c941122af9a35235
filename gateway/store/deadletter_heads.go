package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// DeadLetterHead is what a listing shows of one dead letter: the head
// it was kept with (Finish.DeadLetterHead), its ids, time and reason
// without the message (up to the largest request body, twice for one of
// processing: its body and its inbox entry).
type DeadLetterHead struct {
	// Head is the dead letter's head; nil when it was kept without one
	// (by an older porxgate, or a caller that gave none): read it whole
	// (DeadLetterPage) to list it.
	Head []byte
}

// DeadLetterHeads returns the heads of up to limit dead letters, newest
// first, after the newest offset: one for each dead letter there is, in
// the order of DeadLetterPage. It reads the heads list, the two lengths
// and the headless count in one MULTI/EXEC, so that a listing of dead
// letters kept with messages of megabytes reads kilobytes out of Redis.
// Heads not in step with the dead letters (an older porxgate wrote or
// resent some since: see headsLua) are not used: every head is nil, until
// the next write starts them afresh.
func (r *Redis) DeadLetterHeads(ctx context.Context, offset, limit int) ([]DeadLetterHead, error) {
	if limit <= 0 || offset < 0 {
		return nil, nil
	}
	var dead, heads *redis.IntCmd
	var headless *redis.StringCmd
	var list *redis.StringSliceCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		dead = p.LLen(ctx, r.deadKey())
		heads = p.LLen(ctx, r.deadHeadsKey())
		headless = p.Get(ctx, r.deadHeadlessKey())
		list = p.LRange(ctx, r.deadHeadsKey(), int64(offset), int64(offset+limit-1))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis dead letter heads: %w", err)
	}
	n := min(limit, int(dead.Val())-offset)
	if n <= 0 {
		return nil, nil
	}
	out := make([]DeadLetterHead, n)
	if t, err := strconv.ParseInt(headless.Val(), 10, 64); err != nil || dead.Val()-heads.Val() != t {
		return out, nil
	}
	for i, h := range list.Val() {
		if i < n && h != "" {
			out[i].Head = []byte(h)
		}
	}
	return out, nil
}

// DeadLetterHeads is Redis.DeadLetterHeads for the memory store.
func (m *Memory) DeadLetterHeads(_ context.Context, offset, limit int) ([]DeadLetterHead, error) {
	var out []DeadLetterHead
	err := m.eachDead(offset, limit, func(i int) {
		var h DeadLetterHead
		if len(m.deadHeads[i]) > 0 {
			h.Head = append([]byte(nil), m.deadHeads[i]...)
		}
		out = append(out, h)
	})
	return out, err
}
