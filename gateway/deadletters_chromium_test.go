package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/internal/chromium"
)

// TestDeadLetterResendFromThePage: an operator with the admin role sees a
// dead letter on the admin page, mends the route and presses its "this
// one" button in headless Chromium; the MHS gets the same message once and
// the dead letter is gone. A reader sees the dead letter without the
// buttons. Needs /usr/bin/chromium (skips locally without it, fails under
// CI).
func TestDeadLetterResendFromThePage(t *testing.T) {
	path := chromium.ForTest(t)
	cfg := testConfig()
	cfg.Admin.NoAuth = false
	cfg.Admin.Token = pageAdminToken
	g, mhs := deadLetteringGateway(t, cfg)
	req := newReq(newID(t, 41))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := signedIn(ctx, t, path, g.adminBase(t))
	eval := func(expr string, out any) {
		t.Helper()
		if err := b.Eval(ctx, expr, out); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	// The list is drawn by the server: reload until the dead letter is there.
	var id string
	waitFor(t, "the dead letter on the page", func() bool {
		if err := b.Navigate(ctx, g.adminBase(t)+"/admin/ui/"); err != nil {
			t.Fatal(err)
		}
		_ = b.Eval(ctx, `(document.querySelector("button.resend[data-id]")||{dataset:{}}).dataset.id||""`, &id)
		return id != ""
	})
	if id == "" || !strings.HasPrefix(id, "delivery:") {
		t.Fatalf("dead letter id %q, want delivery:<MessageId>", id)
	}
	msgID := strings.TrimPrefix(id, "delivery:")
	var buttons int
	eval(`document.querySelectorAll("button.resend").length`, &buttons)
	if buttons != 2 {
		t.Fatalf("%d resend buttons for one dead letter, want 2 (this one, all of the party)", buttons)
	}
	mhs.setMode("ack")
	eval(`document.querySelector("button.resend[data-id]").click()`, nil)
	waitFor(t, "the resent answer at the MHS", func() bool { return len(mhs.messages()) == 2 })
	if got := mhs.messages(); got[1].msg == nil || got[1].msg.MessageID != got[0].msg.MessageID {
		t.Errorf("the page resent another message than the one given up on")
	}
	var result string
	waitFor(t, "the page to say it was resent", func() bool {
		_ = b.Eval(ctx, `(document.querySelector("#resend-result")||{}).innerText||""`, &result)
		return strings.HasPrefix(result, "resent")
	})
	if !strings.Contains(result, id) {
		t.Errorf("the page says %q, want it to name %s", result, id)
	}
	waitFor(t, "the dead letter to leave the page", func() bool {
		var s string
		_ = b.Eval(ctx, `document.body ? document.body.innerText : ""`, &s)
		return strings.Contains(s, "Live state") && !strings.Contains(s, msgID)
	})
}

// TestDeadLetterResendRefusesAnotherSitesForm: an operator signed in to
// the admin page (its cookie is SameSite=Strict) opens a page of another
// web server on the same host, as any other intranet service on the
// admin listener's site could be; that page posts a form to the resend
// action. The admin listener refuses it and the dead letter stays. It
// used to resend: the cookie went with the form (same site), and the
// body, sent as text/plain, was read as JSON.
func TestDeadLetterResendRefusesAnotherSitesForm(t *testing.T) {
	path := chromium.ForTest(t)
	cfg := testConfig()
	cfg.Admin.NoAuth = false
	cfg.Admin.Token = pageAdminToken
	g, mhs := deadLetteringGateway(t, cfg)
	req := newReq(newID(t, 42))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	admin := g.adminBase(t)
	deadLetters := func() []string {
		raw, err := g.srv.store.DeadLetters(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, b := range raw {
			if dl, err := outbox.DecodeDeadLetter(b); err == nil {
				ids = append(ids, dl.ID)
			}
		}
		return ids
	}
	var id string
	waitFor(t, "the dead letter", func() bool {
		if dls := deadLetters(); len(dls) == 1 {
			id = dls[0]
		}
		return id != ""
	})
	mhs.setMode("ack") // the route is mended: a resend would be delivered
	// Another site's page: a form that posts the JSON body as text/plain
	// (no preflight), sent as the page loads.
	form := `<!doctype html><html><body><form id="f" method="post" enctype="text/plain" action="` + admin + PathDeadLetterResend + `">` +
		`<input type="hidden" name='{"id":"` + id + `","x":"' value='"}'></form><script>document.getElementById("f").submit()</script></body></html>`
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, form)
	}))
	defer other.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := signedIn(ctx, t, path, admin)
	if err := b.Navigate(ctx, other.URL+"/"); err != nil {
		t.Fatal(err)
	}
	var answer string
	waitFor(t, "the form's answer", func() bool {
		var loc string
		_ = b.Eval(ctx, `location.href`, &loc)
		_ = b.Eval(ctx, `document.body ? document.body.innerText : ""`, &answer)
		return strings.HasPrefix(loc, admin) && answer != ""
	})
	if strings.Contains(answer, "resent") || !strings.Contains(answer, "another site") {
		t.Errorf("the admin listener answered another site's form with %q, want a refusal", answer)
	}
	if dls := deadLetters(); len(dls) != 1 || dls[0] != id {
		t.Errorf("dead letters after another site's form: %+v, want %s still there", dls, id)
	}
	if n := len(mhs.messages()); n != 1 {
		t.Errorf("the MHS got %d messages, want only the first attempt", n)
	}
}

// pageAdminToken is the admin token of the page tests' gateways.
const pageAdminToken = "page-admin-token-0123456789"

// signedIn starts Chromium (path) for the test and signs it in to the
// admin page at admin with pageAdminToken, as an operator does.
func signedIn(ctx context.Context, t *testing.T, path, admin string) *chromium.Browser {
	t.Helper()
	b, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Navigate(ctx, admin+"/admin/ui/login#token="+pageAdminToken); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "signed in", func() bool {
		var s string
		_ = b.Eval(ctx, `document.body ? document.body.innerText : ""`, &s)
		return strings.Contains(s, "Live state")
	})
	return b
}
