package journal

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A step whose payload passes stagedInline is not an argument of the
// writer's script (applyScript): its payload is written apart, under
// sb:<id>:<random>, a list of chunks of at most stagedChunk bytes, by
// plain commands sent before the script that appends the step, which
// names it (storedStep.BodyKey); the exchange's sbk:<id> lists such keys,
// for the retention to drop with it (dropLua). A write that fails after
// staging leaves the payload to expire (MaxAge), or to go with its
// exchange.
//
// Two reasons. Redis turns every argument of a script into a Lua string
// before the script starts, and its Lua hashes each string byte by byte:
// in the pinned end-to-end run a quarter of Redis's CPU went to that one
// loop (perf), the journal's step payloads (about 23 KB a prescription,
// 21 KB of it the legacy request and the FHIR request) its largest part,
// where a plain command only copies them. And Redis serves no other
// client while a script runs: a 4 MiB payload (the front door's limit) as
// an argument held every other client of the gateway's Redis for 91-364
// ms (SLOWLOG, loaded 2-core machine; 16-83 ms for 1 MiB); apart, it goes
// in commands of at most stagedChunk bytes (appended to one string, the
// string's growth copied all of it now and then: 14 ms a command for 4
// MiB). Below stagedInline the few commands a payload apart costs (its
// list, its expiry, its filing) outweigh the bytes kept out of Lua.
const (
	stagedInline = 4 << 10
	stagedChunk  = 64 << 10
)

// storedStep is a step's JSON as its exchange's list keeps it: the step
// without its body, where its body was written apart (BodyKey), if it
// was, and how the body is encoded (BodyEnc: "" as it is, encS2
// compressed; redis_codec.go).
type storedStep struct {
	Step
	BodyKey string `json:"bodyKey,omitempty"`
	BodyEnc string `json:"bodyEnc,omitempty"`
}

// staging is a payload to be written apart (runStep.staged).
type staging struct {
	key, body string
	done      bool
}

// encodeStaged returns the list element of st, whose payload, kept as
// stored in encoding enc (packBody), is to be written apart under a key
// of its own, and that payload's staging.
func (r *Redis) encodeStaged(id string, st *Step, stored, enc string) ([]byte, *staging, error) {
	b := make([]byte, 8)
	if _, err := crand.Read(b); err != nil {
		return nil, nil, err
	}
	sg := &staging{key: r.p + "sb:" + id + ":" + hex.EncodeToString(b), body: stored}
	meta := storedStep{Step: *st, BodyKey: sg.key, BodyEnc: enc}
	meta.Body = ""
	m, err := marshal(&meta)
	if err != nil {
		return nil, nil, err
	}
	return append(m, '\n'), sg, nil
}

// stagedWrite is a payload to write apart for exchange id, expiring
// after ttl (stageAll).
type stagedWrite struct {
	id  string
	sg  *staging
	ttl time.Duration
}

// stageAll writes the payloads of ws apart and files their keys under
// their exchanges' sbk:<id>, each once (a merge tried again does not
// write it again): those of one chunk, with their expiries and filings,
// in one MULTI/EXEC (one round trip for a run, and a payload never
// without its expiry), a longer one chunk by chunk (stage).
func (r *Redis) stageAll(ctx context.Context, ws []stagedWrite) error {
	var small []stagedWrite
	for _, w := range ws {
		if w.sg.done {
			continue
		}
		if len(w.sg.body) > stagedChunk {
			if err := r.stage(ctx, w.id, w.sg, w.ttl); err != nil {
				return err
			}
			continue
		}
		small = append(small, w)
	}
	if len(small) == 0 {
		return nil
	}
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, w := range small {
			p.RPush(ctx, w.sg.key, w.sg.body)
			p.PExpire(ctx, w.sg.key, w.ttl)
			if i+1 < len(small) && small[i+1].id == w.id {
				continue // filed with the next of its exchange
			}
			set := r.p + "sbk:" + w.id
			var keys []any
			for j := i; j >= 0 && small[j].id == w.id; j-- {
				keys = append(keys, small[j].sg.key)
			}
			p.SAdd(ctx, set, keys...)
			p.PExpire(ctx, set, w.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write payloads of %s apart: %w", small[0].id, err)
	}
	for _, w := range small {
		w.sg.done = true
	}
	return nil
}

// stage writes sg's payload apart, chunk by chunk, expiring after ttl, and
// files its key under its exchange's sbk:<id> (once: a merge tried again
// does not write it again).
func (r *Redis) stage(ctx context.Context, id string, sg *staging, ttl time.Duration) error {
	if sg.done {
		return nil
	}
	for body, first := sg.body, true; body != ""; first = false {
		n := min(len(body), stagedChunk)
		var err error
		if first {
			// Expiring from its first chunk: a write cut short leaves
			// nothing for good.
			_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.RPush(ctx, sg.key, body[:n])
				p.PExpire(ctx, sg.key, ttl)
				return nil
			})
		} else {
			err = r.c.RPush(ctx, sg.key, body[:n]).Err()
		}
		if err != nil {
			return fmt.Errorf("write a payload of %s apart: %w", id, err)
		}
		body = body[n:]
	}
	set := r.p + "sbk:" + id
	pipe := r.c.Pipeline()
	pipe.SAdd(ctx, set, sg.key)
	pipe.PExpire(ctx, set, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("write a payload of %s apart: %w", id, err)
	}
	sg.done = true
	return nil
}

// wasDropped reports whether the retention dropped exchange id (gone).
func (r *Redis) wasDropped(ctx context.Context, id string) (bool, error) {
	err := r.c.ZScore(ctx, r.p+"gone", id).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read whether exchange %s was dropped: %w", id, err)
	}
	return true, nil
}

// apartBody is where a step's body was written apart (storedStep.BodyKey)
// and its encoding (storedStep.BodyEnc).
type apartBody struct{ key, enc string }

// decodeStep reads a step encodeStep or encodeStaged wrote (or a step as
// JSON alone), its body decoded (unpackBody), and where its body was
// written apart (key "" when it was not).
func decodeStep(v string) (Step, apartBody, error) {
	meta, body, _ := strings.Cut(v, "\n")
	var st storedStep
	if err := json.Unmarshal([]byte(meta), &st); err != nil {
		return Step{}, apartBody{}, err
	}
	if st.BodyKey != "" {
		return st.Step, apartBody{key: st.BodyKey, enc: st.BodyEnc}, nil
	}
	if body != "" {
		b, err := unpackBody(body, st.BodyEnc)
		if err != nil {
			return Step{}, apartBody{}, err
		}
		st.Body = b
	}
	return st.Step, apartBody{}, nil
}

// readStaged fills in the bodies of steps written apart (keyed by their
// index in steps), decoded (unpackBody), in one round trip; one no longer
// there is said so in its Note.
func (r *Redis) readStaged(ctx context.Context, id string, steps []Step, apart map[int]apartBody) error {
	if len(apart) == 0 {
		return nil
	}
	pipe := r.c.Pipeline()
	got := make(map[int]*redis.StringSliceCmd, len(apart))
	for i, a := range apart {
		got[i] = pipe.LRange(ctx, a.key, 0, -1)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, c := range got {
		chunks, err := c.Result()
		switch {
		case err != nil:
			return fmt.Errorf("journal: read a payload of exchange %s: %w", id, err)
		case len(chunks) == 0:
			steps[i].Note = strings.TrimSpace(steps[i].Note + " (its payload is no longer kept)")
		default:
			b, err := unpackBody(strings.Join(chunks, ""), apart[i].enc)
			if err != nil {
				return fmt.Errorf("journal: a step of exchange %s: %w", id, err)
			}
			steps[i].Body = b
		}
	}
	return nil
}
