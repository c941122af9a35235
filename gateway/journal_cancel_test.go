package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	v3 "github.com/porxgate/porxgate/v3"
)

// TestJournalFollowsAPendingCancellation: a cancel exchange answered
// pending (0002) ends, in the journal, as its Subsequent Cancel Response
// says once that is delivered (0001 cancelled after the dispenser's
// return), and the page shows that response among the answers. The
// journal kept only "answer delivered to P" for it: the exchange stayed
// "Cancellation pending with the dispenser" for good, and the response
// was nowhere on the page.
func TestJournalFollowsAPendingCancellation(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	j := newTestJournal(t)
	g, _ := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil, WithJournal(j))
	cancel := f.prescribeReleaseCancel(t, g)
	x := exchangeOf(t, j, cancel.messageID, "v3-answer")
	if x.Outcome.Result != "pending" {
		t.Fatalf("cancel exchange outcome %+v, want pending", x.Outcome)
	}
	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseProposalReturn, legacyReturn(t, rxID))
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	checkSubsequent(t, f, cancel, "0001")
	waitFor(t, "the journal to record its delivery", func() bool {
		x, _ = j.Backend().Get(context.Background(), cancel.messageID)
		for _, s := range x.Steps {
			if s.Kind == "delivery" && s.Interaction == v3.SubsequentCancelResponse && strings.Contains(s.Title, " delivered ") {
				return true
			}
		}
		return false
	})
	if x.Outcome.Result != "cancelled" || x.Outcome.Code != "0001" {
		t.Errorf("cancel exchange outcome %+v after the Subsequent Cancel Response, want cancelled 0001", x.Outcome)
	}
	_, page := get(t, g.adminBase(t)+"/admin/ui/exchange/"+cancel.messageID)
	_, answers, _ := strings.Cut(page, "<h4>Answer(s)</h4>")
	answers, _, _ = strings.Cut(answers, "</section>")
	if !strings.Contains(answers, v3.SubsequentCancelResponse) {
		t.Errorf("the page does not show the Subsequent Cancel Response among the answers:\n%.3000s", answers)
	}
}
