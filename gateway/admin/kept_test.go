package admin

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/journal"
)

// TestPageShowsAnswersKeptForTheirParty: with no routing table an async
// answer is kept in the journal for its party, and the page shows it with
// the exchange's answers. An answer processing made is also a v3-answer
// step; a Subsequent Cancel Response (made when a pending cancellation
// resolves) is only the kept delivery step, whose body the page left out:
// the page said "kept for P1" and showed nothing of what was kept.
func TestPageShowsAnswersKeptForTheirParty(t *testing.T) {
	base, j := serveAdmin(t)
	const (
		ack       = `<MCCI_IN010000UK13><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`
		cancelled = `<PORX_IN050102UK32><text>subsequent-cancel-response-0001</text></PORX_IN050102UK32>`
	)
	j.Record(journal.Event{Exchange: "C1", Interaction: "PORX_IN030101UK32", Party: "P1",
		Step: &journal.Step{Kind: journal.StepLegacyRequest, Body: `<PORX_IN030101UK32/>`}})
	j.Record(journal.Event{Exchange: "C1", Step: &journal.Step{Kind: journal.StepV3Answer, Interaction: "MCCI_IN010000UK13", Body: ack}})
	for _, body := range []string{ack, cancelled} {
		j.Record(journal.Event{Exchange: "C1", Step: &journal.Step{Kind: journal.StepDelivery, Title: "answer kept for P1 (no routing table)",
			Note: "no routing table is configured (--routes): kept here for party P1", ContentType: "application/xml", Body: body}})
	}
	written(t, j)
	code, page := getAs(t, base, "reader-token-0123456789", PathPageExchange+"C1")
	_, v3, _ := strings.Cut(page, `id="v3-side"`)
	v3, _, _ = strings.Cut(v3, "</section>")
	if code != 200 || !strings.Contains(v3, "subsequent-cancel-response-0001") {
		t.Errorf("page %d: the Subsequent Cancel Response kept for P1 is not among the answers:\n%s", code, v3)
	}
	if n := strings.Count(v3, "MCCI_IN010000UK13&gt;"); n != 2 {
		t.Errorf("the acknowledgement, recorded as answered and as kept, is shown %d times, want once (its open and close tags):\n%s", n/2, v3)
	}
}
