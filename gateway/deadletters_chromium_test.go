package gateway

import (
	"context"
	"net/http"
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
	mhs := startMHS(t, "fail")
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 0, "retryInterval": "20ms", "persistDuration": "1m"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Admin.NoAuth = false
	cfg.Admin.Token = "page-admin-token-0123456789"
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(newFakeProcessor()), WithRoutes(r))
	req := newReq(newID(t, 41))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := chromium.Start(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	eval := func(expr string, out any) {
		t.Helper()
		if err := b.Eval(ctx, expr, out); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	if err := b.Navigate(ctx, g.adminBase(t)+"/admin/ui/login#token="+cfg.Admin.Token); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "signed in", func() bool {
		var s string
		_ = b.Eval(ctx, `document.body ? document.body.innerText : ""`, &s)
		return strings.Contains(s, "Live state")
	})
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
