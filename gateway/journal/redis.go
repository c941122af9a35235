package journal

import (
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"
)

// Redis keeps the journal in Redis, under prefix+"journal:":
//
//	x:<id>   the exchange's head (JSON): everything but the steps, and how
//	         many steps its list holds; expiring MaxAge after it started
//	st:<id>  list of the exchange's steps, in arrival order: each the step
//	         without its body as JSON, a newline, and the body as kept:
//	         compressed when its JSON says "bodyEnc" (redis_codec.go),
//	         else as it is
//	s:<id>   its summary (JSON), for listings, expiring alike
//	sb:<id>:<r> a step's payload bigger than stagedInline (4 KB) as kept
//	         (compressed or not), written apart (its step in st:<id>
//	         names it), expiring alike
//	sbk:<id> set of the exchange's sb: keys, for the retention to drop
//	         them with it
//	t        sorted set of exchange ids by start time (ms)
//	sz       hash of exchange id → stored size
//	bytes    total stored size
//	ixh:<h>  sorted set of the ids of exchanges carrying an id v (NHS
//	         number, prescription id, ODS code, message id...), by start
//	         time (ms), named by h = the first 16 bytes, in hex, of
//	         HMAC-SHA256(ixkey, v in lower case): a key name never holds
//	         the id itself. Members that started MaxAge before the newest
//	         are trimmed as it is written (the oldest maxTrim a write), so
//	         an id every message carries (a pharmacy's ODS code) indexes
//	         the exchanges kept, not every one ever written. (Older
//	         porxgates named it ixt:<v>, and before that kept a set
//	         ix:<v>: both are read while they last, and expire within
//	         MaxAge of their last write.)
//	ixkey    the HMAC key of ixh: 32 random bytes, made by the first
//	         writer or reader (SET NX), shared by every replica
//	ixo:<o>  alike, of the exchanges whose outcome (or comparison result)
//	         is o, lower case ("in-progress" for none yet); an exchange
//	         leaves it when its outcome changes
//	ixi:<i>  alike, of the exchanges of interaction i, lower case
//	ixsince  when these two began to be kept (ms): exchanges that
//	         started before are searched by outcome or interaction
//	         through t
//	acc      list of accesses (JSON), newest first, capped
//	k:<id>   set of the index keys (ixh:, ixo:, ixi:) the exchange was
//	         added to, expiring with it: dropping it takes it out of them
//	gone     sorted set of the exchanges the retention dropped, by when
//	         (ms), the newest maxTombstones: a late event of one (not its
//	         request) is not written, so that it makes no fragment of it
//
// A step is written once, appended to its exchange's list: merging an
// event reads and rewrites only the small head, never the payloads of the
// steps before it, so a message's cost in the journal does not grow with
// the steps it has. (Heads written before the list existed keep their
// steps inline; they are read as they are.) One writer per process merges
// events into an exchange; an exchange is normally worked on by one
// replica at a time (it holds the message's lease), so merges do not race
// in practice.
type Redis struct {
	c     redis.UniversalClient
	p     string
	ret   Retention
	heads headCache
	// plain keeps new payloads as they are, not compressed (Uncompressed).
	plain bool
	// ixKey is ixkey once read (or made).
	ixKey atomic.Pointer[[]byte]
}

// indexKey returns the HMAC key of the id index's names (ixkey), making
// it when no writer or reader has: 32 random bytes, written SET NX so that
// every replica uses the one written first.
func (r *Redis) indexKey(ctx context.Context) ([]byte, error) {
	if k := r.ixKey.Load(); k != nil {
		return *k, nil
	}
	fresh := make([]byte, 32)
	if _, err := crand.Read(fresh); err != nil {
		return nil, fmt.Errorf("journal: make the index key: %w", err)
	}
	if err := r.c.SetNX(ctx, r.p+"ixkey", fresh, 0).Err(); err != nil {
		return nil, fmt.Errorf("journal: keep the index key: %w", err)
	}
	k, err := r.c.Get(ctx, r.p+"ixkey").Bytes()
	if err != nil {
		return nil, fmt.Errorf("journal: read the index key: %w", err)
	}
	if len(k) < 16 {
		return nil, fmt.Errorf("journal: the index key %sixkey holds %d bytes, want 32", r.p, len(k))
	}
	r.ixKey.Store(&k)
	return k, nil
}

// idIndex is the name of the index of the exchanges carrying id v (ixh:),
// under HMAC key key.
func (r *Redis) idIndex(key []byte, v string) string {
	return r.indexNamer(key).name(v)
}

// indexNamer names id indexes (idIndex) under one HMAC key, with one HMAC
// reused from id to id: hmac.New made its keyed state (two SHA-256 states
// and their pads, about 700 bytes) again for each id of each exchange the
// writer merged, about ten a message.
type indexNamer struct {
	p   string
	m   hash.Hash
	low []byte // the id in lower case
}

// indexNamer returns a namer of id indexes under key.
func (r *Redis) indexNamer(key []byte) *indexNamer {
	return &indexNamer{p: r.p, m: hmac.New(sha256.New, key)}
}

// name is the name of the index of the exchanges carrying id v: the key
// prefix, "ixh:" and the first 16 bytes of the HMAC of v in lower case,
// in hex.
func (n *indexNamer) name(v string) string {
	n.m.Reset()
	n.low = appendLower(n.low[:0], v)
	n.m.Write(n.low)
	var sum [sha256.Size]byte
	var h [32]byte
	hex.Encode(h[:], n.m.Sum(sum[:0])[:16])
	var b strings.Builder
	b.Grow(len(n.p) + len("ixh:") + len(h))
	b.WriteString(n.p)
	b.WriteString("ixh:")
	b.Write(h[:])
	return b.String()
}

// appendLower appends strings.ToLower(s) to dst, without making the
// string when s is ASCII (ids are: message ids, prescription ids, ODS
// codes, NHS numbers).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// head is an exchange as x:<id> holds it: the exchange without the steps
// of its list, and their number.
type head struct {
	Exchange
	// ListSteps counts the steps in st:<id>.
	ListSteps int `json:"listSteps,omitempty"`
	// Payloads are the digests of the legacy request payloads kept
	// (keepOnce).
	Payloads []string `json:"payloads,omitempty"`
}

// summary is the exchange's summary, counting the steps of its list.
func (h *head) summary() Summary {
	s := h.Summary()
	s.Steps += h.ListSteps
	return s
}

// NewRedis returns a Redis backend over c with keys under prefix. It
// keeps step payloads compressed (redis_codec.go) unless an option says
// otherwise (Uncompressed).
func NewRedis(c redis.UniversalClient, prefix string, r Retention, opts ...RedisOption) *Redis {
	rd := &Redis{c: c, p: prefix + "journal:", ret: r.withDefaults(), heads: newHeadCache(headCacheBytes)}
	for _, o := range opts {
		o(rd)
	}
	return rd
}

// A RedisOption sets how NewRedis's backend writes.
type RedisOption func(*Redis)

// Uncompressed makes the backend keep the payloads it writes as they
// are, as porxgates before compression did, when plain is true: for a
// rolling upgrade, until no replica older than compression reads the
// journal (the package doc). It reads compressed payloads all the same.
func Uncompressed(plain bool) RedisOption { return func(r *Redis) { r.plain = plain } }

// Kind implements Backend.
func (r *Redis) Kind() string { return "redis" }

// Apply implements Backend.
func (r *Redis) Apply(ctx context.Context, ev Event) error {
	a, err := r.applyAll(ctx, []Event{ev})
	if a.gone[ev.Exchange] {
		err = fmt.Errorf("journal: exchange %s: %w", ev.Exchange, ErrGone)
	}
	return err
}

// ApplyAll implements Backend: the events go in runs of one script
// (applyScript) each bounded in what it carries and does (splitRuns), an
// exchange's events in one run unless they alone pass the bound. For each
// run, the heads of every exchange its events touch as this writer last
// wrote them (headCache), or read, the merges in memory, then the script
// checks each head is still the one merged into and, if so, writes the
// heads back and appends the new steps, atomically. A concurrent writer
// (RecordNow, another replica) that changed a head makes the script write
// nothing and return the heads as they are, and the run is merged into
// those: no update is lost. Retention by size is runs of one bounded
// script (dropOldest), after the last run. The events of an exchange the
// retention dropped are left out, unless they record its request
// (ErrGone); it returns how many events it left out so. A run that fails
// after others were written fails with a *PartialWriteError saying how
// many events were written.
func (r *Redis) ApplyAll(ctx context.Context, evs []Event) (left int, err error) {
	a, err := r.applyAll(ctx, evs)
	return a.left, err
}

// applied is what applyAll wrote: the exchanges it left out as gone, and
// how many events it left out so and wrote.
type applied struct {
	gone          map[string]bool
	left, written int
}

// applyAll is ApplyAll.
func (r *Redis) applyAll(ctx context.Context, evs []Event) (applied, error) {
	a := applied{gone: map[string]bool{}}
	var total int64
	var last string
	runs, starting := splitRuns(evs)
	for _, run := range runs {
		gone, t, err := r.applyRun(ctx, run, starting)
		if err != nil {
			if a.written > 0 {
				err = &PartialWriteError{Written: a.written, Err: err}
			}
			return a, err
		}
		for i := range run {
			if gone[run[i].Exchange] {
				a.left++
			} else {
				a.written++
			}
		}
		maps.Copy(a.gone, gone)
		total, last = t, run[len(run)-1].Exchange
	}
	if total <= r.ret.MaxBytes {
		return a, nil
	}
	if err := r.evictOverSize(ctx, last); err != nil {
		// Written all the same: the next write evicts.
		return a, fmt.Errorf("%w: %w", ErrOverCap, err)
	}
	return a, nil
}

// Bounds of one run of applyScript. Redis runs a script alone: every
// other client of the gateway's Redis (the front door's accept, the
// workers' claim) waits while it runs. Before a script starts Redis copies
// its arguments into Lua strings, about 2 ns a byte measured (a plain
// command's copy costs a fifth to a tenth of that), and each command the
// script runs costs it 2-4 µs on a busy machine: a batch of 512 events
// written in one run (102 messages, 3.5 MB, 4,898 commands) held Redis
// for 180-245 ms (SLOWLOG, busy machine; 11-37 ms in a soak at 500
// messages a second). A run of these bounds holds it for about a
// millisecond (TestRedisApplyRunsAreBounded). A step whose payload passes
// stagedInline has it written apart, in bounded commands, and the run
// carries only its name (redis_staged.go); splitRuns still counts it
// whole, so it goes in a run of its own.
const (
	// maxRunBytes bounds the payload (the steps, estimated with their
	// heads) one run carries.
	maxRunBytes = 192 << 10
	// maxRunCommands bounds the Redis commands one run is estimated to
	// execute.
	maxRunCommands = 400
)

// What splitRuns counts an exchange for in a run, besides its events:
// its head written and compared, its summary (bytes); reading and writing
// them, its steps' expiry, its place by start, its size, its index list
// and the indexes every exchange is filed under (commands).
const (
	runExchangeBytes    = 4 << 10
	runExchangeCommands = 12 + 3*3
)

// splitRuns cuts evs into runs of applyScript within maxRunBytes and
// maxRunCommands: an exchange's events, in the order they came, in the
// run of its first, unless the run is full, each run at least one event.
// An exchange's events split across runs are merged run after run, each a
// whole state of it (its head and the steps it counts). starting holds
// the exchanges whose events record their request (startsExchange), so
// that each run of one the retention dropped writes it, as one run of all
// its events would.
func splitRuns(evs []Event) (runs [][]Event, starting map[string]bool) {
	order, byID := byExchange(evs)
	starting = make(map[string]bool, len(order))
	// The runs are consecutive parts of one array of the events in their
	// new order (each run's capacity ends where it ends).
	all := make([]Event, 0, len(evs))
	start := 0
	var curBytes, curCmds int64
	for _, id := range order {
		xBytes, xCmds := int64(runExchangeBytes), int64(runExchangeCommands)
		for _, ev := range byID[id] {
			// Each id may go in an index of its own: its add, trim and
			// expiry.
			b, c := eventSize(ev), int64(3*ev.IDs.count())
			if len(all) > start && (curBytes+xBytes+b > maxRunBytes || curCmds+xCmds+c > maxRunCommands) {
				runs = append(runs, all[start:len(all):len(all)])
				start, curBytes, curCmds = len(all), 0, 0
				xBytes, xCmds = runExchangeBytes, runExchangeCommands
			}
			all = append(all, ev)
			xBytes, xCmds = xBytes+b, xCmds+c
		}
		curBytes, curCmds = curBytes+xBytes, curCmds+xCmds
		starting[id] = startsExchange(byID[id])
	}
	if len(all) > start {
		runs = append(runs, all[start:len(all):len(all)])
	}
	return runs, starting
}

// runStep is a step encoded for an exchange's list (encodeStep): whole,
// and for a legacy request with a payload, without it (keepOnce) and the
// payload's digest.
type runStep struct {
	whole, bare []byte
	digest      string
	// staged is whole's payload, written apart (redis_staged.go).
	staged *staging
}

// byExchange groups evs by exchange: the exchanges in the order their
// first events came, and each one's events in the order they came.
//
// Each exchange's events are a part of one array, sized by a first count:
// appended one by one, each exchange's list grew by doubling, about three
// events' room made for each of a message's five or so (2 KB a message).
func byExchange(evs []Event) (order []string, byID map[string][]Event) {
	count := make(map[string]int, len(evs))
	for i := range evs {
		id := evs[i].Exchange
		if _, ok := count[id]; !ok {
			order = append(order, id)
		}
		count[id]++
	}
	all := make([]Event, len(evs))
	byID = make(map[string][]Event, len(order))
	at := 0
	for _, id := range order {
		n := count[id]
		byID[id] = all[at : at : at+n]
		at += n
	}
	for i := range evs {
		id := evs[i].Exchange
		byID[id] = append(byID[id], evs[i])
	}
	return order, byID
}

// byExchangeInPlace is byExchange for events that come exchange by
// exchange, as splitRuns cuts its runs: each exchange's events are then a
// part of evs itself, not copied. Events of an exchange that come apart
// are grouped by byExchange.
func byExchangeInPlace(evs []Event) (order []string, byID map[string][]Event) {
	byID = map[string][]Event{}
	for start := 0; start < len(evs); {
		id := evs[start].Exchange
		if _, seen := byID[id]; seen {
			return byExchange(evs)
		}
		end := start + 1
		for end < len(evs) && evs[end].Exchange == id {
			end++
		}
		order = append(order, id)
		byID[id] = evs[start:end:end]
		start = end
	}
	return order, byID
}

// applyRun writes the events of one run (splitRuns) in one script,
// merged into the heads as they are, those of the exchanges of starting
// as recording their request; it returns the exchanges left out as gone,
// and the new total size.
func (r *Redis) applyRun(ctx context.Context, evs []Event, starting map[string]bool) (map[string]bool, int64, error) {
	order, byID := byExchangeInPlace(evs)
	keys := make([]string, len(order))
	for i, id := range order {
		keys[i] = r.p + "x:" + id
	}
	// The steps are encoded once, whatever the retries: a legacy
	// request's also without its payload, for when its exchange kept it
	// (keepOnce, in merge).
	steps := make(map[string][]runStep, len(order))
	for _, id := range order {
		for _, ev := range byID[id] {
			if ev.Step == nil {
				continue
			}
			st := *ev.Step
			if st.At.IsZero() {
				st.At = ev.At
			}
			var rs runStep
			var err error
			// Kept compressed when that makes it smaller (packBody);
			// written apart when it is still big as kept.
			stored, enc, done := packBody(st.Body, !r.plain)
			switch {
			case len(stored) <= stagedInline:
				rs.whole, err = encodeStep(&st, stored, enc)
			case enc == "":
				rs.whole, rs.staged, err = r.encodeStaged(id, &st, st.Body, enc)
			default:
				rs.whole, rs.staged, err = r.encodeStaged(id, &st, string(stored), enc)
			}
			done()
			if err == nil && hasPayload(&st) {
				rs.digest = payloadDigest(st.Body)
				bare := withoutPayload(&st)
				rs.bare, err = encodeStep(bare, stringBytes(bare.Body), "")
			}
			if err != nil {
				return nil, 0, fmt.Errorf("journal: encode step of %s: %w", id, err)
			}
			steps[id] = append(steps[id], rs)
		}
	}
	ixKey, err := r.indexKey(ctx)
	if err != nil {
		return nil, 0, err
	}
	heads, err := r.knownHeads(ctx, order, keys, byID)
	if err != nil {
		return nil, 0, fmt.Errorf("journal: write exchanges: %w", err)
	}
	var total int64
	var gone map[string]bool
	err = errHeadChanged
	for attempt := range maxApplyAttempts {
		if attempt > 0 {
			// Writers that keep changing one exchange fall out of step.
			if err = sleepCtx(ctx, rand.N(time.Duration(min(attempt, 5))*200*time.Microsecond)); err != nil {
				break
			}
		}
		var written bool
		written, total, gone, err = r.merge(ctx, ixKey, order, keys, byID, starting, steps, heads)
		if err != nil || written {
			break
		}
		err = errHeadChanged
	}
	if err != nil {
		r.heads.forget(order)
		return nil, 0, fmt.Errorf("journal: write exchanges: %w", err)
	}
	return gone, total, nil
}

// knownHeads returns what the merge starts from for each exchange: the
// head this writer last wrote, if it keeps it; none (a new exchange) for
// one whose events record its legacy request, the first thing recorded of
// it; the head read from Redis otherwise, in one MGET. The script checks
// each guess.
func (r *Redis) knownHeads(ctx context.Context, order, keys []string, byID map[string][]Event) ([]storedHead, error) {
	heads := make([]storedHead, len(order))
	var unknown []int
	for i, id := range order {
		if h, ok := r.heads.get(id); ok {
			heads[i] = h
			continue
		}
		if !startsExchange(byID[id]) {
			unknown = append(unknown, i)
		}
	}
	if len(unknown) == 0 {
		return heads, nil
	}
	read := make([]string, len(unknown))
	for j, i := range unknown {
		read[j] = keys[i]
	}
	vals, err := r.c.MGet(ctx, read...).Result()
	if err != nil {
		return nil, fmt.Errorf("read exchanges: %w", err)
	}
	for j, i := range unknown {
		if v, ok := vals[j].(string); ok {
			heads[i] = storedHead{x: []byte(v), sumLen: -1}
		}
	}
	return heads, nil
}

// startsExchange says whether evs record a legacy request, as the first
// events of an exchange do.
func startsExchange(evs []Event) bool {
	for i := range evs {
		if evs[i].Step != nil && evs[i].Step.Kind == StepLegacyRequest {
			return true
		}
	}
	return false
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxApplyAttempts bounds how many times ApplyAll merges a batch into
// heads another writer keeps changing. An attempt is one round trip, as
// is the write of every other writer: four writing one exchange without a
// pause (TestRedisConcurrentMergesLoseNothing) each lose three times in
// four, so twenty attempts were too few.
const maxApplyAttempts = 100

// errHeadChanged says another writer changed an exchange's head between
// every read of it and the write that would have replaced it.
var errHeadChanged = errors.New("the exchanges kept changing under the write")

// encodeStep writes a step for its exchange's list: the step without its
// body as JSON (with the body's encoding enc, if any: storedStep), a
// newline (JSON's own never holds one), then the body as kept (stored:
// st.Body, or packBody's encoding of it) byte for byte, so that a payload
// is neither escaped nor copied into a string more than once.
func encodeStep(st *Step, stored []byte, enc string) ([]byte, error) {
	meta := storedStep{Step: *st, BodyEnc: enc}
	meta.Body = ""
	b, err := marshal(&meta)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+1+len(stored))
	out = append(out, b...)
	out = append(out, '\n')
	return append(out, stored...), nil
}

// marshal encodes v as JSON without escaping <, > and & (the steps carry
// XML, which HTML escaping would make six times longer). goccy/go-json
// writes the same bytes as encoding/json's Encoder with SetEscapeHTML(false)
// for the journal's types (TestMarshalAsEncodingJSON) at a fraction of its
// cost: the writer encodes every exchange head and step it writes.
func marshal(v any) ([]byte, error) {
	return gojson.MarshalWithOption(v, gojson.DisableHTMLEscape())
}

// applyScript writes a batch of merged exchanges, if none of their heads
// changed since they were read. KEYS are the heads (x:<id>); ARGV[1] the
// key prefix, ARGV[2] the start to set ixsince to if unset (ms), ARGV[3]
// the change of the total size, ARGV[4] the indexes' expiry (s), ARGV[5]
// how many members it may take out of the indexes for their age (the
// oldest first: a write's work is bounded however many are past the age,
// as after the age was lowered or an outage); then for
// each head, whether it was there ("1" or "0") and what it held; then for
// each exchange, in KEYS' order: its id, head, summary, expiry (ms),
// start (ms), the score below which its indexes are trimmed (ms), change
// of its stored size, whether its events record its request ("1" or "0"),
// the number of its new steps and those steps, the number of index keys
// to add it to and those keys, the number to take it out of and those
// keys. An exchange not kept whose events do not record its request, and
// which the retention dropped (gone), is not written. Each index key is
// written once a run (its members added, trimmed, its expiry put off),
// however many of the run's exchanges it files. Returns {1, the new
// total size, and the ids of the exchanges not written}, or, when a head
// was not as merged into, {0, and each head as it is} (nothing written).
var applyScript = redis.NewScript(`
local n = #KEYS
local cur, same = {}, true
for k = 1, n do
  cur[k] = redis.call('GET', KEYS[k])
  if ARGV[4 + 2*k] == '1' then
    if cur[k] ~= ARGV[5 + 2*k] then same = false end
  elseif cur[k] then
    same = false
  end
end
if not same then return {0, unpack(cur)} end
local p, age, trim = ARGV[1], ARGV[4], tonumber(ARGV[5])
local i = 6 + 2*n
local delta, skipped = tonumber(ARGV[3]), {}
-- The index keys to add to, in the order first named, each with its
-- members (start, id...) and the latest cutoff of theirs: one ZADD, trim
-- and EXPIRE a key, however many of the run's exchanges it files.
local filed, adds, cuts = {}, {}, {}
-- Whether decimal integer a is greater than b: as strings when both are
-- positive and as long (times in ms), so that neither is converted to a
-- Lua number and back (strtod and printf, about 10,000 instructions a
-- key).
local function later(a, b)
  if #a == #b and string.byte(a, 1) ~= 45 and string.byte(b, 1) ~= 45 then return a > b end
  return tonumber(a) > tonumber(b)
end
for k = 1, n do
  local id, ttl, started, cutoff = ARGV[i], ARGV[i+3], ARGV[i+4], ARGV[i+5]
  if not cur[k] and ARGV[i+7] == '0' and redis.call('ZSCORE', p .. 'gone', id) then
    delta = delta - tonumber(ARGV[i+6])
    skipped[#skipped + 1] = id
    i = i + 9 + tonumber(ARGV[i+8])
    i = i + tonumber(ARGV[i]) + 1
    i = i + tonumber(ARGV[i]) + 1
  else
    redis.call('SET', KEYS[k], ARGV[i+1], 'PX', ttl)
    redis.call('SET', p .. 's:' .. id, ARGV[i+2], 'PX', ttl)
    local ns = tonumber(ARGV[i+8])
    if ns > 0 then
      redis.call('RPUSH', p .. 'st:' .. id, unpack(ARGV, i+9, i+8+ns))
      redis.call('PEXPIRE', p .. 'st:' .. id, ttl)
    end
    redis.call('ZADD', p .. 't', started, id)
    redis.call('HINCRBY', p .. 'sz', id, ARGV[i+6])
    i = i + 9 + ns
    local na = tonumber(ARGV[i])
    if na > 0 then
      for a = i+1, i+na do
        local key = ARGV[a]
        local m = adds[key]
        if not m then
          m = {}
          adds[key] = m
          filed[#filed + 1] = key
          cuts[key] = cutoff
        elseif later(cutoff, cuts[key]) then
          cuts[key] = cutoff
        end
        m[#m + 1] = started
        m[#m + 1] = id
      end
      redis.call('SADD', p .. 'k:' .. id, unpack(ARGV, i+1, i+na))
      redis.call('PEXPIRE', p .. 'k:' .. id, ttl)
    end
    i = i + na + 1
    local nr = tonumber(ARGV[i])
    for a = i+1, i+nr do
      redis.call('ZREM', ARGV[a], id)
    end
    i = i + nr + 1
  end
end
for _, key in ipairs(filed) do
  redis.call('ZADD', key, unpack(adds[key]))
  if trim > 0 then
    local old = redis.call('ZRANGEBYSCORE', key, '-inf', '(' .. cuts[key], 'LIMIT', 0, trim)
    if #old > 0 then
      redis.call('ZREMRANGEBYRANK', key, 0, #old - 1)
      trim = trim - #old
    end
  end
  redis.call('EXPIRE', key, age)
end
if n > 0 then redis.call('SET', p .. 'ixsince', ARGV[2], 'NX') end
return {1, redis.call('INCRBY', p .. 'bytes', delta), unpack(skipped)}
`)

// maxTrim bounds how many members one write takes out of the indexes for
// their age (applyScript): far more than a write adds, so those past the
// age go as fast as they come, and a few hundred microseconds of Redis's
// one thread when many are (TestRedisWriteTrimsIndexesBoundedly).
const maxTrim = 256

// unmarshalHead decodes a head as x:<id> holds it. goccy/go-json reads
// what marshal (or encoding/json, before it) wrote into the same head as
// encoding/json (TestUnmarshalHeadAsEncodingJSON) at a fraction of its
// cost: the writer decodes the head of every exchange it merges into.
func unmarshalHead(b []byte, h *head) error { return gojson.Unmarshal(b, h) }

// merge applies the events to heads and writes them back with the new
// steps in one script (the id indexes named with ixKey), unless a head is no longer as in heads (written
// false; heads then holds them as they are); it returns the new total
// size.
//
// gone holds the exchanges not written because the retention dropped them
// and their events, in the batch (starting), do not record their request
// (ErrGone).
func (r *Redis) merge(ctx context.Context, ixKey []byte, order, keys []string, byID map[string][]Event, starting map[string]bool, steps map[string][]runStep, heads []storedHead) (written bool, total int64, gone map[string]bool, err error) {
	nsteps := 0
	for _, st := range steps {
		nsteps += len(st)
	}
	// The arguments: 5, 2 a head, 10 an exchange and its steps and index
	// keys (about six ids and two filings each).
	argv := make([]any, 5+2*len(order), 5+12*len(order)+nsteps+8*len(order))
	argv[0] = r.p
	merged := make([]storedHead, 0, len(order))
	var apart []stagedWrite // payloads written apart, before the script
	var delta int64
	var started0 time.Time
	var namer *indexNamer // made at the first id to index
	for i, id := range order {
		var h head
		var old int64
		existed := false
		var wasStarted time.Time
		argv[5+2*i], argv[6+2*i] = "0", ""
		if v := heads[i].x; v != nil {
			if err := unmarshalHead(v, &h); err != nil {
				return false, 0, nil, fmt.Errorf("exchange %s unreadable: %w", id, err)
			}
			existed, wasStarted = true, h.Started
			sumLen := heads[i].sumLen
			if sumLen < 0 {
				ob, _ := marshal(h.summary())
				sumLen = len(ob)
			}
			old = int64(len(v) + sumLen)
			argv[5+2*i], argv[6+2*i] = "1", v
		}
		before := map[string]bool{}
		for _, v := range h.IDs.all() {
			before[v] = true
		}
		wasFiled := r.filedUnder(&h.Exchange, existed)
		var stepBytes int64
		for _, ev := range byID[id] {
			ev.Step = nil // appended to the list
			h.apply(ev)
		}
		list := make([]any, len(steps[id]))
		var stage []*staging
		for k, rs := range steps[id] {
			b := rs.whole
			if rs.digest != "" && slices.Contains(h.Payloads, rs.digest) {
				b = rs.bare
			} else if rs.staged != nil {
				stage = append(stage, rs.staged)
				stepBytes += int64(len(rs.staged.body))
			}
			h.Payloads = remember(h.Payloads, rs.digest)
			list[k] = b
			stepBytes += int64(len(b))
		}
		h.ListSteps += len(list)
		nb, err := marshal(&h)
		if err != nil {
			return false, 0, nil, fmt.Errorf("encode exchange %s: %w", id, err)
		}
		sb, err := marshal(h.summary())
		if err != nil {
			return false, 0, nil, fmt.Errorf("encode summary %s: %w", id, err)
		}
		merged = append(merged, storedHead{x: nb, sumLen: len(sb)})
		d := int64(len(nb)+len(sb)) + stepBytes - old
		ttl := time.Until(h.Started.Add(r.ret.MaxAge))
		if ttl <= 0 {
			ttl = time.Second
		}
		if len(stage) > 0 && !starting[id] {
			// The script leaves out the events of an exchange the
			// retention dropped (its head here may be this writer's
			// last, kept from before): their payloads are not written
			// apart.
			if gone, err := r.wasDropped(ctx, id); err != nil {
				return false, 0, nil, err
			} else if gone {
				stage = nil
			}
		}
		for _, sg := range stage {
			apart = append(apart, stagedWrite{id: id, sg: sg, ttl: ttl})
		}
		if i == 0 {
			started0 = h.Started
		}
		ms := h.Started.UnixMilli()
		starts := "0"
		if starting[id] {
			starts = "1"
		}
		argv = append(argv, id, nb, sb, max(ttl.Milliseconds(), 1), ms,
			h.Started.Add(-r.ret.MaxAge).UnixMilli(), d, starts, len(list))
		argv = append(argv, list...)
		// The indexes score an exchange by its start: all of its ids
		// again when the start moved, the new ones otherwise.
		moved := !existed || !h.Started.Equal(wasStarted)
		nAt := len(argv)
		argv = append(argv, 0)
		named := map[string]bool{}
		for _, v := range append(h.IDs.all(), h.ID) {
			if !moved && before[v] {
				continue // indexed already: its index's name (an HMAC) is not made again
			}
			// One id under two kinds (the exchange's own and its
			// message id), or in two cases, is one index.
			if namer == nil {
				namer = r.indexNamer(ixKey)
			}
			if k := namer.name(v); !named[k] {
				named[k] = true
				argv = append(argv, k)
			}
		}
		filed := r.filedUnder(&h.Exchange, true)
		for _, k := range filed {
			if moved || !slices.Contains(wasFiled, k) {
				argv = append(argv, k)
			}
		}
		argv[nAt] = len(argv) - nAt - 1
		nAt = len(argv)
		argv = append(argv, 0)
		for _, k := range wasFiled {
			if !slices.Contains(filed, k) {
				argv = append(argv, k)
			}
		}
		argv[nAt] = len(argv) - nAt - 1
		delta += d
	}
	if err := r.stageAll(ctx, apart); err != nil {
		return false, 0, nil, err
	}
	argv[1] = started0.UnixMilli()
	argv[2] = delta
	argv[3] = max(int64(r.ret.MaxAge/time.Second), 1)
	argv[4] = maxTrim
	res, err := applyScript.Run(ctx, r.c, keys, argv...).Slice()
	if err != nil {
		return false, 0, nil, err
	}
	if len(res) == 0 {
		return false, 0, nil, errors.New("journal.apply answered nothing")
	}
	if ok, _ := res[0].(int64); ok == 1 && len(res) >= 2 {
		total, _ := res[1].(int64)
		gone := map[string]bool{}
		for _, v := range res[2:] {
			if id, ok := v.(string); ok {
				gone[id] = true
			}
		}
		for i, id := range order {
			if !gone[id] {
				r.heads.put(id, merged[i])
			}
		}
		return true, total, gone, nil
	}
	if len(res) != 1+len(order) {
		return false, 0, nil, fmt.Errorf("journal.apply answered %d values for %d exchanges", len(res), len(order))
	}
	r.heads.forget(order)
	for i := range order {
		heads[i] = storedHead{sumLen: -1}
		if v, ok := res[1+i].(string); ok {
			heads[i].x = []byte(v)
		}
	}
	return false, 0, nil, nil
}

// filedUnder returns the outcome and interaction index keys (ixo:, ixi:)
// x is kept under; none when it is not kept (existed false).
func (r *Redis) filedUnder(x *Exchange, existed bool) []string {
	if !existed {
		return nil
	}
	o := x.Outcome.Result
	if o == "" {
		o = OutcomeInProgress
	}
	keys := []string{r.p + "ixo:" + strings.ToLower(o)}
	if c := x.Comparison; c != nil && c.Result != "" && !strings.EqualFold(c.Result, o) {
		keys = append(keys, r.p+"ixo:"+strings.ToLower(c.Result))
	}
	if x.Interaction != "" {
		keys = append(keys, r.p+"ixi:"+strings.ToLower(x.Interaction))
	}
	return keys
}

// dropLua defines drop(p, id, now), which drops exchange id under key
// prefix p: its head, summary, steps and the payloads written apart
// (sbk:<id>), size and place in t, and its
// memberships of the search indexes (the keys k:<id> lists), and
// remembers it gone at now (ms). It returns the work it did: one, and one
// more for each index it took the exchange out of.
const dropLua = `
local function drop(p, id, now)
  local size = tonumber(redis.call('HGET', p .. 'sz', id) or '0')
  local filed = redis.call('SMEMBERS', p .. 'k:' .. id)
  for _, k in ipairs(filed) do
    redis.call('ZREM', k, id)
  end
  local bodies = redis.call('SMEMBERS', p .. 'sbk:' .. id)
  for _, k in ipairs(bodies) do
    redis.call('DEL', k)
  end
  redis.call('DEL', p .. 'x:' .. id, p .. 's:' .. id, p .. 'st:' .. id, p .. 'k:' .. id, p .. 'sbk:' .. id)
  redis.call('ZREM', p .. 't', id)
  redis.call('HDEL', p .. 'sz', id)
  redis.call('DECRBY', p .. 'bytes', size)
  redis.call('ZADD', p .. 'gone', now, id)
  return 1 + #filed + #bodies
end
`

// evictScript drops the oldest exchanges (drop) while the total size
// passes the cap or the oldest started before the cutoff, never ARGV[3]
// (the one just written), and stops when its work (what drop returns)
// reaches ARGV[7]: Redis serves no other client while a script runs, so a
// run is bounded whatever must go and however big the indexes; the
// caller runs it again for the rest. gone keeps the newest ARGV[5].
// KEYS[1] bytes, KEYS[2] t; ARGV[1] the key prefix, ARGV[2] the cap,
// ARGV[4] now (ms), ARGV[6] the cutoff (ms). Returns how many went, and 1
// when it stopped with more to drop (0 otherwise).
var evictScript = redis.NewScript(dropLua + `
local cap, cutoff, budget = tonumber(ARGV[2]), tonumber(ARGV[6]), tonumber(ARGV[7])
local n, work, more = 0, 0, 0
while true do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #oldest == 0 or oldest[1] == ARGV[3] then break end
  if tonumber(oldest[2]) >= cutoff and tonumber(redis.call('GET', KEYS[1]) or '0') <= cap then break end
  if work >= budget then
    more = 1
    break
  end
  work = work + drop(ARGV[1], oldest[1], ARGV[4])
  n = n + 1
end
if n > 0 then redis.call('ZREMRANGEBYRANK', ARGV[1] .. 'gone', 0, -1 - tonumber(ARGV[5])) end
return {n, more}
`)

// dropWork bounds the work of one run of evictScript: exchanges dropped,
// and the index memberships they leave (about nine an exchange, so about
// 14 exchanges and 250 Redis commands a run; TestRedisRetentionRunsAreBounded).
// Taking an exchange out of a big index costs Redis more the bigger it
// is: measured (Redis's CPU time, on a busy 2-core machine), a drop cost
// 25–30 µs with 5,000 exchanges kept, 43–50 µs with 100,000 of one
// patient, 47–51 µs with 300,000 of as many patients and 133–157 µs with
// 300,000 of one patient (five indexes of 300,000: the NHS number, two
// ODS codes, the outcome, the interaction). So a run of 1,000 drops, as
// it was, held Redis, and every other client of it, for 25–160 ms; a run
// of this budget holds it for at most about 2 ms.
const dropWork = 128

// evictRunsPerWrite bounds how many runs of evictScript one write makes
// for the size cap (about 3,500 exchanges): the rest, after the cap fell
// a long way, goes with the next writes.
const evictRunsPerWrite = 256

// noCutoff is the age cutoff of a drop for the size cap alone.
const noCutoff = math.MinInt64

// noCap is the size cap of a drop for the age alone.
const noCap = math.MaxInt64

// dropOldest drops the oldest exchanges while their total passes capBytes
// or the oldest started before cutoff (ms), never keep, in runs of
// evictScript until none is left to drop or maxRuns ran (none: no
// bound); it returns how many went.
func (r *Redis) dropOldest(ctx context.Context, capBytes int64, keep string, cutoff int64, now time.Time, maxRuns int) (int64, error) {
	var dropped int64
	for run := 0; maxRuns <= 0 || run < maxRuns; run++ {
		res, err := evictScript.Run(ctx, r.c, []string{r.p + "bytes", r.p + "t"}, r.p, capBytes, keep,
			now.UnixMilli(), maxTombstones, cutoff, dropWork).Int64Slice()
		if err != nil {
			return dropped, fmt.Errorf("drop the oldest exchanges: %w", err)
		}
		if len(res) != 2 {
			return dropped, fmt.Errorf("drop the oldest exchanges: journal.evict answered %d values", len(res))
		}
		dropped += res[0]
		if res[1] == 0 {
			break
		}
	}
	return dropped, nil
}

// evictOverSize drops the oldest exchanges while the total passes MaxBytes,
// never keep (the one just written), in at most evictRunsPerWrite runs.
func (r *Redis) evictOverSize(ctx context.Context, keep string) error {
	if _, err := r.dropOldest(ctx, r.ret.MaxBytes, keep, noCutoff, time.Now(), evictRunsPerWrite); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Get implements Backend: the head and the steps of its list, in one
// round trip; the steps ordered by time (stable: those of one time in
// the order they came).
func (r *Redis) Get(ctx context.Context, id string) (*Exchange, error) {
	pipe := r.c.Pipeline()
	hc := pipe.Get(ctx, r.p+"x:"+id)
	lc := pipe.LRange(ctx, r.p+"st:"+id, 0, -1)
	_, _ = pipe.Exec(ctx) // each command carries its own error
	b, err := hc.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: read exchange %s: %w", id, err)
	}
	list, err := lc.Result()
	if err != nil {
		return nil, fmt.Errorf("journal: read the steps of exchange %s: %w", id, err)
	}
	var h head
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("journal: exchange %s unreadable: %w", id, err)
	}
	x := h.Exchange
	apart := map[int]apartBody{}
	for _, v := range list {
		st, a, err := decodeStep(v)
		if err != nil {
			return nil, fmt.Errorf("journal: a step of exchange %s unreadable: %w", id, err)
		}
		if a.key != "" {
			apart[len(x.Steps)] = a
		}
		x.Steps = append(x.Steps, st)
	}
	if err := r.readStaged(ctx, id, x.Steps, apart); err != nil {
		return nil, err
	}
	sort.SliceStable(x.Steps, func(i, j int) bool { return x.Steps[i].At.Before(x.Steps[j].At) })
	return &x, nil
}

// summaries reads the summaries of ids, skipping those gone.
func (r *Redis) summaries(ctx context.Context, ids []string) ([]Summary, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.p + "s:" + id
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("journal: read summaries: %w", err)
	}
	out := make([]Summary, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var sum Summary
		if json.Unmarshal([]byte(s), &sum) == nil {
			out = append(out, sum)
		}
	}
	return out, nil
}

// maxScan bounds how many exchanges one search looks at.
const maxScan = 5000

// Search implements Backend: the exchanges by start time, newest first, or
// those of the index of q.ID, a page at a time until the limit is met or
// maxScan exchanges were looked at.
func (r *Redis) Search(ctx context.Context, q Query) ([]Summary, error) {
	var key string
	switch {
	case q.ID != "":
		ixKey, err := r.indexKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("journal: search: %w", err)
		}
		key = r.idIndex(ixKey, q.ID)
	case q.Outcome != "":
		key = r.p + "ixo:" + strings.ToLower(q.Outcome)
	case q.Interaction != "":
		key = r.p + "ixi:" + strings.ToLower(q.Interaction)
	default:
		return r.scan(ctx, r.p+"t", q)
	}
	out, err := r.scan(ctx, key, q)
	if err != nil || len(out) >= q.limit() {
		return out, err // ErrSearchCut: what was found
	}
	if q.ID != "" {
		// The index an older porxgate named by the id itself (ixt:<id>,
		// no longer written: it expires within MaxAge).
		if out, err = r.scanInto(ctx, r.p+"ixt:"+strings.ToLower(q.ID), q, out); err != nil || len(out) >= q.limit() {
			return out, err
		}
		return r.withOldIndex(ctx, q, out)
	}
	return r.withUnfiled(ctx, q, out)
}

// withUnfiled adds to out, a search by outcome or interaction, the
// exchanges that started before those indexes were kept (ixsince), from
// the list of all (t), looking at no more than maxScan of them.
func (r *Redis) withUnfiled(ctx context.Context, q Query, out []Summary) ([]Summary, error) {
	since, err := r.c.Get(ctx, r.p+"ixsince").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("journal: search: %w", err)
	}
	if errors.Is(err, redis.Nil) {
		since = math.MaxInt64 // nothing was ever filed: everything is unfiled
	}
	before := time.UnixMilli(since)
	if !q.From.IsZero() && !q.From.Before(before) {
		return out, nil
	}
	older := q
	if q.To.IsZero() || q.To.After(before) {
		older.To = before
	}
	if since == math.MaxInt64 {
		older.To = q.To
	}
	return r.scanInto(ctx, r.p+"t", older, out)
}

// scan reads the sorted set of exchange ids key, newest first, within q's
// time range, and returns the summaries q selects; with ErrSearchCut when
// it stopped at maxScan with fewer than q's limit and more to look at.
func (r *Redis) scan(ctx context.Context, key string, q Query) ([]Summary, error) {
	var out []Summary
	maxS, minS := "+inf", "-inf"
	if !q.To.IsZero() {
		// Scores are whole milliseconds, starts are not: an exchange that
		// started within To's millisecond but before To is in range.
		to := q.To.UnixMilli()
		if q.To.After(time.UnixMilli(to)) {
			to++
		}
		maxS = "(" + strconv.FormatInt(to, 10)
	}
	if !q.From.IsZero() {
		minS = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	const page = 200
	for off := int64(0); off < maxScan && len(out) < q.limit(); off += page {
		ids, err := r.c.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: maxS, Min: minS, Offset: off, Count: page}).Result()
		if err != nil {
			return nil, fmt.Errorf("journal: list exchanges: %w", err)
		}
		sums, err := r.summaries(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i := range sums {
			if q.matches(&sums[i]) && len(out) < q.limit() {
				out = append(out, sums[i])
			}
		}
		if len(ids) < page {
			return out, nil
		}
	}
	if len(out) < q.limit() {
		return out, fmt.Errorf("journal: search: %w (it looked at the newest %d)", ErrSearchCut, maxScan)
	}
	return out, nil
}

// scanInto adds to out the exchanges of sorted set key that q selects
// (scan), and returns the newest up to q's limit; with ErrSearchCut when
// they are fewer and scan stopped short.
func (r *Redis) scanInto(ctx context.Context, key string, q Query, out []Summary) ([]Summary, error) {
	more, err := r.scan(ctx, key, q)
	if err != nil && !errors.Is(err, ErrSearchCut) {
		return nil, err
	}
	have := map[string]bool{}
	for _, s := range out {
		have[s.ID] = true
	}
	for _, s := range more {
		if !have[s.ID] {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	if len(out) >= q.limit() {
		err = nil
	}
	return out[:min(len(out), q.limit())], err
}

// withOldIndex adds to out, a search by q.ID, the exchanges an older
// porxgate's index of q.ID lists (a set of exchange ids, no longer
// written: it expires within MaxAge), looking at no more than maxScan of
// them, and returns the newest up to the limit.
func (r *Redis) withOldIndex(ctx context.Context, q Query, out []Summary) ([]Summary, error) {
	key := r.p + "ix:" + strings.ToLower(q.ID)
	have := map[string]bool{}
	for _, s := range out {
		have[s.ID] = true
	}
	var ids []string
	for cursor, n := uint64(0), 0; n < maxScan; {
		page, next, err := r.c.SScan(ctx, key, cursor, "", 200).Result()
		if err != nil {
			return nil, fmt.Errorf("journal: search %s: %w", q.ID, err)
		}
		n += len(page)
		for _, id := range page {
			if !have[id] {
				have[id] = true
				ids = append(ids, id)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	sums, err := r.summaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range sums {
		if q.matches(&sums[i]) {
			out = append(out, sums[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out[:min(len(out), q.limit())], nil
}

// AddAccess implements Backend.
func (r *Redis) AddAccess(ctx context.Context, a Access) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("journal: encode access: %w", err)
	}
	pipe := r.c.TxPipeline()
	pipe.LPush(ctx, r.p+"acc", b)
	pipe.LTrim(ctx, r.p+"acc", 0, int64(r.ret.MaxAccesses-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("journal: write access: %w", err)
	}
	return nil
}

// Accesses implements Backend.
func (r *Redis) Accesses(ctx context.Context, limit int) ([]Access, error) {
	vals, err := r.c.LRange(ctx, r.p+"acc", 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("journal: read accesses: %w", err)
	}
	out := make([]Access, 0, len(vals))
	for _, v := range vals {
		var a Access
		if json.Unmarshal([]byte(v), &a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Prune implements Backend: exchanges that started before now-MaxAge go,
// with their sizes, in bounded runs (dropOldest) until none is left (one
// bounded batch a pass fell behind any flow past 33 exchanges a second);
// accesses as old are trimmed from the list's tail.
func (r *Redis) Prune(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-r.ret.MaxAge).UnixMilli()
	if _, err := r.dropOldest(ctx, noCap, "", cutoff, now, 0); err != nil {
		return fmt.Errorf("journal: prune: %w", err)
	}
	for range 1000 {
		last, err := r.c.LIndex(ctx, r.p+"acc", -1).Result()
		if err != nil {
			return nil
		}
		var a Access
		if json.Unmarshal([]byte(last), &a) == nil && !a.At.Before(time.UnixMilli(cutoff)) {
			return nil
		}
		if err := r.c.RPop(ctx, r.p+"acc").Err(); err != nil {
			return fmt.Errorf("journal: prune accesses: %w", err)
		}
	}
	return nil
}

// Stats implements Backend.
func (r *Redis) Stats(ctx context.Context) (Stats, error) {
	n, err := r.c.ZCard(ctx, r.p+"t").Result()
	if err != nil {
		return Stats{}, fmt.Errorf("journal: stats: %w", err)
	}
	b, err := r.c.Get(ctx, r.p+"bytes").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Stats{}, fmt.Errorf("journal: stats: %w", err)
	}
	return Stats{Exchanges: int(min(n, math.MaxInt32)), Bytes: b}, nil
}
