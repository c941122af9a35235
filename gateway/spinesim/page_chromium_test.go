package spinesim_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/chromium"
)

// TestAdminPageInChromium uses the admin page as an operator would, in
// headless Chromium: the list shows the exchange, opening it shows the v3
// and FHIR payloads side by side and the comparison's difference, and the
// page refuses a browser without the token. It needs /usr/bin/chromium
// (Debian's chromium package; .ci/run installs it): it skips without it
// locally and fails under CI. Screenshots go to the test's temp dir (or
// PORXGATE_SCREENSHOTS), never into the repository.
func TestAdminPageInChromium(t *testing.T) {
	path := chromium.ForTest(t)
	alter := func(_ string, b []byte) []byte {
		return bytes.Replace(b, []byte(`typeCode="AA"`), []byte(`typeCode="AE"`), 1)
	}
	r := startRig(t, "fhir", alter)
	id := send(t, r, prescription(t, "acute-nurse-controlled-drug-unsigned.json"))
	waitCompared(t, r, id)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	shots := os.Getenv("PORXGATE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shot := func(name string) {
		png, err := b.Screenshot(ctx)
		if err == nil {
			_ = os.WriteFile(filepath.Join(shots, name+".png"), png, 0o600)
		}
	}
	text := func() string {
		var s string
		if err := b.Eval(ctx, "document.body.innerText", &s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// Without a token the browser gets the sign-in form, not patient data.
	if err := b.Navigate(ctx, r.admin+"/admin/ui/"); err != nil {
		t.Fatal(err)
	}
	if s := text(); !strings.Contains(s, "Sign in") || strings.Contains(s, id) {
		t.Fatalf("page without a token shows:\n%s", s)
	}
	// Signing in with the form (token from the URL fragment) lands on the list.
	if err := b.Navigate(ctx, r.admin+"/admin/ui/login#token="+adminToken); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, b, "Exchanges")
	shot("list")
	var link string
	if err := b.Eval(ctx, `(document.querySelector("#exchanges a.exchange")||{}).href||""`, &link); err != nil || !strings.Contains(link, id) {
		t.Fatalf("the list has no link to exchange %s (%v): %q\n%s", id, err, link, text())
	}
	for _, want := range []string{"PORX_IN020101UK31", "differ", "Circuit breakers", "Pending cancellations", "Dead letters", "Rates, last hour"} {
		if s := text(); !strings.Contains(s, want) {
			t.Errorf("list page lacks %q:\n%s", want, s)
		}
	}
	// Open it by clicking, as a person does.
	if err := b.Eval(ctx, `document.querySelector("#exchanges a.exchange").click()`, nil); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, b, "Side by side")
	if err := b.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	shot("exchange")
	var v3Side, fhirSide, diffs, outcome string
	for expr, dst := range map[string]*string{
		`document.querySelector("#v3-side").innerText`:     &v3Side,
		`document.querySelector("#fhir-side").innerText`:   &fhirSide,
		`document.querySelector("#differences").innerText`: &diffs,
		`document.querySelector("#outcome").innerText`:     &outcome,
	} {
		if err := b.Eval(ctx, expr, dst); err != nil {
			t.Fatalf("%s: %v\n%s", expr, err, text())
		}
	}
	if !strings.Contains(v3Side, "<PORX_IN020101UK31") || !strings.Contains(v3Side, "<MCCI_IN010000UK13") {
		t.Errorf("v3 side lacks the pretty-printed request and answer:\n%.2000s", v3Side)
	}
	if !strings.Contains(fhirSide, `"resourceType": "Bundle"`) || !strings.Contains(fhirSide, "$process-message") {
		t.Errorf("FHIR side lacks the pretty-printed Bundle sent to $process-message:\n%.2000s", fhirSide)
	}
	if !strings.Contains(diffs, "fhir has AA, legacy has AE") {
		t.Errorf("comparison difference not shown: %q", diffs)
	}
	if !strings.Contains(outcome, "Accepted") {
		t.Errorf("outcome in plain words: %q", outcome)
	}
	// Looking at the exchange was itself journalled.
	var acc struct {
		Accesses []struct{ Who, What string }
	}
	getJSON(t, r.admin+"/admin/api/access", &acc)
	seen := false
	for _, a := range acc.Accesses {
		if strings.Contains(a.What, "/admin/ui/exchange/"+id) && strings.Contains(a.Who, "token:env") {
			seen = true
		}
	}
	if !seen {
		t.Errorf("the look at exchange %s is not in the access journal: %+v", id, acc.Accesses)
	}
}

// waitText waits until the page's text contains s.
func waitText(ctx context.Context, t *testing.T, b *chromium.Browser, s string) {
	t.Helper()
	var last string
	for {
		_ = b.Eval(ctx, "document.body ? document.body.innerText : ''", &last)
		if strings.Contains(last, s) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("page never showed %q:\n%.3000s", s, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
