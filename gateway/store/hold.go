package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A hold is a lease on a name that one holder at a time has: taken or
// renewed by HoldKey with the holder's token, given up by DropHold with
// the same token, and gone by itself once its ttl passes without renewal
// (a holder that died does not keep it). A holder whose hold ran out and
// was taken by another cannot renew or drop the other's.

// Holds is the hold primitive (Memory and Redis satisfy it).
type Holds interface {
	// HoldKey takes the hold on key for token for ttl, or renews it when
	// token has it already; false when another token has it.
	HoldKey(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	// DropHold gives up token's hold on key.
	DropHold(ctx context.Context, key, token string) error
}

// memHold is a Memory store's hold: its holder's token and when it ends.
type memHold struct {
	token string
	exp   time.Time
}

// HoldKey takes the hold on key for token for ttl, or renews it for ttl
// when token has it already; false when another token has it.
func (m *Memory) HoldKey(_ context.Context, key, token string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	now := m.now()
	if h, ok := m.holds[key]; ok && now.Before(h.exp) && h.token != token {
		return false, nil
	}
	if m.holds == nil {
		m.holds = map[string]memHold{}
	}
	m.holds[key] = memHold{token: token, exp: now.Add(keyTTL(ttl))}
	return true, nil
}

// DropHold gives up token's hold on key; nothing when another token has it
// (or none does).
func (m *Memory) DropHold(_ context.Context, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if h, ok := m.holds[key]; ok && h.token == token {
		delete(m.holds, key)
	}
	return nil
}

// holdKey is the Redis key of a hold.
func (r *Redis) holdKey(key string) string { return r.prefix + "hold:" + key }

// holdScript: KEYS[1] the hold, ARGV[1] the token, ARGV[2] the ttl in ms.
// Takes the hold when free, renews it when the token has it; 1 when the
// token has it now, 0 when another has.
var holdScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// dropHoldScript: KEYS[1] the hold, ARGV[1] the token. Deletes the hold
// only when the token has it.
var dropHoldScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`)

// HoldKey is Memory.HoldKey's Redis form: one Lua script.
func (r *Redis) HoldKey(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	n, err := holdScript.Run(ctx, r.scripts, []string{r.holdKey(key)}, token, keyTTL(ttl).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redis hold %s: %w", key, err)
	}
	return n == 1, nil
}

// DropHold is Memory.DropHold's Redis form.
func (r *Redis) DropHold(ctx context.Context, key, token string) error {
	if err := dropHoldScript.Run(ctx, r.scripts, []string{r.holdKey(key)}, token).Err(); err != nil {
		return fmt.Errorf("redis drop hold %s: %w", key, err)
	}
	return nil
}
