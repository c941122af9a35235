package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestDeadLettersCommand lists, shows and resends a dead letter of a gateway
// served on loopback, through its admin API.
func TestDeadLettersCommand(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)
	now := time.Now()
	d, err := outbox.NewAnswer(outbox.Addressing{OurParty: "YES-0000806", TheirParty: "FCG71-807", CPAID: "S20001A000100", ConversationID: "C1", RefToMessageID: "R1"},
		"MCCI_IN010000UK13", []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`), "D0000000-0000-4000-8000-000000000001", now)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := d.Item(now)
	_ = st.Enqueue(ctx, it)
	l, _ := st.Claim(ctx, outbox.Queue, now, time.Minute)
	dl := outbox.DeadLetter{At: now, Stage: outbox.StageDelivery, Kind: d.Kind, MessageID: d.MessageID, Interaction: d.Interaction,
		Party: d.Party, Reason: "no route", ContentType: d.ContentType, SOAPAction: d.SOAPAction, Body: d.Body}
	if err := st.Complete(ctx, l, store.Finish{DeadLetter: dl.Encode()}); err != nil {
		t.Fatal(err)
	}
	cfg := gateway.DefaultConfig()
	cfg.Admin.Token = "dead-letter-test-token"
	srv := gateway.NewServer(cfg, st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), gateway.NewMetrics())
	as, err := srv.AdminServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = as.App().Listener(ln) }()
	t.Cleanup(func() { _ = as.App().ShutdownWithContext(ctx) })
	admin := "http://" + ln.Addr().String()
	if code, _, errOut := runCmd(t, "", "deadletters", "--admin", admin, "list"); code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("without a token: code %d stderr %s, want 1 and 401", code, errOut)
	}

	code, out, errOut := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "list")
	id := "delivery:" + d.MessageID
	if code != 0 || !strings.Contains(out, "no route") || !strings.Contains(out, `"id": "`+id+`"`) {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "", "deadletters", "show", id, "--admin", admin, "--admin-token", cfg.Admin.Token); code != 0 || !strings.Contains(out, `"body"`) {
		t.Fatalf("show: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "resend", "--party", "FCG71-807"); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("resend: %d %s %s", code, out, errOut)
	}
	if n, _ := st.QueueLen(ctx, outbox.Queue); n != 1 {
		t.Errorf("outbox holds %d after the resend, want 1", n)
	}
	if code, _, errOut := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "resend", id); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("second resend: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "resend"); code != 2 {
		t.Errorf("resend without id or party: %d, want 2", code)
	}
}
