package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/internal/ids"
)

// SetAddition is a SetAdd made in the same atomic step as another write:
// Members are added to the named Set, which then lasts TTL from now.
type SetAddition struct {
	Set     string
	TTL     time.Duration
	Members []string
}

// SetRemoval is a SetRemove made in the same atomic step as another
// write: Members leave the named Set.
type SetRemoval struct {
	Set     string
	Members []string
}

// ReserveReply returns the reply kept under key, when there is one (found
// true; nothing is written). Otherwise it keeps body under key for ttl and
// makes the set additions, in one atomic step, and returns found false. It
// is GetReply, PutReply and SetAdd in one round trip for a caller that
// records an attempt only when none is recorded.
func (m *Memory) ReserveReply(_ context.Context, key string, body []byte, ttl time.Duration, adds ...SetAddition) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, false, ErrClosed
	}
	now := m.now()
	if r, ok := m.replies[key]; ok && now.Before(r.exp) {
		return append([]byte(nil), r.body...), true, nil
	}
	m.putReply(now, key, body, ttl)
	for _, a := range adds {
		if len(a.Members) > 0 {
			m.setAddLocked(now, a.Set, a.TTL, a.Members)
		}
	}
	return nil, false, nil
}

// reserveScript: KEYS[1] the reply key, KEYS[2] the call's mark; ARGV[1]
// the body, ARGV[2] its ttl ms, ARGV[3] the mark's ttl ms; then for each
// further key (a set) ARGV holds its ttl ms, the number of members and
// the members. Returns the reply kept, or false when there was none and
// the body, the mark and the members are written. The mark (a token of
// the call in its name, kept for endedTTL) tells the same call, run again
// by the client after its reply was lost, that the reply it finds is its
// own: false, as the first run answered, and nothing written again.
// Before, the call found its own attempt record and took it for an
// earlier attempt whose answer was unknown.
var reserveScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  if redis.call('EXISTS', KEYS[2]) == 1 then return false end
  return v
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
local a = 4
for k = 3, #KEYS do
  local ttl, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  for i = 0, n - 1 do
    redis.call('SADD', KEYS[k], ARGV[a + i])
  end
  a = a + n
  redis.call('PEXPIRE', KEYS[k], ttl)
end
return false
`)

// ReserveReply is Memory.ReserveReply's Redis form: one Lua script.
func (r *Redis) ReserveReply(ctx context.Context, key string, body []byte, ttl time.Duration, adds ...SetAddition) ([]byte, bool, error) {
	keys := []string{r.prefix + "reply:" + key, r.prefix + "reserved:" + ids.NewUUID()}
	args := []any{body, strconv.FormatInt(max(ttl.Milliseconds(), 1), 10), endedMS}
	for _, a := range adds {
		if len(a.Members) == 0 {
			continue
		}
		keys = append(keys, r.setKey(a.Set))
		args = append(args, strconv.FormatInt(max(a.TTL.Milliseconds(), 1), 10), strconv.Itoa(len(a.Members)))
		for _, v := range a.Members {
			args = append(args, v)
		}
	}
	b, err := reserveScript.Run(ctx, r.scripts, keys, args...).Text()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis reserve reply %s: %w", key, err)
	}
	return []byte(b), true, nil
}
