package gateway

import (
	"strconv"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
)

// TestDeferredMessageJournalIsBounded: a message waiting out an EPS
// outage is tried every few seconds (every 5 s with the defaults), and
// each try added two steps to its exchange in the journal, its request
// again and the fault, about 1 KB a try: 205 tries made 408 steps and
// 206 KB (680 KB an hour a message, so 400 messages waiting an hour
// filled the journal's 256 MiB and the size cap dropped every other
// exchange it kept). The journal now keeps a waiting message's first
// journalFirstTries tries and every journalEveryTry-th after, each such
// fault saying which try it is; the try that ends the wait is kept whole,
// with its answer.
func TestDeferredMessageJournalIsBounded(t *testing.T) {
	s, client := startSim(t)
	s.SetFaults(sim.Faults{Down: true})
	m := NewMetrics()
	st, _ := redisStore(t)
	cfg := testConfig()
	cfg.Journal.Backend = "redis"
	j := OpenJournal(cfg, st, m, quietLog())
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), m, WithJournal(j),
		WithProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())))
	g := serveGateway(t, srv)
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	req := newReq(newID(t, 0))
	req.payload = payload
	if code, body := sendEb(t, g.base, req); code != 202 {
		t.Fatalf("POST = %d\n%s", code, body)
	}
	const tries = 2*journalEveryTry + 10
	waitFor(t, "the message deferred again and again", func() bool {
		return counterSum(t, m, "porxgate_messages_processed_total", map[string]string{"outcome": "deferred"}) >= tries
	})
	s.SetFaults(sim.Faults{})
	waitFor(t, "the message processed once EPS is back", func() bool {
		return counterSum(t, m, "porxgate_messages_processed_total", map[string]string{"outcome": "done"}) >= 1
	})
	if err := j.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	x, err := j.Backend().Get(t.Context(), req.messageID)
	if err != nil || x == nil {
		t.Fatalf("exchange %s: %v %v", req.messageID, x, err)
	}
	deferred := int(counterSum(t, m, "porxgate_messages_processed_total", map[string]string{"outcome": "deferred"}))
	kept := journalFirstTries + deferred/journalEveryTry + 1 // and the try that ended the wait
	kinds := map[string]int{}
	for _, st := range x.Steps {
		kinds[st.Kind]++
	}
	t.Logf("%d deferrals: %d steps %v", deferred, len(x.Steps), kinds)
	if got := kinds[journal.StepLegacyRequest]; got > kept {
		t.Errorf("%d deferred tries kept %d legacy-request steps, want at most %d", deferred, got, kept)
	}
	if got := kinds[journal.StepFault]; got > kept {
		t.Errorf("%d deferred tries kept %d fault steps, want at most %d", deferred, got, kept)
	}
	var said bool
	for _, st := range x.Steps {
		said = said || st.Kind == journal.StepFault && strings.Contains(st.Title, "try "+strconv.Itoa(journalEveryTry+1)+";")
	}
	if !said {
		t.Errorf("no fault step says it is try %d:\n%+v", journalEveryTry+1, x.Steps)
	}
	// The try that ended the wait: its request, and its answer after it.
	lastReq := -1
	for i, st := range x.Steps {
		if st.Kind == journal.StepLegacyRequest {
			lastReq = i
		}
	}
	after := map[string]bool{}
	for _, st := range x.Steps[lastReq+1:] {
		after[st.Kind] = true
	}
	if lastReq < 0 || !after[journal.StepV3Answer] {
		t.Errorf("the try that ended the wait is not kept whole (after the last request: %v)", after)
	}
	if x.Outcome.Result == journal.OutcomeInProgress || x.Outcome.Result == "" {
		t.Errorf("outcome %+v once the message was processed", x.Outcome)
	}
}
