package cancels

import "github.com/redis/go-redis/v9"

// The Lua scripts that make each Tracker operation atomic in Redis (key
// layout in doc.go). Every script that returns a record returns its hash
// fields in the order of hmgetRecord: rec, state, outcome, attempts, next,
// lastError. Scores are Unix milliseconds.

// hmgetRecord reads a record's hash fields (KEYS[1]) in script order.
const hmgetRecord = `redis.call('HMGET', KEYS[1], 'rec', 'state', 'outcome', 'attempts', 'next', 'lastError')`

// trackScript: KEYS hash, due, expiry, index, answered, call mark,
// awaiting; ARGV id, rec JSON, next ms, expires ms, created ms, request
// MessageID, mark ttl ms, "1" when the record awaits its prescription.
// Returns 1 when tracking started, 0 when the record exists or this
// request was answered.
//
// Track, Reschedule and Complete each leave a mark of the call (the
// last KEYS, callKey: a token of the call in its name) for callMarkTTL
// (the last ARGV, ms) when they change the record: the same call, sent
// again by the client after its reply was lost (go-redis retries a
// command whose connection broke, though Redis may have run it), finds
// it and answers as its first run did, not "tracked already" or "lease
// lost".
var trackScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('EXISTS', KEYS[6]) end
if ARGV[6] ~= '' and redis.call('GET', KEYS[5]) == ARGV[6] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'state', 'pending', 'outcome', '', 'attempts', '0', 'next', ARGV[3], 'lastError', '')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
if ARGV[8] == '1' then redis.call('ZADD', KEYS[7], 0, ARGV[1]) end
redis.call('SET', KEYS[6], '1', 'PX', ARGV[7])
return 1
`)

// resolveScript: KEYS hash, lease, due, expiry; ARGV id, outcome JSON,
// token, lease ms, lease end ms. Marks a pending record resolved and leases
// it to the caller, taking any lease over; nil when the record is gone or
// resolved already. A record resolved and leased under the call's own
// token was resolved by this very call, run again by the client after
// its reply was lost: it is returned again, as the first run returned it
// (not "resolved already", which left it to wait out the lease).
var resolveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then
  if redis.call('GET', KEYS[2]) == ARGV[3] then return ` + hmgetRecord + ` end
  return false
end
redis.call('HSET', KEYS[1], 'state', 'resolved', 'outcome', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return ` + hmgetRecord)

// claimScript: KEYS hash, lease, due; ARGV id, now ms, token, lease ms,
// lease end ms. Leases a record whose due time has come and that nobody
// holds; nil otherwise (a due entry without its record is removed). A
// record leased under the call's own token was leased by this very call,
// run again by the client after its reply was lost: it is returned again.
var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return false
end
if redis.call('GET', KEYS[2]) == ARGV[3] then return ` + hmgetRecord + ` end
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return false end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return ` + hmgetRecord)

// extendScript: KEYS lease, due; ARGV token, lease ms, id, lease end ms.
// Returns 1, or 0 when the token does not hold the lease.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[3])
return 1
`)

// rescheduleScript: KEYS hash, lease, due, call mark; ARGV token, id,
// attempts, next ms, lastError, mark ttl ms. Returns 1, -1 when the token does not hold the lease, -2
// when the record is not pending.
var rescheduleScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  if redis.call('EXISTS', KEYS[4]) == 1 then return 1 end
  return -1
end
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return -2 end
redis.call('HSET', KEYS[1], 'attempts', ARGV[3], 'next', ARGV[4], 'lastError', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[6])
return 1
`)

// completeScript: KEYS hash, lease, due, expiry, index, answered, call
// mark, awaiting; ARGV token, id, request MessageID, answered ms, mark ttl
// ms. Returns 1, or 0 when the token does not hold the lease.
var completeScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.call('EXISTS', KEYS[7]) end
redis.call('SET', KEYS[7], '1', 'PX', ARGV[5])
redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[6], ARGV[3], 'PX', ARGV[4]) end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('ZREM', KEYS[8], ARGV[2])
return 1
`)

// expireScript: KEYS hash, lease, due, expiry, index, expired list,
// awaiting; ARGV
// id, now ms, list cap. Removes a pending, unleased record whose expiry has
// come and that was looked at since (its next poll is after its expiry),
// pushes it on the expired list (a JSON array of its fields, the record's
// own JSON without its request: the cancel request's payload, patient
// data nothing needs once it is given up) and returns its fields; nil
// otherwise.
var expireScript = redis.NewScript(`
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'state') ~= 'pending' then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return false
end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local nx = redis.call('HGET', KEYS[1], 'next')
if nx and tonumber(nx) <= tonumber(score) then return false end
local f = ` + hmgetRecord + `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
local rec = cjson.decode(f[1])
rec['request'] = nil
redis.call('LPUSH', KEYS[6], cjson.encode({cjson.encode(rec), f[2], f[3], f[4], f[5], f[6]}))
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[3]) - 1)
return f
`)
