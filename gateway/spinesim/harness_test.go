package spinesim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/spinesim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// Test parties.
const (
	senderParty = "FQ2KM-807341"
	spineParty  = "YES-0000806"
	senderCPA   = "S3024519A3110234"
	adminToken  = "test-admin-token-0123456789"
)

// quietLog discards logs unless PORXGATE_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("PORXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// serve serves h on a free loopback port until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// rig is a comparison run on loopback: porxgate (FHIR path to its own EPS
// simulator) with comparison mode against the Spine stand-in (its own
// state), the journal and the admin listener.
type rig struct {
	gateway string // front door base URL
	admin   string // admin listener base URL
	legacy  *spinesim.Server
	fhirSim *sim.Server
	journal *journal.Journal
	metrics *gateway.Metrics
}

// startRig starts a rig; alter injects differences on the legacy side.
func startRig(t *testing.T, primary string, alter func(string, []byte) []byte) *rig {
	t.Helper()
	log := quietLog()
	fhirSim := sim.New(sim.Options{Logger: log})
	simURL := serve(t, fhirSim.Handler())
	legacy := spinesim.New(spinesim.Options{Alter: alter, Log: log})
	legacyURL := serve(t, legacy)

	m := gateway.NewMetrics()
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{Registry: m.Registry, Log: log})
	client, err := upstream.New(upstream.Config{BaseURL: simURL + sim.DefaultBasePath, Tap: j.Tap}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	cc := gateway.CompareConfig{Primary: primary, Workers: 1, Timeout: 10 * time.Second}
	proc := gateway.NewComparing(cc, gateway.NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, log),
		&compare.Legacy{URL: legacyURL}, j, m, log)

	cfg := gateway.DefaultConfig()
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.Admin.Token = adminToken
	srv := gateway.NewServer(cfg, store.NewMemory(nil), nil, log, m, gateway.WithProcessor(proc), gateway.WithJournal(j))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeAndWork(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	addr := srv.AdminAddr(10 * time.Second)
	if addr == "" {
		t.Fatal("admin listener did not start")
	}
	return &rig{gateway: "http://" + ln.Addr().String(), admin: "http://" + addr, legacy: legacy, fhirSim: fhirSim, journal: j, metrics: m}
}

// prescription makes a legacy ParentPrescription from one of the
// project's FHIR fixtures; it returns the payload and its short-form id.
func prescription(t *testing.T, fixture string) []byte {
	t.Helper()
	body, err := os.ReadFile("../../testdata/prescribe/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := prescribe.PrescribeToV3(body, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatalf("making the legacy prescription: %v", err)
	}
	return payload
}

// send posts a prescription to the gateway's ebXML door and returns its MessageId.
func send(t *testing.T, r *rig, payload []byte) string {
	t.Helper()
	id := strings.ToUpper(ids.NewUUID())
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{FromPartyID: senderParty, ToPartyID: spineParty, CPAID: senderCPA,
		ConversationID: id, Action: v3.ParentPrescription, MessageID: id, Timestamp: time.Now().UTC(),
		AckRequested: true, SyncReply: true, DuplicateElimination: true, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.gateway+gateway.PathEbXML, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", ebxml.ServiceMM+"/"+v3.ParentPrescription)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("ebXML POST = %d\n%s", resp.StatusCode, b)
	}
	return id
}

// getJSON GETs an admin URL with the token and decodes the answer.
func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", url, err, b)
		}
	}
	return resp.StatusCode
}

// waitCompared waits until the exchange's comparison is in the journal.
func waitCompared(t *testing.T, r *rig, id string) journal.Exchange {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var x journal.Exchange
		if getJSON(t, r.admin+"/admin/api/exchanges/"+id, &x) == 200 && x.Comparison != nil && x.Comparison.Result != "" {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("exchange %s not compared in time: %+v", id, x)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// metric returns the text of /metrics lines containing s.
func metric(t *testing.T, r *rig, s string) string {
	t.Helper()
	resp, err := http.Get(r.gateway + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// fmtSteps lists an exchange's steps for failure messages.
func fmtSteps(x journal.Exchange) string {
	var b strings.Builder
	for _, s := range x.Steps {
		fmt.Fprintf(&b, "  %s %s %d %s\n", s.Kind, s.Title, s.Status, s.Note)
	}
	return b.String()
}

// legacyOnly issues a prescription in the legacy environment alone.
func (r *rig) legacyOnly(t *testing.T, payload []byte) {
	t.Helper()
	id := strings.ToUpper(ids.NewUUID())
	legacyURL := serve(t, r.legacy)
	a, err := (&compare.Legacy{URL: legacyURL}).Call(context.Background(), compare.Request{Interaction: v3.ParentPrescription,
		Service: ebxml.ServiceMM, MessageID: id, ConversationID: id, FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA, Payload: payload})
	if err != nil || !bytes.Contains(a.Payload, []byte(`typeCode="AA"`)) {
		t.Fatalf("legacy-only issue: %v\n%s", err, a.Payload)
	}
}
