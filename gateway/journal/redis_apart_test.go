package journal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// roundTrips watches a Redis client: its round trips (a command or a
// pipeline each, a new connection's setup aside) and the most bytes of arguments one script call carried.
type roundTrips struct {
	mu          sync.Mutex
	trips       int
	scriptBytes int
}

// DialHook implements redis.Hook.
func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		n := redistest.ArgBytes(cmd.Args())
		r.mu.Lock()
		if cmd.Name() != "hello" { // a new connection's handshake
			r.trips++
		}
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && n > r.scriptBytes {
			r.scriptBytes = n
		}
		r.mu.Unlock()
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.mu.Lock()
		if cmds[0].Name() != "client" { // a new connection's setup
			r.trips++
		}
		r.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestRedisPayloadsStayOutOfTheScript: a prescription's steps (a 14 KB
// legacy request, a 7 KB FHIR request) went into Redis as arguments of
// the writer's script, which Redis's Lua hashes byte by byte before the
// script starts (a quarter of Redis's CPU in the pinned end-to-end run).
// Payloads over stagedInline are now written apart by plain commands, all
// of a run's in one MULTI/EXEC, so a run costs two round trips; the small
// ones stay in the step. Every step reads back whole, and the retention
// drops the payloads with their exchange.
func TestRedisPayloadsStayOutOfTheScript(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 1 << 40})
	ctx := context.Background()
	now := time.Now().UTC()
	// The index key made and read, outside what is counted.
	if err := b.Apply(ctx, Event{Exchange: "WARM", At: now, Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}}); err != nil {
		t.Fatal(err)
	}
	var rt roundTrips
	b.c.AddHook(&rt)
	legacy := "<PORX_IN020101UK31>" + incompressible(14<<10, 1) + "</PORX_IN020101UK31>"
	fhirReq := `{"resourceType":"Bundle","x":"` + incompressible(7<<10, 2) + `"}`
	answer := `{"resourceType":"Bundle","ok":true}`
	v3 := "<MCCI_IN010000UK13>" + incompressible(1500, 3) + "</MCCI_IN010000UK13>"
	evs := []Event{
		{Exchange: "RX", At: now, Step: &Step{Kind: StepLegacyRequest, Body: legacy}},
		{Exchange: "RX", At: now.Add(time.Millisecond), Step: &Step{Kind: StepFHIRRequest, Body: fhirReq}},
		{Exchange: "RX", At: now.Add(2 * time.Millisecond), Step: &Step{Kind: StepEPSAnswer, Body: answer}},
		{Exchange: "RX", At: now.Add(3 * time.Millisecond), Step: &Step{Kind: StepV3Answer, Body: v3}},
		{Exchange: "RX2", At: now, Step: &Step{Kind: StepLegacyRequest, Body: legacy + " "}},
	}
	if _, err := b.ApplyAll(ctx, evs); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d round trips; the largest script call carried %d bytes", rt.trips, rt.scriptBytes)
	if rt.trips != 2 {
		t.Errorf("writing two exchanges with three payloads apart took %d round trips, want 2 (the payloads, the script)", rt.trips)
	}
	if rt.scriptBytes > 2*stagedInline {
		t.Errorf("the script carried %d bytes, want the payloads over %d bytes apart", rt.scriptBytes, stagedInline)
	}
	x, err := b.Get(ctx, "RX")
	if err != nil || x == nil || len(x.Steps) != 4 {
		t.Fatalf("exchange: %+v %v", x, err)
	}
	for i, want := range []string{legacy, fhirReq, answer, v3} {
		if x.Steps[i].Body != want {
			t.Errorf("step %d (%s) read back with %d bytes, want %d", i, x.Steps[i].Kind, len(x.Steps[i].Body), len(want))
		}
	}
	if x2, err := b.Get(ctx, "RX2"); err != nil || x2 == nil || len(x2.Steps) != 1 || x2.Steps[0].Body != legacy+" " {
		t.Fatalf("second exchange: %+v %v", x2, err)
	}
	apart, err := b.c.Keys(ctx, b.p+"sb:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(apart) != 3 {
		t.Errorf("payloads apart: %v, want the two legacy requests and the FHIR request", apart)
	}
	for _, k := range apart {
		if ttl, err := b.c.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("%s: expiry %v, %v", k, ttl, err)
		}
	}
	if err := b.Prune(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := b.c.Keys(ctx, b.p+"sb*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("after the retention dropped the exchanges, %v are left", keys)
	}
}
