package admin

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/chromium"
)

// TestOlderPageKeepsItsBoundInTheForm: the page of older exchanges (the
// list's "Older ones" link, to=<the oldest shown, RFC 3339 with
// nanoseconds>) put that bound into the form's datetime-local input as it
// came, a value the browser refuses and empties: searching again from
// that page (another outcome, the same search) silently dropped the bound
// and listed the newest 100 exchanges again. In headless Chromium, the
// older page's form holds the bound, and searching again with it lists
// the older exchanges.
func TestOlderPageKeepsItsBoundInTheForm(t *testing.T) {
	path := chromium.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := journal.NewMemory(journal.Retention{})
	now := time.Now().UTC()
	const n = 105
	for i := range n {
		if err := b.Apply(ctx, journal.Event{Exchange: "M" + strconv.Itoa(i), At: now.Add(-time.Duration(n-i)*time.Second - 123456789),
			Interaction: "PORX_IN020101UK31", IDs: journal.IDs{NHSNumbers: []string{"9449304130"}},
			Step: &journal.Step{Kind: journal.StepLegacyRequest, Body: "<x/>"}}); err != nil {
			t.Fatal(err)
		}
	}
	base := listen(t, New(AuthConfig{NoAuth: true}, Deps{Journal: journal.New(b, journal.Options{})}))
	br, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if err := br.Navigate(ctx, base+PathPage+"?id=9449304130"); err != nil {
		t.Fatal(err)
	}
	var older string
	if err := br.Eval(ctx, `document.getElementById("older").href`, &older); err != nil {
		t.Fatal(err)
	}
	if err := br.Navigate(ctx, older); err != nil {
		t.Fatal(err)
	}
	type listing struct {
		To        string `json:"to"`
		Valid     bool   `json:"valid"`
		Exchanges int    `json:"exchanges"`
		URL       string `json:"url"`
	}
	const look = `({to: document.querySelector("input[name=to]").value, valid: document.querySelector("form.search").checkValidity(),
		exchanges: document.querySelectorAll("a.exchange").length, url: location.href})`
	var got listing
	if err := br.Eval(ctx, look, &got); err != nil {
		t.Fatal(err)
	}
	if got.Exchanges != 5 || got.To == "" || !got.Valid {
		t.Fatalf("older page %s: %d exchanges, the form's to %q (valid %v); want 5 and the bound", got.URL, got.Exchanges, got.To, got.Valid)
	}
	// Search again as the operator does: the button, with the form's checks.
	if err := br.Eval(ctx, `window.__before = 1; document.querySelector("form.search button").click()`, nil); err != nil {
		t.Fatal(err)
	}
	for {
		var done bool
		if err := br.Eval(ctx, `!window.__before && document.readyState === "complete"`, &done); err == nil && done {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the search from the older page did not load")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := br.Eval(ctx, look, &got); err != nil {
		t.Fatal(err)
	}
	// The input holds the bound to the millisecond, rounded up (the end is
	// exclusive): the oldest of the first page comes again, nothing is lost.
	if got.Exchanges != 6 {
		t.Errorf("searching again from the older page (%s) lists %d exchanges; want the 5 older ones and the oldest of the first page", got.URL, got.Exchanges)
	}
}
