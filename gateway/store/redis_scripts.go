package store

import "github.com/redis/go-redis/v9"

// The Lua scripts that make each queue operation atomic in Redis. Item
// hashes have two fields: data (the item) and token (the current lease's
// token, "" when not leased). Scores in the due sorted sets are Unix
// milliseconds.
//
// Enqueued items travel as KEYS pairs (due set, item hash) from KEYS[first]
// on, and as ARGV sextuples (id, data, due ms, token, party, staged) from
// ARGV[first] on; the token is "" for an item queued unclaimed, and for
// one queued already claimed (Item.Token) it is the lease's, with due its
// end; the party (Item.Party) is kept in the hash's party field unless "".
// An item whose data is bigger than stagedItemMin comes written already:
// its whole hash (data, token, party) under the key staged names, written
// by plain commands just before the script (stagedItem), and data is "";
// the script renames that hash into place instead of writing it, so that
// the item's bytes never become a Lua string (Redis's Lua hashes every
// byte of a script's arguments), and deletes it when it queues nothing.

// enqueueLua is the shared body: enqueue adds the items described from
// KEYS[k0] / ARGV[a0] on, skipping ids already queued, and heldQueued
// tells whether one of them to be queued already claimed is queued
// already (its holder would hold nothing); heldByOther, whether one is
// queued under another token than its own (after the items were
// enqueued: whether they were queued already before); inHand, the hash
// key of the first of them queued already, if any. stagedMissing tells
// whether the hash of an item written before the script is not there (a
// script finding so writes nothing: stagedGone), and unstage deletes
// those hashes, for a script that ends without queueing the items.
// present answers whether an item hash is there, asking Redis (EXISTS)
// once a script: what inHand or heldQueued found, enqueue does not ask
// again; enqueue's writes, and a script's DEL of an item hash (complete),
// keep the answer true (until this release each asked again: one EXISTS
// more per item in Accept, and in each Complete that queues an item
// already claimed).
const enqueueLua = `
local stagedGone = 'porxgate: a queue item written before its script is gone'

local seenItems = {}
local function present(hk)
  local p = seenItems[hk]
  if p == nil then
    p = redis.call('EXISTS', hk) == 1
    seenItems[hk] = p
  end
  return p
end

local function enqueue(k0, a0)
  local n = (#KEYS - k0 + 1) / 2
  for i = 0, n - 1 do
    local zk, hk = KEYS[k0 + 2*i], KEYS[k0 + 2*i + 1]
    local a = a0 + 6*i
    local staged = ARGV[a + 5]
    if not present(hk) then
      if staged ~= '' then
        redis.call('RENAME', staged, hk)
        redis.call('PERSIST', hk)
      else
        redis.call('HSET', hk, 'data', ARGV[a + 1], 'token', ARGV[a + 3])
        if ARGV[a + 4] ~= '' then redis.call('HSET', hk, 'party', ARGV[a + 4]) end
      end
      seenItems[hk] = true
      redis.call('ZADD', zk, ARGV[a + 2], ARGV[a])
    elseif staged ~= '' then
      redis.call('DEL', staged)
    end
  end
end

local function stagedMissing(k0, a0)
  local n = (#KEYS - k0 + 1) / 2
  for i = 0, n - 1 do
    local staged = ARGV[a0 + 6*i + 5]
    if staged ~= '' and redis.call('EXISTS', staged) == 0 then return true end
  end
  return false
end

local function unstage(k0, a0)
  local n = (#KEYS - k0 + 1) / 2
  for i = 0, n - 1 do
    local staged = ARGV[a0 + 6*i + 5]
    if staged ~= '' then redis.call('DEL', staged) end
  end
end

local function heldQueued(k0, a0)
  local n = (#KEYS - k0 + 1) / 2
  for i = 0, n - 1 do
    if ARGV[a0 + 6*i + 3] ~= '' and present(KEYS[k0 + 2*i + 1]) then
      return true
    end
  end
  return false
end

local function inHand(k0)
  for k = k0 + 1, #KEYS, 2 do
    if present(KEYS[k]) then return KEYS[k] end
  end
  return nil
end

local function heldByOther(k0, a0)
  local n = (#KEYS - k0 + 1) / 2
  for i = 0, n - 1 do
    local token = ARGV[a0 + 6*i + 3]
    if token ~= '' then
      local t = redis.call('HGET', KEYS[k0 + 2*i + 1], 'token')
      if t and t ~= token then return true end
    end
  end
  return false
end
`

// acceptScript: KEYS[1] seen key, ARGV[1] ttl ms, ARGV[2] seen value
// (unique to the call: seenMark, with the party), ARGV[3] the party;
// items from KEYS[2] / ARGV[4]. Returns {1, ""} when the key was new, else
// {0, party}, party the one recorded with the mark ("" for a mark without
// one: the value's third field). Also {0, party} when an item to be queued
// is queued already (the message is in hand, its mark lapsed: a duplicate,
// and the caller holds no lease), party the one recorded with that item;
// then nothing is written when that is another party, else the mark and
// the other items are. A key that holds the call's own value was set by
// this very call, run again by the client after its reply was lost: it
// answers as that run did, and writes nothing again (its items may have
// been claimed and finished since).
var acceptScript = redis.NewScript(enqueueLua + `
if stagedMissing(2, 4) then return redis.error_reply(stagedGone) end
local cur = redis.call('GET', KEYS[1])
if cur then
  unstage(2, 4)
  if cur ~= ARGV[2] then return {0, string.match(cur, '^%S+ %S+ (.+)$') or ''} end
  if heldByOther(2, 4) then return {0, ARGV[3]} end
  return {1, ''}
end
local hand = inHand(2)
local party = ''
if hand then
  party = redis.call('HGET', hand, 'party') or ''
  if party ~= '' and party ~= ARGV[3] then
    unstage(2, 4)
    return {0, party}
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
enqueue(2, 4)
if hand then return {0, party} end
return {1, ''}
`)

// enqueueScript: items from KEYS[1] / ARGV[1].
var enqueueScript = redis.NewScript(enqueueLua + `
if stagedMissing(1, 1) then return redis.error_reply(stagedGone) end
enqueue(1, 1)
return 1
`)

// claimLua is the body of claimScript as a function: claim leases the
// longest-due item of the due set zk at now (ms) until till (ms) with
// token, its hash key prefix prefix, and returns {id, data, more} (more:
// 1 when another item was due too, else 0) or false. Entries of the due
// set whose hash is gone are removed on the way. An item that holds the
// call's token already (scored at its lease end) was leased by this very
// call, run again by the client after its reply was lost: that item is
// returned again, and no other is leased (which would leave the first
// leased to nobody until its lease ran out).
const claimLua = `
local function claim(zk, now, till, token, prefix)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', zk, till, till)) do
    local hk = prefix .. id
    if redis.call('HGET', hk, 'token') == token then
      local due = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, 1)
      return {id, redis.call('HGET', hk, 'data'), #due}
    end
  end
  for _ = 1, 16 do
    local ids = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, 2)
    if #ids == 0 then return false end
    local id = ids[1]
    local hk = prefix .. id
    local data = redis.call('HGET', hk, 'data')
    if data then
      redis.call('HSET', hk, 'token', token)
      redis.call('ZADD', zk, till, id)
      return {id, data, #ids - 1}
    end
    redis.call('ZREM', zk, id)
  end
  return false
end
`

// claimScript: KEYS[1] due set; ARGV[1] now ms, ARGV[2] lease end ms,
// ARGV[3] token (unique to the call), ARGV[4] item key prefix. Returns
// claim's answer (claimLua): {id, data, more} or nil.
var claimScript = redis.NewScript(claimLua + `
return claim(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`)

// extendScript: KEYS[1] due set, KEYS[2] item hash; ARGV[1] id, ARGV[2]
// token, ARGV[3] new lease end ms. Returns 1, or 0 when the lease is lost.
var extendScript = redis.NewScript(`
local t = redis.call('HGET', KEYS[2], 'token')
if not t or t == '' or t ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// A call of Retry or Complete that ends its lease leaves a mark (KEYS
// "ended", a token of the call in its name) for a while (ARGV ended ttl
// ms, endedTTL): the same call, run again by the client after its reply
// was lost, finds the item no longer held by its token, and answers 1,
// as the run that ended the lease did, instead of "lease lost".

// retryScript: KEYS[1] due set, KEYS[2] item hash, KEYS[3] ended mark;
// ARGV[1] id, ARGV[2] token, ARGV[3] data, ARGV[4] due ms, ARGV[5] ended
// ttl ms. Returns 1, or 0 when the lease is lost.
var retryScript = redis.NewScript(`
local t = redis.call('HGET', KEYS[2], 'token')
if not t or t == '' or t ~= ARGV[2] then return redis.call('EXISTS', KEYS[3]) end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'token', '')
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
return 1
`)

// headsLua keeps the dead-letter heads list in step with the dead-letter
// list: its entries are the heads of the newest dead letters, in their
// order, and the oldest dead letters, as many as the headless key says,
// have none (kept before heads were). An older porxgate beside this one
// (a rolling upgrade, a rollback) pushes and removes dead letters without
// their heads: the lengths then disagree with the headless count, and
// the heads are started afresh (every dead letter now headless). At the
// list's cap no heads are kept, since an older porxgate's push there
// (with its trim) would leave the lengths as they were.
const headsLua = `
local function headsInStep(dead, heads, headless)
  return redis.call('LLEN', dead) - redis.call('LLEN', heads) == tonumber(redis.call('GET', headless) or '-1')
end
local function headsAfresh(dead, heads, headless)
  redis.call('DEL', heads)
  redis.call('SET', headless, redis.call('LLEN', dead))
end
local function headsNoted(dead, heads, headless)
  redis.call('SET', headless, redis.call('LLEN', dead) - redis.call('LLEN', heads))
end
`

// completeLua is the body of completeScript as a function: complete
// reads KEYS[1] due set, KEYS[2] item hash, KEYS[3] dead-letter list,
// KEYS[4] ended mark, KEYS[5] dead-letter heads list, KEYS[6] the
// headless count (headsLua); ARGV[1] id, ARGV[2] token, ARGV[3] "1" when
// ARGV[4] is a dead letter to push, ARGV[4] dead letter, ARGV[5] list
// cap, ARGV[6] ended ttl ms, ARGV[7] the dead letter's head ("" for
// none); items from KEYS[7] / ARGV[a0]. It returns 1, 0 when the lease is
// lost, or 2 when an item to be queued already claimed is queued already
// (nothing is written then).
const completeLua = `
local function complete(a0)
  local t = redis.call('HGET', KEYS[2], 'token')
  if not t or t == '' or t ~= ARGV[2] then
    unstage(7, a0)
    return redis.call('EXISTS', KEYS[4])
  end
  if heldQueued(7, a0) then
    unstage(7, a0)
    return 2
  end
  redis.call('DEL', KEYS[2])
  seenItems[KEYS[2]] = false
  redis.call('ZREM', KEYS[1], ARGV[1])
  if ARGV[3] == '1' then
    local cap = tonumber(ARGV[5])
    if not headsInStep(KEYS[3], KEYS[5], KEYS[6]) then headsAfresh(KEYS[3], KEYS[5], KEYS[6]) end
    redis.call('LPUSH', KEYS[3], ARGV[4])
    redis.call('LTRIM', KEYS[3], 0, cap - 1)
    if redis.call('LLEN', KEYS[3]) >= cap then
      redis.call('DEL', KEYS[5])
    else
      redis.call('LPUSH', KEYS[5], ARGV[7])
    end
    headsNoted(KEYS[3], KEYS[5], KEYS[6])
  end
  enqueue(7, a0)
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[6])
  return 1
end
`

// completeScript: complete's KEYS and ARGV (completeLua), items from
// KEYS[7] / ARGV[8]; returns its answer.
var completeScript = redis.NewScript(enqueueLua + headsLua + completeLua + `
if stagedMissing(7, 8) then return redis.error_reply(stagedGone) end
return complete(8)
`)

// completeClaimScript: complete's KEYS and ARGV (completeLua), then
// ARGV[8] now ms, ARGV[9] the next lease's end ms, ARGV[10] its token,
// ARGV[11] item key prefix; items from KEYS[7] / ARGV[12]. Returns
// {complete's answer} when it is not 1 (nothing claimed), else {1} when
// nothing is due in the queue (KEYS[1]), or {1, id, data, more} of the
// item claimed next as claimScript claims it. Run again by the client
// after its reply was lost, it finds the lease ended by its own mark and
// the item it claimed by its token: the same answer.
var completeClaimScript = redis.NewScript(enqueueLua + headsLua + completeLua + claimLua + `
if stagedMissing(7, 12) then return redis.error_reply(stagedGone) end
local done = complete(12)
if done ~= 1 then return {done} end
local c = claim(KEYS[1], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
if not c then return {1} end
return {1, c[1], c[2], c[3]}
`)

// requeueScript: KEYS[1] dead-letter list, KEYS[2] the call's mark,
// KEYS[3] dead-letter heads list, KEYS[4] the headless count (headsLua);
// ARGV[1] the dead letter, ARGV[2] the mark's ttl ms; items from KEYS[5]
// / ARGV[3]. Returns 1 when the dead letter was listed (and the items are
// queued), else 0 and nothing is written. The call leaves its mark (a
// token unique to it in its name) for endedTTL: run again by the client
// after its reply was lost, it finds the dead letter gone and its own
// mark, and answers 1 as the first run did, not "resent by someone else".
// The dead letter's head, at the same place in the heads list when it has
// one, goes with it (set to the mark's name, unique, then removed by that
// value).
var requeueScript = redis.NewScript(enqueueLua + headsLua + `
if stagedMissing(5, 3) then return redis.error_reply(stagedGone) end
local p = redis.call('LPOS', KEYS[1], ARGV[1])
if not p then
  unstage(5, 3)
  return redis.call('EXISTS', KEYS[2])
end
if not headsInStep(KEYS[1], KEYS[3], KEYS[4]) then
  headsAfresh(KEYS[1], KEYS[3], KEYS[4])
elseif p < redis.call('LLEN', KEYS[3]) then
  redis.call('LSET', KEYS[3], p, KEYS[2])
  redis.call('LREM', KEYS[3], 1, KEYS[2])
end
redis.call('LREM', KEYS[1], 1, ARGV[1])
headsNoted(KEYS[1], KEYS[3], KEYS[4])
enqueue(5, 3)
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
`)

// touchMarkScript: KEYS[1] seen key; ARGV[1] ttl ms. The party recorded
// with the mark ("" for none), or false when it is gone; the mark is
// read before PEXPIRE, since a PEXPIRE whose time has passed by the
// time Redis checks it (a 1 ms TTL) deletes the key at once.
var touchMarkScript = redis.NewScript(`
local mark = redis.call('GET', KEYS[1])
if not mark then return false end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return string.match(mark, '^%S+ %S+ (.+)$') or ''
`)

// markScript: KEYS[1] seen key, ARGV[1] seen value (unique to the call:
// seenMark), ARGV[2] ttl ms. SET NX PX; returns 1 when the key was new,
// else 0. A key that holds the call's own value was set by this very
// call, run again after its reply was lost: 1, as that run answered.
var markScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
`)

// The writes of records (replies, marks, named sets) are scripts too, so
// that with WaitReplicas they wait for the replicas as the queue writes
// do (a plain command or MULTI/EXEC is not followed by WAIT), and are
// batched and timed by name alike. Each is idempotent by nature.

// putReplyScript: KEYS[1] the reply key; ARGV[1] the body, ARGV[2] its
// ttl ms.
var putReplyScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// setMembersLua removes (SREM) or adds (SADD) the members counted at
// ARGV[a] and following it to or from the set KEYS[k], one call per
// thousand members (unpack's bound), and returns the ARGV index after
// them.
const setMembersLua = `
local function members(cmd, k, a)
  local n = tonumber(ARGV[a])
  for i = 1, n, 1000 do
    redis.call(cmd, KEYS[k], unpack(ARGV, a + i, a + math.min(i + 999, n)))
  end
  return a + n + 1
end
`

// keepReplyScript: KEYS[1] the reply key, KEYS[2] the seen key, then a
// set per removal; ARGV[1] the body, ARGV[2] the ttl ms, ARGV[3] the
// seen value, then per removal the number of members and the members.
// SET reply PX, PEXPIRE seen (its answer returned: 1 when the mark was
// there), SET seen NX PX (a mark that had lapsed is made again), SREM.
var keepReplyScript = redis.NewScript(setMembersLua + `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local touched = redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2])
local a = 4
for k = 3, #KEYS do a = members('SREM', k, a) end
return touched
`)

// putReplyRemovingScript: KEYS[1] the reply key, then a set per
// removal; ARGV[1] the body, ARGV[2] its ttl ms, then per removal the
// number of members and the members. SET reply PX, then SREM.
var putReplyRemovingScript = redis.NewScript(setMembersLua + `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local a = 3
for k = 2, #KEYS do a = members('SREM', k, a) end
return 1
`)

// setAddScript: KEYS[1] the set; ARGV[1] its ttl ms, ARGV[2] the number
// of members, then the members. SADD, then PEXPIRE.
var setAddScript = redis.NewScript(setMembersLua + `
members('SADD', 1, 2)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// setRemoveScript: KEYS[1] the set; ARGV[1] the number of members, then
// the members. SREM.
var setRemoveScript = redis.NewScript(setMembersLua + `
members('SREM', 1, 1)
return 1
`)

// dropScript: KEYS[1] due set, KEYS[2] item hash, KEYS[3] the call's
// mark; ARGV[1] id, ARGV[2] the mark's ttl ms. Removes the item whatever
// its lease; 1 when it was there, else 0. The call leaves its mark (a
// token of its own in its name) for endedTTL when it removed the item:
// run again by the client after its reply was lost, it answers 1 as the
// first run did.
var dropScript = redis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  return 1
end
return redis.call('EXISTS', KEYS[3])
`)
