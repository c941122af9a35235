package admin

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/chromium"
)

// markup is what a sender, EPS or a failing route could put in any field
// the page shows: an element, an attribute break-out and a script.
const markup = `<img src=x id=injected>"'><b id=injected2>x</b><script>window.__scriptRan=1</script>`

// TestPagesShowMessageContentAsText: message content shown on the pages
// (ids, interaction, party, payloads, headers, notes, outcome text,
// comparison differences, dead-letter reasons, search parameters) is
// text, never markup, in headless Chromium: no element it names appears,
// no script it holds runs, and the text reads as it came.
func TestPagesShowMessageContentAsText(t *testing.T) {
	path := chromium.ForTest(t)
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go j.Run(ctx)
	id := "M1" + markup
	j.Record(journal.Event{Exchange: id, Interaction: "PORX" + markup, Party: "P" + markup, Transport: "ebxml",
		IDs: journal.IDs{PrescriptionIDs: []string{"RX" + markup}, ConversationID: "C" + markup},
		Step: &journal.Step{Kind: journal.StepLegacyRequest, Title: "T" + markup, Headers: map[string]string{"H" + markup: "V" + markup},
			Body: "<PORX_IN020101UK31><text>" + strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(markup) + "</text></PORX_IN020101UK31>"}})
	j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepV3Answer, Body: `{"note": "` + strings.ReplaceAll(markup, `"`, `\"`) + `"}`},
		Outcome: &journal.Outcome{Result: "rejected", Code: "C" + markup, Text: "O" + markup}})
	j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepShadow, Body: "not xml " + markup, Note: "N" + markup},
		Comparison: &journal.Comparison{Result: "differ", Primary: "fhir", Differences: []string{"D" + markup}, Error: "E" + markup}})
	j.Record(journal.Event{Exchange: id, Step: &journal.Step{Kind: journal.StepFault, Title: "F" + markup, Note: "N" + markup}})
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	live := func(context.Context) State {
		return State{Upstream: "U" + markup, Comparison: "fhir" + markup, Problems: []string{"P" + markup},
			Breakers:        map[string]string{"B" + markup: "open" + markup},
			DeadLetters:     []DeadLetter{{ID: "delivery:" + markup, Stage: "delivery", MessageID: "DL" + markup, Party: "DP" + markup, Reason: "R" + markup}},
			DeadLetterCount: 1}
	}
	s := New(AuthConfig{NoAuth: true}, Deps{Journal: j, Live: live})
	base := listen(t, s)

	b, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, page := range []string{
		PathPage + "?id=" + url.QueryEscape(markup) + "&interaction=" + url.QueryEscape(markup),
		PathPage,
		PathPageExchange + url.PathEscape(id),
	} {
		if err := b.Navigate(ctx, base+page); err != nil {
			t.Fatal(err)
		}
		var res struct {
			Elements int    `json:"elements"`
			Ran      bool   `json:"ran"`
			Text     string `json:"text"`
			HTML     string `json:"html"`
		}
		if err := b.Eval(ctx, `({elements: document.querySelectorAll("#injected, #injected2").length, ran: !!window.__scriptRan,
			text: document.body.innerText + " " + Array.from(document.querySelectorAll("input")).map(i => i.value).join(" "),
			html: document.documentElement.outerHTML})`, &res); err != nil {
			t.Fatal(err)
		}
		if res.Elements != 0 || res.Ran {
			t.Errorf("%s: markup from the messages became the page's (%d elements, script ran %v)", page, res.Elements, res.Ran)
		}
		if !strings.Contains(res.Text, markup) {
			t.Errorf("%s: the content does not read as it came (%q nowhere in the text)", page, markup)
		}
		if t.Failed() {
			t.Logf("%s:\n%s", page, res.HTML)
		}
	}
}
