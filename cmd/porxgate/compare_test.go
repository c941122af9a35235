package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/spinesim"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// recordExchange records one prescription with the Spine stand-in's answer
// into dir, as NAME.request.xml and NAME.answer.xml.
func recordExchange(t *testing.T, dir, name, fixture string) {
	t.Helper()
	body, err := os.ReadFile("../../testdata/prescribe/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	req, err := prescribe.PrescribeToV3(body, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: spinesim.New(spinesim.Options{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	id := strings.ToUpper(ids.NewUUID())
	a, err := (&compare.Legacy{URL: "http://" + ln.Addr().String()}).Call(context.Background(), compare.Request{
		Interaction: v3.ParentPrescription, Service: ebxml.ServiceMM, MessageID: id, Payload: req})
	if err != nil {
		t.Fatal(err)
	}
	for suffix, b := range map[string][]byte{compare.RequestSuffix: req, compare.AnswerSuffix: a.Payload} {
		if err := os.WriteFile(filepath.Join(dir, name+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompareCommand replays recorded exchanges against the FHIR path (the
// built-in simulator): matching answers exit 0; an answer that differs
// from Spine's recording is reported with the difference and exits 1.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	recordExchange(t, dir, "02-dental", "repeat-prescribing-dental-four-items.json")
	code, out, errOut := runCmd(t, "", "compare", "--dir", dir)
	if code != 0 || strings.Count(out, "match   ") != 2 || !strings.Contains(out, "PORX_IN020101UK31    match 2") {
		t.Fatalf("compare = %d\n%s\n%s", code, out, errOut)
	}
	ans := filepath.Join(dir, "02-dental"+compare.AnswerSuffix)
	b, _ := os.ReadFile(ans)
	if err := os.WriteFile(ans, bytes.Replace(b, []byte(`typeCode="AA"`), []byte(`typeCode="AR"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "", "compare", "--dir", dir, "--json")
	if code != 1 || !strings.Contains(out, `"result": "differ"`) || !strings.Contains(out, "spine has AR, fhir has AA") {
		t.Fatalf("compare after a change = %d\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "compare", "--dir", t.TempDir()); code != 1 || !strings.Contains(errOut, "no *.request.xml") {
		t.Errorf("empty folder = %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "compare"); code != 2 {
		t.Errorf("no --dir = %d, want 2", code)
	}
}

// TestCompareCommandJournals: with --redis, each replayed exchange goes
// into that Redis's exchange journal with its request, the FHIR path's
// EPS call and answer, Spine's recorded answer and the comparison, where a
// gateway's admin page on the same Redis finds it.
func TestCompareCommandJournals(t *testing.T) {
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	ans := filepath.Join(dir, "01-acute"+compare.AnswerSuffix)
	b, _ := os.ReadFile(ans)
	if err := os.WriteFile(ans, bytes.Replace(b, []byte(`typeCode="AA"`), []byte(`typeCode="AE"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t)
	code, out, errOut := runCmd(t, "", "compare", "--dir", dir, "--redis", rs.URL())
	if code != 1 || !strings.Contains(out, "differ") {
		t.Fatalf("compare = %d\n%s\n%s", code, out, errOut)
	}
	ctx := context.Background()
	cfg := gateway.DefaultConfig()
	cfg.RedisURL = rs.URL()
	st, err := gateway.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jr := gateway.OpenJournal(cfg, st, gateway.NewMetrics(), slog.New(slog.DiscardHandler))
	if jr == nil || jr.Backend().Kind() != "redis" {
		t.Fatalf("no Redis journal over %s", rs.URL())
	}
	list, err := jr.Backend().Search(ctx, journal.Query{Outcome: "differ"})
	if err != nil || len(list) != 1 {
		t.Fatalf("journal search for differ: %v %+v", err, list)
	}
	x, err := jr.Backend().Get(ctx, list[0].ID)
	if err != nil || x == nil {
		t.Fatalf("exchange %s: %v", list[0].ID, err)
	}
	var kinds []string
	for _, s := range x.Steps {
		kinds = append(kinds, s.Kind)
	}
	got := strings.Join(kinds, " ")
	for _, want := range []string{journal.StepLegacyRequest, journal.StepFHIRRequest, journal.StepEPSAnswer, journal.StepV3Answer, journal.StepShadow} {
		if !strings.Contains(got, want) {
			t.Errorf("exchange steps %q lack %s", got, want)
		}
	}
	if x.Comparison == nil || x.Comparison.Result != "differ" || len(x.Comparison.Differences) == 0 {
		t.Fatalf("comparison %+v", x.Comparison)
	}
	// The comparison says the legacy path is primary; the page diffs the
	// exchange's answer (the primary's) with the shadow answer: Spine's
	// recorded answer is the former, the FHIR path's the latter, and the
	// exchange's outcome is Spine's (AE: rejected).
	if x.Comparison.Primary != "legacy" {
		t.Errorf("comparison primary %q, want legacy", x.Comparison.Primary)
	}
	for _, s := range x.Steps {
		switch {
		case s.Kind == journal.StepV3Answer && !strings.Contains(s.Body, `typeCode="AE"`):
			t.Errorf("the exchange's answer (%s) is not Spine's recorded AE", s.Title)
		case s.Kind == journal.StepShadow && !strings.Contains(s.Body, `typeCode="AA"`):
			t.Errorf("the shadow answer (%s) is not the FHIR path's AA", s.Title)
		}
	}
	if x.Outcome.Result != "rejected" {
		t.Errorf("outcome %+v, want Spine's (rejected)", x.Outcome)
	}
}
