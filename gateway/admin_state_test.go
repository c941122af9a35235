package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/chromium"
)

// deadLettersIn gives st n dead letters, as processing does.
func deadLettersIn(t *testing.T, st store.Store, n int) {
	t.Helper()
	now := time.Now()
	for i := range n {
		putDeadLetter(t, st, outbox.DeadLetter{At: now, Stage: outbox.StageProcessing, MessageID: fmt.Sprintf("DL-%03d", i),
			Interaction: "PORX_IN020101SM31", Party: senderParty, Reason: "test"})
	}
}

// pageOpen opens the admin page of the admin listener at base in a
// headless Chromium (at path) that closes when the test ends.
func pageOpen(ctx context.Context, t *testing.T, path, base string) *chromium.Browser {
	t.Helper()
	b, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Navigate(ctx, base+admin.PathPage); err != nil {
		t.Fatal(err)
	}
	return b
}

// putDeadLetter gives st the dead letter dl, as processing does: an item
// queued, claimed and completed with it (and its head).
func putDeadLetter(t *testing.T, st store.Store, dl outbox.DeadLetter) {
	t.Helper()
	putDeadLetterAs(t, st, dl.Finish())
}

// putDeadLetterAs gives st the dead letter f holds: an item queued,
// claimed and completed with f.
func putDeadLetterAs(t *testing.T, st store.Store, f store.Finish) {
	t.Helper()
	dl, err := outbox.DecodeDeadLetter(f.DeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	if err := st.Enqueue(ctx, store.Item{Queue: "test-dead", ID: dl.MessageID, Data: []byte("x"), Due: now}); err != nil {
		t.Fatal(err)
	}
	l, err := st.Claim(ctx, "test-dead", now, time.Minute)
	if err != nil || l == nil {
		t.Fatalf("claim %s: %v, %v", dl.MessageID, l, err)
	}
	if err := st.Complete(ctx, l, f); err != nil {
		t.Fatal(err)
	}
}

// TestLiveStateCountsEveryDeadLetter: the live state's dead-letter count
// is how many there are, not how many it lists. The page's card said 20
// (the newest listed) with 25 kept, and its refresh every 5 seconds set it
// to the length of the list again.
func TestLiveStateCountsEveryDeadLetter(t *testing.T) {
	st := newMemoryStore()
	deadLettersIn(t, st, 25)
	g := startGateway(t, testConfig(), st, true)
	base := g.adminBase(t)
	code, body := get(t, base+admin.PathState)
	var s admin.State
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
		t.Fatalf("state = %d %s", code, body)
	}
	if s.DeadLetterCount != 25 || len(s.DeadLetters) != 20 {
		t.Errorf("state: %d dead letters counted, %d listed; want 25 and the newest 20", s.DeadLetterCount, len(s.DeadLetters))
	}
	if _, page := get(t, base+admin.PathPage); !strings.Contains(page, `<b id="dead-letters">25</b>`) {
		t.Errorf("the page's dead-letter card does not say 25:\n%s", page)
	}

	path := chromium.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := pageOpen(ctx, t, path, base)
	var first string
	if err := b.Eval(ctx, `document.getElementById("state-at").textContent`, &first); err != nil {
		t.Fatal(err)
	}
	var card string
	waitFor(t, "the page's live-state refresh", func() bool {
		var at string
		_ = b.Eval(ctx, `document.getElementById("state-at").textContent`, &at)
		_ = b.Eval(ctx, `document.getElementById("dead-letters").textContent`, &card)
		return at != first
	})
	if card != "25" {
		t.Errorf("after the refresh the dead-letter card says %q, want 25", card)
	}
}

// TestDeadLetterListShowsNoMessage: GET /admin/deadletters lists the dead
// letters "without the message bodies" (README), and cleared Body, but a
// dead letter of processing also keeps its inbox entry, which holds the
// whole message again: the listing carried every message in it.
func TestDeadLetterListShowsNoMessage(t *testing.T) {
	st := newMemoryStore()
	const nhs = "9449304130"
	payload := `<PORX_IN020101SM31><patient><id extension="` + nhs + `"/></patient></PORX_IN020101SM31>`
	entry, err := json.Marshal(map[string]any{"inbound": map[string]any{"payload": payload}, "attempts": 3})
	if err != nil {
		t.Fatal(err)
	}
	putDeadLetter(t, st, outbox.DeadLetter{At: time.Now(), Stage: outbox.StageProcessing, MessageID: "DL-ENTRY",
		Interaction: "PORX_IN020101SM31", Party: senderParty, Reason: "test", Body: []byte(payload), Entry: entry})
	g := startGateway(t, testConfig(), st, true)
	code, body := get(t, g.adminBase(t)+PathDeadLetters)
	if code != 200 || !strings.Contains(body, "DL-ENTRY") {
		t.Fatalf("list = %d %s", code, body)
	}
	if strings.Contains(body, nhs) || strings.Contains(body, `"entry"`) {
		t.Errorf("the dead-letter list shows the message:\n%s", body)
	}
}
