package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/internal/ids"
)

// TestWaitingMessagesClaimedAsTheLastCompletes: an inbox worker that
// claimed a message while others waited (store.Lease.More) claims the
// next in the round trip that completes this one (store.CompleteClaim),
// not in one of its own: a backlog of n messages costs one Claim and n
// completions, not n Claims and n completions. Each message is still
// processed once, and its answer queued once; a worker whose pool is
// stopping claims none. Before, every message waiting cost a Claim (under
// load about one per message: measured 1.04 Claims per message at 64
// senders).
func TestWaitingMessagesClaimedAsTheLastCompletes(t *testing.T) {
	srv, st := redisServerStore(t)
	reg := prometheus.NewRegistry()
	if err := InstrumentRedis(reg, st); err != nil {
		t.Fatal(err)
	}
	look := redisStoreOn(t, srv)
	proc := newFakeProcessor()
	g := NewServer(testConfig(), st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(proc)).msg
	ctx := context.Background()
	queue := func(n int) []string {
		t.Helper()
		var sent []string
		for range n {
			id := ids.NewUUID()
			e := inboxEntry{Inbound: Inbound{Transport: TransportEbXML, Interaction: prescribe, MessageID: id, ConversationID: id,
				FromParty: "SENDER-1", ToParty: "PORXGATE-1", CPAID: "S1001A1630", Payload: []byte("<x/>"), ReceivedAt: time.Now()}}
			it, err := e.item(time.Now().Add(-time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if err := look.Enqueue(ctx, it); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, id)
		}
		return sent
	}
	drain := func() {
		t.Helper()
		for range 100 {
			if !g.processOne(ctx) {
				return
			}
		}
		t.Fatal("the worker never ran out of work")
	}
	// One message first: it loads the scripts (EVALSHA, then EVAL once).
	queue(2)
	drain()

	const n = 10
	tests := []struct {
		name     string
		stopping bool
		// processed is how many of the n messages one step processes.
		processed int
		want      map[string]uint64
	}{
		{"a backlog", false, n, map[string]uint64{"store.claim": 1, "store.complete_claim": n - 1, "store.complete": 1}},
		// Its pool stopping, a worker finishes the message in hand and
		// claims no other (outbox.Loop starts no step then).
		{"the pool stopping", true, 1, map[string]uint64{"store.claim": 1, "store.complete": 1}},
	}
	answers := 2
	for _, tt := range tests {
		sent := queue(n)
		pool, stop := context.WithCancel(ctx)
		if tt.stopping {
			stop()
		}
		before := redisOps(t, reg)
		more := g.processUntil(pool, ctx)
		stop()
		after := redisOps(t, reg)
		got := map[string]uint64{}
		var total, want uint64
		for op, c := range after {
			if c > before[op] {
				got[op] = c - before[op]
				total += c - before[op]
			}
		}
		for _, c := range tt.want {
			want += c
		}
		if !sameCounts(got, tt.want) {
			t.Errorf("%s of %d messages: %d round trips to Redis %v; want %d %v", tt.name, n, total, got, want, tt.want)
		}
		processed := 0
		for _, id := range sent {
			switch c := proc.callsFor(id); c {
			case 0:
			case 1:
				processed++
			default:
				t.Errorf("%s: message %s processed %d times, want once", tt.name, id, c)
			}
		}
		if processed != tt.processed {
			t.Errorf("%s: one step processed %d messages, want %d", tt.name, processed, tt.processed)
		}
		if wantMore := processed < n; more != wantMore {
			t.Errorf("%s: the step said look again %v, want %v", tt.name, more, wantMore)
		}
		drain()
		answers += n
		if in, err := look.QueueLen(ctx, inboxQueue); err != nil || in != 0 {
			t.Errorf("%s: inbox holds %d (%v), want 0", tt.name, in, err)
		}
		if out, err := look.QueueLen(ctx, outbox.Queue); err != nil || out != answers {
			t.Errorf("%s: outbox holds %d answers (%v), want %d", tt.name, out, err, answers)
		}
	}
}
