package journal

import (
	"context"
	"crypto/sha1" //nolint:gosec // names a Lua script as Redis does (its SHA1), no security role
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// scriptWork records, for each run of a Lua script through a client, how
// many Redis commands the script executed: INFO commandstats read before
// and after it on a connection of its own. It holds only while the test
// is the server's only client.
type scriptWork struct {
	t    *testing.T
	info *redis.Client
	mu   sync.Mutex
	runs map[string][]int64 // script name (ScriptNames) → commands per run
	// args are the bytes of each run's keys and arguments, by script.
	args map[string][]int64
}

// watchScripts adds a scriptWork to c, a client of srv.
func watchScripts(t *testing.T, c redis.UniversalClient, srv *redistest.Server) *scriptWork {
	t.Helper()
	info := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = info.Close() })
	w := &scriptWork{t: t, info: info, runs: map[string][]int64{}, args: map[string][]int64{}}
	c.AddHook(processHook(w.process))
	return w
}

// process counts the commands of cmd if it is EVALSHA or EVAL (a
// processHook).
func (w *scriptWork) process(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
	name := strings.ToLower(cmd.Name())
	if (name != "evalsha" && name != "eval") || len(cmd.Args()) < 2 {
		return next(ctx, cmd)
	}
	sha := fmt.Sprint(cmd.Args()[1])
	if name == "eval" {
		sum := sha1.Sum([]byte(sha)) //nolint:gosec // see the import
		sha = hex.EncodeToString(sum[:])
	}
	var size int64
	for _, a := range cmd.Args()[2:] {
		switch v := a.(type) {
		case string:
			size += int64(len(v))
		case []byte:
			size += int64(len(v))
		default:
			size += int64(len(fmt.Sprint(v)))
		}
	}
	before := w.commands(ctx)
	err := next(ctx, cmd)
	if n := w.commands(ctx) - before; n > 0 {
		script := ScriptNames()[sha]
		w.mu.Lock()
		w.runs[script] = append(w.runs[script], n)
		w.args[script] = append(w.args[script], size)
		w.mu.Unlock()
	}
	return err
}

// commands returns how many commands the server has run, scripts and
// INFO themselves left out.
func (w *scriptWork) commands(ctx context.Context) int64 {
	s, err := w.info.Info(ctx, "commandstats").Result()
	if err != nil {
		w.t.Errorf("INFO commandstats: %v", err)
		return 0
	}
	var n int64
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		switch strings.TrimPrefix(name, "cmdstat_") {
		case "evalsha", "eval", "info":
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		c, _ := strconv.ParseInt(calls, 10, 64)
		n += c
	}
	return n
}

// most returns the most commands one run of script executed, and how
// many runs there were.
func (w *scriptWork) most(script string) (most int64, runs int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.runs[script] {
		most = max(most, n)
	}
	return most, len(w.runs[script])
}

// total returns how many commands the runs of script executed in all.
func (w *scriptWork) total(script string) (n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.runs[script] {
		n += c
	}
	return n
}

// mostBytes returns the most bytes of keys and arguments one run of
// script carried.
func (w *scriptWork) mostBytes(script string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Max(append([]int64{0}, w.args[script]...))
}

// reset forgets the runs seen so far.
func (w *scriptWork) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs = map[string][]int64{}
	w.args = map[string][]int64{}
}

// onePatient are n exchanges of one patient at one surgery and one
// pharmacy, one a millisecond from t0: their NHS number's index holds
// them all.
func onePatient(n int, t0 time.Time) []Event {
	evs := make([]Event, n)
	for i := range evs {
		id := fmt.Sprintf("M%07d", i)
		evs[i] = Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Millisecond), Interaction: "PORX_IN020101UK31",
			IDs: IDs{MessageIDs: []string{id}, ConversationID: "C" + id, NHSNumbers: []string{"9449304130"},
				ODSCodes: []string{"A83008", "FA565"}, PrescriptionIDs: []string{"RX" + id}},
			Outcome: &Outcome{Result: "accepted"}, Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}
	}
	return evs
}

// keptOnePatient returns a Redis journal (MaxAge an hour, no size cap to
// speak of) that keeps n exchanges of one patient (onePatient), the first
// started half an hour ago at t0, and its server.
func keptOnePatient(t *testing.T, n int) (b *Redis, srv *redistest.Server, t0 time.Time) {
	t.Helper()
	b, srv = redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	t0 = time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	applyInBatches(t, b, onePatient(n, t0))
	return b, srv, t0
}

// maxScriptCommands bounds the Redis commands one run of a retention
// script may execute: at most a few milliseconds of Redis's one thread,
// during which it serves no other client, however big the indexes.
const maxScriptCommands = 500

// TestRedisRetentionRunsAreBounded: one run of the retention's scripts
// (the size cap's eviction, the age's prune) does bounded work however
// many exchanges must go and however big the indexes they leave: Redis
// runs a script alone, every other client of the gateway's Redis waits.
// Each run dropped up to 1,000 exchanges, each out of every index it was
// filed under (17,001 commands a run here): with one patient's 300,000
// exchanges (a load test, a care home) such a run cost Redis about 150 ms
// of CPU (dropWork), and a 10-minute soak stalled five times with every
// client's in-flight bound hit. What the retention promises holds: it
// drops exactly the oldest past the cap and the age, counts stay true,
// the indexes hold only what is kept, and a kept exchange is found by its
// patient's NHS number.
func TestRedisRetentionRunsAreBounded(t *testing.T) {
	const n = 4000
	b, srv, t0 := keptOnePatient(t, n)
	ctx := context.Background()
	full, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	work := watchScripts(t, b.c, srv)

	// The size cap falls to what the newest 1,500 take: one write drops
	// the oldest 2,500.
	b.ret.MaxBytes = full.Bytes / n * 1500
	applyInBatches(t, b, []Event{{Exchange: "NEW", At: t0.Add(n * time.Millisecond), Interaction: "PORX_IN020101UK31",
		IDs: IDs{NHSNumbers: []string{"9449304130"}}, Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}})
	most, runs := work.most("journal.evict")
	t.Logf("dropping past the size cap: %d runs, at most %d commands a run", runs, most)
	if most > maxScriptCommands {
		t.Errorf("dropping past the size cap: a script run executed %d Redis commands (of %d runs); want at most %d", most, runs, maxScriptCommands)
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes > b.ret.MaxBytes || st.Exchanges < 1400 {
		t.Errorf("after the write: %d exchanges, %d bytes; want about 1,500 within the cap, %d bytes", st.Exchanges, st.Bytes, b.ret.MaxBytes)
	}
	checkKeptTrue(t, b, st.Exchanges)

	// The age: the oldest 1,000 kept started more than an hour ago.
	work.reset()
	oldest, err := b.c.ZRangeWithScores(ctx, b.p+"t", 0, 0).Result()
	if err != nil || len(oldest) != 1 {
		t.Fatalf("oldest: %v, %v", oldest, err)
	}
	from := time.UnixMilli(int64(oldest[0].Score))
	if err := b.Prune(ctx, from.Add(time.Hour+1000*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{"journal.evict", "journal.remove"} {
		if most, runs := work.most(script); most > maxScriptCommands {
			t.Errorf("pruning by age: a run of %s executed %d Redis commands (of %d runs); want at most %d", script, most, runs, maxScriptCommands)
		}
	}
	pruned, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pruned.Exchanges != st.Exchanges-1000 {
		t.Errorf("the prune left %d exchanges of %d; want %d", pruned.Exchanges, st.Exchanges, st.Exchanges-1000)
	}
	checkKeptTrue(t, b, pruned.Exchanges)
}

// checkKeptTrue checks that b keeps kept exchanges, that its counts and
// its patient's index say so, that each is found by that patient's NHS
// number, newest first, and that every key of an exchange or an index
// expires.
func checkKeptTrue(t *testing.T, b *Redis, kept int) {
	t.Helper()
	ctx := context.Background()
	keys, err := b.c.Keys(ctx, b.p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	heads := 0
	for _, k := range keys {
		name := strings.TrimPrefix(k, b.p)
		if strings.HasPrefix(name, "x:") {
			heads++
		}
		switch {
		case strings.HasPrefix(name, "x:"), strings.HasPrefix(name, "s:"), strings.HasPrefix(name, "st:"),
			strings.HasPrefix(name, "k:"), strings.HasPrefix(name, "ix"):
			if ttl, err := b.c.PTTL(ctx, k).Result(); err != nil || ttl < 0 && name != "ixkey" && name != "ixsince" {
				t.Errorf("%s does not expire (PTTL %v, %v)", k, ttl, err)
			}
		}
	}
	inT, err := b.c.ZCard(ctx, b.p+"t").Result()
	if err != nil {
		t.Fatal(err)
	}
	sizes, err := b.c.HLen(ctx, b.p+"sz").Result()
	if err != nil {
		t.Fatal(err)
	}
	ixKey, err := b.indexKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inIndex, err := b.c.ZCard(ctx, b.idIndex(ixKey, "9449304130")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if heads != kept || inT != int64(kept) || sizes != int64(kept) || inIndex != int64(kept) {
		t.Errorf("%d exchanges counted: %d heads, %d listed by start, %d sizes, %d in the patient's index", kept, heads, inT, sizes, inIndex)
	}
	var sum int64
	vals, err := b.c.HVals(ctx, b.p+"sz").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
	}
	if st, err := b.Stats(ctx); err != nil || st.Bytes != sum {
		t.Errorf("the total says %d bytes, the sizes sum to %d (%v)", st.Bytes, sum, err)
	}
	got, err := b.Search(ctx, Query{ID: "9449304130", Limit: kept})
	if err != nil || len(got) != kept {
		t.Fatalf("search by the NHS number found %d of %d kept (%v)", len(got), kept, err)
	}
	newest, err := b.c.ZRevRange(ctx, b.p+"t", 0, 0).Result()
	if err != nil || len(newest) != 1 || got[0].ID != newest[0] {
		t.Errorf("search by the NHS number: first %s, the newest kept is %v (%v)", got[0].ID, newest, err)
	}
}

// TestRedisWriteTrimsIndexesBoundedly: a write takes a bounded number of
// members out of the indexes it files its exchange under, however many
// are past the age. Each write took every member that started MaxAge
// before its exchange out of each of its indexes in one command: after
// the age was lowered (or the gateway came back from an outage, the
// exchanges gone by their expiry but their memberships left to this
// trim), the first write of a busy patient, pharmacy, outcome or
// interaction took them all, 3,000 here, hundreds of thousands in a busy
// week's index, while Redis served no one else. The prune then takes what
// is left of them.
func TestRedisWriteTrimsIndexesBoundedly(t *testing.T) {
	srv := redistest.Start(t)
	open := func(maxAge time.Duration) *Redis {
		rs, err := store.NewRedis(srv.URL(), "test:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rs.Close() })
		return NewRedis(rs.Client(), rs.Prefix(), Retention{MaxAge: maxAge})
	}
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 3000
	applyInBatches(t, open(2*time.Hour), onePatient(n, now.Add(-90*time.Minute)))

	// The age falls to 30 minutes: every exchange written is past it.
	b := open(30 * time.Minute)
	ixKey, err := b.indexKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range []string{b.idIndex(ixKey, "9449304130"), b.idIndex(ixKey, "FA565"), b.p + "ixo:accepted", b.p + "ixi:porx_in020101uk31"} {
		before, err := b.c.ZCard(ctx, ix).Result()
		if err != nil {
			t.Fatal(err)
		}
		applyInBatches(t, b, []Event{{Exchange: "NEW" + ix, At: time.Now().UTC(), Interaction: "PORX_IN020101UK31",
			IDs: IDs{NHSNumbers: []string{"9449304130"}, ODSCodes: []string{"FA565"}}, Outcome: &Outcome{Result: "accepted"},
			Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}})
		after, err := b.c.ZCard(ctx, ix).Result()
		if err != nil {
			t.Fatal(err)
		}
		if took := before + 1 - after; took > maxTrim {
			t.Errorf("one write took %d members out of index %s; want at most %d", took, strings.TrimPrefix(ix, b.p), maxTrim)
		}
	}
	if err := b.Prune(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	checkKeptTrue(t, b, 4)
}

// busyMessages are the events the writer takes in one full batch at a
// busy hour: n messages of one patient, each its legacy request, the
// call to EPS, EPS's answer, the v3 answer and its delivery, with
// payloads of a signed prescription's size (about 14 KB, each its own).
func busyMessages(n int, t0 time.Time) []Event {
	var evs []Event
	for k := range n {
		id := fmt.Sprintf("BUSY%06d", k)
		body := fmt.Sprintf("<PORX_IN020101SM31 xmlns=\"urn:hl7-org:v3\"><id root=\"%s\"/>", id) +
			strings.Repeat(fmt.Sprintf("<pertinentInformation1 typeCode=\"PERT\"><seperatableInd value=\"%d\"/></pertinentInformation1>\n", k), 150) +
			"</PORX_IN020101SM31>"
		at := t0.Add(time.Duration(k) * time.Millisecond)
		evs = append(evs,
			Event{Exchange: id, At: at, Interaction: "PORX_IN020101SM31", Transport: "ebxml", Party: "YEA-0000806",
				IDs: IDs{MessageIDs: []string{id}, ConversationID: "C" + id, PrescriptionIDs: []string{"RX" + id},
					NHSNumbers: []string{"9449304130"}, ODSCodes: []string{"A83008", "FA565"}},
				Step: &Step{Kind: StepLegacyRequest, Title: "ebXML request", ContentType: "application/xml", Body: body}},
			Event{Exchange: id, At: at.Add(time.Millisecond), IDs: IDs{XRequestIDs: []string{"X" + id}},
				Step: &Step{Kind: StepFHIRRequest, Title: "POST /FHIR/R4/$process-message", Headers: map[string]string{"X-Request-ID": "X" + id}, Body: body}},
			Event{Exchange: id, At: at.Add(2 * time.Millisecond),
				Step: &Step{Kind: StepEPSAnswer, Title: "200", Status: 200, Body: body[:2000], TookMS: 3}},
			Event{Exchange: id, At: at.Add(3 * time.Millisecond), Outcome: &Outcome{Result: "accepted"},
				Step: &Step{Kind: StepV3Answer, Title: "v3 answer", Body: body[:3000]}},
			Event{Exchange: id, At: at.Add(4 * time.Millisecond), Delivered: true,
				Step: &Step{Kind: StepDelivery, Title: "delivered", Status: 202}})
	}
	return evs
}

// TestRedisApplyRunsAreBounded: one run of the writer's script
// (journal.apply) carries and does bounded work however big the batch it
// writes: Redis runs a script alone, and every other client of the
// gateway's Redis (the front door's accept, the workers' claim) waits
// for it. A full batch (512 events, 102 messages of one patient) was one
// run: 4,946 Redis commands and 3.7 MB of arguments, which Redis copies
// into Lua strings before the script starts (about 2 ns a byte here,
// five to ten times what a plain command's copy costs); SLOWLOG said
// 180-245 ms a run on the busy development machine (11-37 ms in the
// soak at 500 messages a second, with smaller payloads). Now 21 runs of
// at most 242 commands and 173 KB, 0.4-2.5 ms each on the same machine
// (33 ms in all: the copy of a big run costs more than its bytes'
// share). What the journal promises holds: every exchange is found by
// each of its ids, with all its steps, the counts stay true and every key
// expires.
func TestRedisApplyRunsAreBounded(t *testing.T) {
	const kept = 1000
	b, srv, _ := keptOnePatient(t, kept)
	ctx := context.Background()
	// The slowlog keeps the commands a script runs too: those that take
	// less than 200 µs are left out.
	for k, v := range map[string]string{"slowlog-log-slower-than": "200", "slowlog-max-len": "100000"} {
		if err := b.c.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.c.SlowLogReset(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	work := watchScripts(t, b.c, srv)

	const n = 102
	evs := busyMessages(n, time.Now().UTC())
	if _, err := b.ApplyAll(ctx, evs); err != nil {
		t.Fatal(err)
	}
	most, runs := work.most("journal.apply")
	bytes := work.mostBytes("journal.apply")
	var slowest time.Duration
	logs, err := b.c.SlowLogGet(ctx, 100000).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if len(l.Args) > 1 && fmt.Sprint(l.Args[1]) == applyScript.Hash() {
			slowest = max(slowest, l.Duration)
		}
	}
	t.Logf("a batch of %d events: %d runs of journal.apply, at most %d commands and %d bytes of arguments a run; the slowest run took Redis %v (SLOWLOG)",
		len(evs), runs, most, bytes, slowest)
	// A few hundred commands and a quarter of a megabyte: about a
	// millisecond of Redis's one thread.
	if most > maxScriptCommands {
		t.Errorf("a run of journal.apply executed %d Redis commands (of %d runs); want at most %d", most, runs, maxScriptCommands)
	}
	const maxArgs = 256 << 10
	if bytes > maxArgs {
		t.Errorf("a run of journal.apply carried %d bytes of arguments (of %d runs); want at most %d", bytes, runs, maxArgs)
	}

	for k := range n {
		id := fmt.Sprintf("BUSY%06d", k)
		x, err := b.Get(ctx, id)
		if err != nil || x == nil || len(x.Steps) != 5 || x.Outcome.Result != "accepted" {
			t.Fatalf("exchange %s: %+v, %v; want its five steps, accepted", id, x, err)
		}
		for i := 1; i < len(x.Steps); i++ {
			if x.Steps[i].At.Before(x.Steps[i-1].At) {
				t.Fatalf("exchange %s: steps out of order: %+v", id, x.Steps)
			}
		}
		for _, v := range []string{id, "C" + id, "RX" + id, "X" + id} {
			got, err := b.Search(ctx, Query{ID: v})
			if err != nil || len(got) != 1 || got[0].ID != id || got[0].Steps != 5 {
				t.Fatalf("search by %s: %+v, %v; want exchange %s with five steps", v, got, err, id)
			}
		}
	}
	checkKeptTrue(t, b, kept+n)
}

// TestRedisApplyWritesAnIndexOnceARun: the writer's script adds the
// exchanges of a run to an index they share (their patient's NHS number,
// their ODS codes, their outcome, their interaction) in one command, and
// trims it and puts off its expiry once, not once for each of them; and
// an exchange whose own id is its message id is added to that index once.
// A batch of 102 messages of one patient took 4,898 Redis commands, 48
// an exchange (four of every one of its nine index keys, its message id's
// twice); now about 25, so the journal's share of Redis's one thread
// halves.
func TestRedisApplyWritesAnIndexOnceARun(t *testing.T) {
	b, srv := redisBackend(t, Retention{MaxAge: time.Hour})
	work := watchScripts(t, b.c, srv)
	const n = 102
	if _, err := b.ApplyAll(t.Context(), busyMessages(n, time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	total := work.total("journal.apply")
	_, runs := work.most("journal.apply")
	t.Logf("%d messages: %d Redis commands in %d runs, %.1f a message", n, total, runs, float64(total)/n)
	if perMessage := float64(total) / n; perMessage > 30 {
		t.Errorf("%d messages took %d Redis commands, %.1f a message; want at most 30", n, total, perMessage)
	}
	checkKeptTrue(t, b, n)
}

// TestRedisRunsBringBackAGoneExchangeWhole: the events of an exchange the
// retention dropped, in one batch with its request recorded again (the
// message processed once more), are written with it even when they pass
// the bound of a run and go in several (TestRedisApplyRunsAreBounded):
// those in a run before the request's were left out as gone, where the
// batch written in one run kept them.
func TestRedisRunsBringBackAGoneExchangeWhole(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 3500})
	ctx := t.Context()
	t0 := time.Now().UTC().Truncate(time.Second)
	for i, id := range []string{"A", "B", "C", "D"} {
		if err := b.Apply(ctx, Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Minute), Interaction: "PORX_IN020101UK31",
			Step: &Step{Kind: StepLegacyRequest, Body: incompressible(1000, 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	if x, _ := b.Get(ctx, "A"); x != nil {
		t.Fatal("oldest exchange A kept past the size limit")
	}
	late := t0.Add(10 * time.Minute)
	big := incompressible(maxRunBytes*3/4, 1)
	left, err := b.ApplyAll(ctx, []Event{
		{Exchange: "A", At: late, Step: &Step{Kind: StepDelivery, Title: "delivered", Body: big}},
		{Exchange: "A", At: late.Add(time.Millisecond), Step: &Step{Kind: StepFault, Title: "retried", Body: big}},
		{Exchange: "A", At: late.Add(2 * time.Millisecond), Interaction: "PORX_IN020101UK31",
			Step: &Step{Kind: StepLegacyRequest, Title: "processed once more", Body: "<x/>"}},
	})
	if err != nil || left != 0 {
		t.Fatalf("ApplyAll = %d left out, %v; want none", left, err)
	}
	x, err := b.Get(ctx, "A")
	if err != nil || x == nil || len(x.Steps) != 3 {
		t.Fatalf("exchange A brought back: %+v, %v; want its three steps", x, err)
	}
}
