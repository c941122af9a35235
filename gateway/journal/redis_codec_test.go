package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
)

// codecPayloads are payloads of every shape a step carries, and the edges
// of packBody: none, below packMin, just at it, what does not shrink,
// binary and invalid UTF-8, newlines, what looks like the list's own
// format or like an S2 block, ones still big once compressed (written
// apart), one bigger than a chunk apart as it is and one compressed.
func codecPayloads(t testing.TB) map[string]string {
	t.Helper()
	p := map[string]string{
		"empty":              "",
		"short":              "<x/>",
		"below packMin":      strings.Repeat("a", packMin-1),
		"at packMin":         strings.Repeat("a", packMin),
		"incompressible":     incompressible(3000, 7),
		"incompressible big": incompressible(3*stagedInline, 8),
		"binary":             string([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0x80, 0, 0}) + strings.Repeat("\x00\xff", 400),
		"newlines":           strings.Repeat("line\n\r\n", 300),
		"list format":        `{"at":"2026-01-01T00:00:00Z","kind":"legacyRequest","bodyEnc":"s2"}` + "\n" + strings.Repeat("x", 500),
		"s2 block":           string(s2.Encode(nil, []byte(strings.Repeat("<a>looks packed</a>", 100)))),
		"compressible big":   "<big>" + strings.Repeat("<item>0123456789</item>\n", 4*stagedChunk/24) + "</big>",
		"mixed big":          strings.Repeat("<v>"+incompressible(900, 9)+"</v>", 80),
		"compressed chunks":  strings.Repeat(incompressible(40<<10, 10), 2) + strings.Repeat(incompressible(40<<10, 11), 2),
	}
	for i, b := range stepPayloads(t) {
		p[fmt.Sprintf("file %03d", i)] = string(b)
	}
	return p
}

// rawSteps returns the elements of exchange id's list, and the payloads
// written apart, by key.
func rawSteps(t *testing.T, b *Redis, id string) ([]string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	list, err := b.c.LRange(ctx, b.p+"st:"+id, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	apart := map[string]string{}
	keys, err := b.c.SMembers(ctx, b.p+"sbk:"+id).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		chunks, err := b.c.LRange(ctx, k, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		apart[k] = strings.Join(chunks, "")
	}
	return list, apart
}

// TestRedisKeepsPayloadsCompressed writes every kind of step with every
// shape of payload (codecPayloads) through a real Redis, compressed and
// not (Uncompressed), and reads each back byte for byte, from either
// writer's backend; the kept bytes are compressed exactly when that made
// them smaller, and the journal's size is the bytes Redis holds.
func TestRedisKeepsPayloadsCompressed(t *testing.T) {
	kinds := []string{StepLegacyRequest, StepFHIRRequest, StepEPSAnswer, StepV3Answer, StepDelivery, StepFault, StepShadow}
	packed, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	plain := NewRedis(packed.c, strings.TrimSuffix(packed.p, "journal:"), Retention{MaxAge: time.Hour, MaxBytes: 1 << 40}, Uncompressed(true))
	ctx := context.Background()
	now := time.Now().UTC()
	payloads := codecPayloads(t)
	var stored, recorded int64
	n := 0
	for name, body := range payloads {
		for _, w := range []struct {
			name string
			b    *Redis
		}{{"packed", packed}, {"plain", plain}} {
			n++
			id := fmt.Sprintf("X%04d", n)
			var evs []Event
			for k, kind := range kinds {
				evs = append(evs, Event{Exchange: id, At: now.Add(time.Duration(k) * time.Millisecond), Interaction: "PORX_IN020101UK31",
					Step: &Step{Kind: kind, Title: name, ContentType: "application/xml", Headers: map[string]string{"X": "y"}, Body: body + kind}})
			}
			if _, err := w.b.ApplyAll(ctx, evs); err != nil {
				t.Fatalf("%s %s: %v", name, w.name, err)
			}
			for _, r := range []*Redis{packed, plain} {
				x, err := r.Get(ctx, id)
				if err != nil || x == nil || len(x.Steps) != len(kinds) {
					t.Fatalf("%s written %s: %+v, %v", name, w.name, x, err)
				}
				for k, st := range x.Steps {
					if st.Body != body+kinds[k] || st.Kind != kinds[k] || st.Title != name || st.Headers["X"] != "y" || st.Note != "" {
						t.Errorf("%s written %s: step %s read back with %d bytes (note %q), want %d", name, w.name, st.Kind, len(st.Body), st.Note, len(body)+len(kinds[k]))
					}
				}
			}
			list, apart := rawSteps(t, w.b, id)
			for k, v := range list {
				meta, kept, _ := strings.Cut(v, "\n")
				var s storedStep
				if err := json.Unmarshal([]byte(meta), &s); err != nil {
					t.Fatal(err)
				}
				if s.BodyKey != "" {
					kept = apart[s.BodyKey]
				}
				orig := body + kinds[k]
				switch {
				case w.b.plain || len(orig) < packMin:
					if s.BodyEnc != "" || kept != orig {
						t.Errorf("%s written %s: step %d kept %q-encoded, %d bytes, want as it is", name, w.name, k, s.BodyEnc, len(kept))
					}
				case s.BodyEnc == "":
					if kept != orig {
						t.Errorf("%s: step %d kept plain, %d bytes of %d", name, k, len(kept), len(orig))
					}
					if e := s2.Encode(nil, []byte(orig)); len(e)+packMinSaving <= len(orig) {
						t.Errorf("%s: step %d kept plain (%d bytes), S2 makes %d", name, k, len(orig), len(e))
					}
				case s.BodyEnc == encS2:
					if len(kept)+packMinSaving > len(orig) {
						t.Errorf("%s: step %d kept compressed in %d bytes, of %d", name, k, len(kept), len(orig))
					}
				default:
					t.Errorf("%s: step %d kept as %q", name, k, s.BodyEnc)
				}
				if !w.b.plain && name == "compressed chunks" && (s.BodyEnc != encS2 || len(kept) <= stagedChunk) {
					t.Errorf("%s: step %d kept %q-encoded in %d bytes, want compressed and over a chunk", name, k, s.BodyEnc, len(kept))
				}
				if s.BodyKey != "" && len(kept) <= stagedInline {
					t.Errorf("%s: step %d written apart with %d bytes kept", name, k, len(kept))
				}
				if s.BodyKey == "" && len(kept) > stagedInline {
					t.Errorf("%s: step %d kept %d bytes in the list", name, k, len(kept))
				}
				stored += int64(len(v))
				if s.BodyKey != "" {
					stored += int64(len(kept))
				}
				recorded += int64(len(orig))
			}
			for _, k := range []string{"x:", "s:"} {
				l, err := w.b.c.StrLen(ctx, w.b.p+k+id).Result()
				if err != nil {
					t.Fatal(err)
				}
				stored += l
			}
		}
	}
	st, err := packed.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d exchanges: payloads %d bytes, kept in %d", st.Exchanges, recorded, stored)
	if st.Bytes != stored {
		t.Errorf("the journal counts %d bytes, Redis holds %d", st.Bytes, stored)
	}
}

// TestRedisReadsOldSteps: steps as porxgates before compression wrote them
// (a step's JSON, a newline, its payload as it is; or the payload written
// apart) read back byte for byte, whatever the payload looks like, and
// the step's JSON a writer without compression writes is the old one.
func TestRedisReadsOldSteps(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	ctx := context.Background()
	if err := b.Apply(ctx, Event{Exchange: "OLD", At: time.Now().UTC(), Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(time.Second) // after the first step
	payloads := codecPayloads(t)
	var want []string
	var raw []any
	for name, body := range payloads {
		st := Step{At: at, Kind: StepEPSAnswer, Title: name, Body: body}
		old, err := oldEncodeStep(&st)
		if err != nil {
			t.Fatal(err)
		}
		if now, err := encodeStep(&st, []byte(body), ""); err != nil || string(now) != string(old) {
			t.Fatalf("%s: a step kept as it is is written %q, the old way %q (%v)", name, now, old, err)
		}
		raw = append(raw, old)
		want = append(want, body)
		at = at.Add(time.Millisecond)
	}
	// One written apart, as the old writer did (no bodyEnc).
	big := strings.Repeat("<big/>", 2*stagedInline)
	meta, err := marshal(&storedStep{Step: Step{At: at, Kind: StepFHIRRequest}, BodyKey: b.p + "sb:OLD:1"})
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, append(meta, '\n'))
	want = append(want, big)
	if err := b.c.RPush(ctx, b.p+"sb:OLD:1", big[:stagedInline], big[stagedInline:]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.c.RPush(ctx, b.p+"st:OLD", raw...).Err(); err != nil {
		t.Fatal(err)
	}
	x, err := b.Get(ctx, "OLD")
	if err != nil || x == nil || len(x.Steps) != 1+len(want) {
		t.Fatalf("Get: %+v, %v", x, err)
	}
	for i, w := range want {
		if got := x.Steps[1+i].Body; got != w {
			t.Errorf("old step %d (%s) read back with %d bytes, want %d", i, x.Steps[1+i].Title, len(got), len(w))
		}
	}
}

// oldEncodeStep is encodeStep as porxgates before compression had it.
func oldEncodeStep(st *Step) ([]byte, error) {
	meta := *st
	meta.Body = ""
	b, err := marshal(&meta)
	if err != nil {
		return nil, err
	}
	return append(append(b, '\n'), st.Body...), nil
}

// TestRedisRefusesDamagedPayloads: a compressed payload that does not
// decode (damaged, cut short, claiming more than maxUnpacked) or of an
// encoding this porxgate does not know is refused with an error saying
// which exchange and why (ErrPayloadUnreadable), inline or written apart.
func TestRedisRefusesDamagedPayloads(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	ctx := context.Background()
	good := s2.Encode(nil, []byte(strings.Repeat("<a>payload</a>", 200)))
	huge := s2.Encode(nil, make([]byte, 1))
	huge = append([]byte{0x80, 0x80, 0x80, 0x80, 0x01}, huge[1:]...) // claims 256 MiB
	cases := []struct {
		name, enc, body string
		apart           bool
		want            string
	}{
		{"garbage", encS2, "not s2 at all, not at all", false, "corrupt"},
		{"cut short", encS2, string(good[:len(good)/2]), false, "corrupt"},
		{"too big", encS2, string(huge), false, "more than"},
		{"unknown encoding", "zstd", string(good), false, `encoding "zstd" unknown`},
		{"garbage apart", encS2, strings.Repeat("\xff", 2*stagedInline), true, "corrupt"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := fmt.Sprintf("BAD%d", i)
			if err := b.Apply(ctx, Event{Exchange: id, At: time.Now().UTC(), Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}); err != nil {
				t.Fatal(err)
			}
			s := storedStep{Step: Step{At: time.Now().UTC(), Kind: StepEPSAnswer}, BodyEnc: c.enc}
			body := c.body
			if c.apart {
				s.BodyKey = b.p + "sb:" + id + ":1"
				if err := b.c.RPush(ctx, s.BodyKey, body).Err(); err != nil {
					t.Fatal(err)
				}
				body = ""
			}
			meta, err := marshal(&s)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.c.RPush(ctx, b.p+"st:"+id, string(meta)+"\n"+body).Err(); err != nil {
				t.Fatal(err)
			}
			x, err := b.Get(ctx, id)
			if !errors.Is(err, ErrPayloadUnreadable) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Get = %+v, %v; want ErrPayloadUnreadable naming %s and saying %q", x, err, id, c.want)
			}
			t.Log(err)
		})
	}
}

// TestPackBody: what packBody keeps, and unpackBody reads back, for
// every payload shape.
func TestPackBody(t *testing.T) {
	for name, body := range codecPayloads(t) {
		for _, on := range []bool{true, false} {
			packed, enc, done := packBody(body, on)
			stored := string(packed)
			done()
			if !on && (enc != "" || stored != body) {
				t.Errorf("%s: packed with compression off", name)
			}
			if enc == "" && stored != body {
				t.Errorf("%s: kept as it is but changed", name)
			}
			if enc != "" && len(stored)+packMinSaving > len(body) {
				t.Errorf("%s: kept compressed in %d bytes, of %d", name, len(stored), len(body))
			}
			got, err := unpackBody(stored, enc)
			if err != nil || got != body {
				t.Errorf("%s: read back %d bytes, %v; want %d", name, len(got), err, len(body))
			}
		}
	}
}

// FuzzUnpackBody: unpackBody never panics nor allocates past maxUnpacked
// on any bytes, whatever encoding; what packBody keeps reads back whole.
// The seeds (testdata/fuzz/FuzzUnpackBody) are S2 blocks whole, cut
// short, with a forged length, and plain text.
func FuzzUnpackBody(f *testing.F) {
	f.Add([]byte(""), false)
	f.Add([]byte("<x/>"), true)
	f.Add(s2.Encode(nil, []byte(strings.Repeat("<a>0123</a>", 50))), true)
	f.Fuzz(func(t *testing.T, data []byte, asS2 bool) {
		enc := ""
		if asS2 {
			enc = encS2
		}
		got, err := unpackBody(string(data), enc)
		if err == nil && len(got) > maxUnpacked {
			t.Fatalf("%d bytes decoded", len(got))
		}
		if err != nil && !errors.Is(err, ErrPayloadUnreadable) {
			t.Fatalf("error %v is not ErrPayloadUnreadable", err)
		}
		if enc == "" && (err != nil || got != string(data)) {
			t.Fatalf("plain payload read as %q, %v", got, err)
		}
		packed, e, done := packBody(string(data), true)
		stored := string(packed)
		done()
		if back, err := unpackBody(stored, e); err != nil || back != string(data) {
			t.Fatalf("packed %q (%s) read back as %q, %v", data, e, back, err)
		}
	})
}
