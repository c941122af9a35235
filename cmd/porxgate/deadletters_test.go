package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/testpki"
)

// startDeadLetterAdmin serves the admin listener of a gateway configured
// by cfg (over TLS with tc, when not nil) on loopback, its store holding
// one dead letter of party FCG71-807; it returns the listener's URL, the
// store and the dead letter's id.
func startDeadLetterAdmin(t *testing.T, cfg gateway.Config, tc *tls.Config) (string, *store.Memory, string) {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory(nil)
	now := time.Now()
	d, err := outbox.NewAnswer(outbox.Addressing{OurParty: "YES-0000806", TheirParty: "FCG71-807", CPAID: "S20001A000100", ConversationID: "C1", RefToMessageID: "R1"},
		"MCCI_IN010000UK13", []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`), "D0000000-0000-4000-8000-000000000001", now)
	if err != nil {
		t.Fatal(err)
	}
	addDeadLetter(t, st, outbox.DeadLetter{At: now, Stage: outbox.StageDelivery, Kind: d.Kind, MessageID: d.MessageID, Interaction: d.Interaction,
		Party: d.Party, Reason: "no route", ContentType: d.ContentType, SOAPAction: d.SOAPAction, Body: d.Body})
	srv := gateway.NewServer(cfg, st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), gateway.NewMetrics())
	as, err := srv.AdminServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if tc != nil {
		ln, scheme = tls.NewListener(ln, tc), "https://"
	}
	go func() { _ = as.App().Listener(ln) }()
	t.Cleanup(func() { _ = as.App().ShutdownWithContext(ctx) })
	return scheme + ln.Addr().String(), st, "delivery:" + d.MessageID
}

// addDeadLetter gives st the dead letter dl, as the workers do: an item
// queued, claimed and completed with it.
func addDeadLetter(t *testing.T, st *store.Memory, dl outbox.DeadLetter) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := st.Enqueue(ctx, store.Item{Queue: "test-dead", ID: dl.MessageID, Data: []byte("x"), Due: now}); err != nil {
		t.Fatal(err)
	}
	l, err := st.Claim(ctx, "test-dead", now, time.Minute)
	if err != nil || l == nil {
		t.Fatalf("claim %s: %v %v", dl.MessageID, l, err)
	}
	if err := st.Complete(ctx, l, store.Finish{DeadLetter: dl.Encode()}); err != nil {
		t.Fatal(err)
	}
}

// TestDeadLettersCommandResendNotDone: a resend that resends nothing (the
// dead letter cannot be resent: kept without its inbox entry, say, or
// another operator resent it at the same moment) was answered 200, so
// `porxgate deadletters resend` exited 0 and the page said "resent". It
// is now answered 409 with each dead letter's reason, and the command
// exits 1; a party's resend that resends some still succeeds, saying
// which were not.
func TestDeadLettersCommandResendNotDone(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.Admin.Token = "dead-letter-test-token"
	admin, st, id := startDeadLetterAdmin(t, cfg, nil)
	addDeadLetter(t, st, outbox.DeadLetter{At: time.Now(), Stage: outbox.StageProcessing, MessageID: "NO-ENTRY",
		Interaction: "PORX_IN020101SM31", Party: "FCG71-807", Reason: "test"})
	const stuck = "processing:NO-ENTRY"
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runCmd(t, "", append([]string{"deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin}, args...)...)
	}
	if code, out, errOut := run("resend", stuck); code != 1 || !strings.Contains(errOut, "409") || !strings.Contains(errOut, "without its inbox entry") {
		t.Errorf("resend of a dead letter that cannot be resent: exit %d, stdout %s, stderr %s; want 1, 409 and why", code, out, errOut)
	}
	code, out, errOut := run("resend", "--party", "FCG71-807")
	if code != 0 || !strings.Contains(out, `"resent": [`+"\n"+`    "`+id+`"`) || !strings.Contains(out, stuck) {
		t.Errorf("resend of a party, one of two resendable: exit %d, stdout %s, stderr %s; want 0, %s resent and %s skipped", code, out, errOut, id, stuck)
	}
	if code, _, errOut := run("resend", "--party", "FCG71-807"); code != 1 || !strings.Contains(errOut, "409") {
		t.Errorf("resend of a party none of whose dead letters can be resent: exit %d, stderr %s; want 1 and 409", code, errOut)
	}
}

// TestDeadLettersCommand lists, shows and resends a dead letter of a gateway
// served on loopback, through its admin API.
func TestDeadLettersCommand(t *testing.T) {
	ctx := context.Background()
	cfg := gateway.DefaultConfig()
	cfg.Admin.Token = "dead-letter-test-token"
	admin, st, id := startDeadLetterAdmin(t, cfg, nil)
	if code, _, errOut := runCmd(t, "", "deadletters", "--admin", admin, "list"); code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("without a token: code %d stderr %s, want 1 and 401", code, errOut)
	}

	code, out, errOut := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "list")
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

// TestDeadLettersCommandOverTLS: the command reaches an admin listener
// served over TLS with a certificate of the deployment's own CA
// (--admin-ca), and one that grants the admin role to a client certificate
// (--admin-cert, --admin-key) with no token at all. Before, the command
// called with net/http's default client: the listener's certificate was
// refused (x509: unknown authority) and no client certificate could be
// given, so an operator could not list or resend dead letters of such a
// gateway from the command line.
func TestDeadLettersCommandOverTLS(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := testpki.NewCA(t, "admin CA")
	srvCert, srvKey := ca.Issue(t, testpki.Cert{Name: "admin", Server: true})
	opsCert, opsKey := ca.Issue(t, testpki.Cert{Name: "ops-desk"})
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	cfg := gateway.DefaultConfig()
	cfg.Admin.Token = "dead-letter-test-token"
	cfg.Admin.ClientCAFile = write("ca.pem", ca.PEM)
	cfg.Admin.CertRoles = "ops-desk=admin"
	admin, st, id := startDeadLetterAdmin(t, cfg, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
		ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven})
	caFile := cfg.Admin.ClientCAFile

	if code, _, errOut := runCmd(t, "", "deadletters", "--admin-token", cfg.Admin.Token, "--admin", admin, "list"); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without the CA: code %d stderr %s, want 1 and a certificate error", code, errOut)
	}
	code, out, errOut := runCmd(t, "", "deadletters", "--admin-ca", caFile, "--admin-token", cfg.Admin.Token, "--admin", admin, "list")
	if code != 0 || !strings.Contains(out, `"id": "`+id+`"`) {
		t.Fatalf("list over TLS with the CA: %d %s %s", code, out, errOut)
	}
	certArgs := []string{"deadletters", "--admin", admin, "--admin-ca", caFile,
		"--admin-cert", write("ops.pem", opsCert), "--admin-key", write("ops.key", opsKey)}
	if code, out, errOut := runCmd(t, "", append(certArgs, "resend", id)...); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("resend with the client certificate alone: %d %s %s", code, out, errOut)
	}
	if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 1 {
		t.Errorf("outbox holds %d after the resend, want 1", n)
	}
	if code, _, errOut := runCmd(t, "", "deadletters", "--admin", admin, "--admin-cert", caFile, "list"); code != 2 || !strings.Contains(errOut, "key") {
		t.Errorf("--admin-cert without --admin-key: %d %s, want 2", code, errOut)
	}
}
