package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestUnreadableInboxEntryCounted puts an inbox entry no gateway can read
// into a real Redis (a corrupted or foreign write) and checks what the
// operator sees of it: a dead letter under the request's MessageId and
// interaction, and porxgate_exchanges_total{outcome="dead_letter"} under
// the interaction. Before, the store's item id ("<interaction>:<MessageId>")
// stood as its MessageId and the exchange was counted under interaction "".
func TestUnreadableInboxEntryCounted(t *testing.T) {
	st, _ := redisStore(t)
	const id = "5A1B2C3D-0000-4000-8000-00000000BEEF"
	ctx := context.Background()
	if err := st.Enqueue(ctx, store.Item{Queue: inboxQueue, ID: prescribe + ":" + id, Data: []byte("\x00not an entry"), Due: time.Now()}); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	srv := NewServer(testConfig(), st, fakeUpstream{}, quietLog(), m, WithProcessor(newFakeProcessor()))
	serveGateway(t, srv)
	waitFor(t, "the dead letter", func() bool {
		return counterSum(t, m, "porxgate_exchanges_total", map[string]string{"outcome": OutcomeDeadLetter}) == 1
	})
	if n := counterSum(t, m, "porxgate_exchanges_total", map[string]string{"interaction": prescribe, "outcome": OutcomeDeadLetter}); n != 1 {
		t.Errorf("dead letter counted under another interaction than %s", prescribe)
	}
	raw, err := st.DeadLetters(ctx, 10)
	if err != nil || len(raw) != 1 {
		t.Fatalf("%d dead letters, err %v", len(raw), err)
	}
	dl, err := outbox.DecodeDeadLetter(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	if dl.MessageID != id || dl.Interaction != prescribe {
		t.Errorf("dead letter MessageId %q interaction %q; want %q %q", dl.MessageID, dl.Interaction, id, prescribe)
	}
}
