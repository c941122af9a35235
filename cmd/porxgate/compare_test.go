package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
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

// TestCompareInterruptedFails: a replay stopped part way (the signal comes
// while the second exchange's EPS call is in flight) reported what it had
// compared and, when that matched, exited 0: a CI job read a partial
// comparison as a pass. It now exits 1 and says how far it got, on stderr
// and in the report (text or JSON).
func TestCompareInterruptedFails(t *testing.T) {
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	recordExchange(t, dir, "02-dental", "repeat-prescribing-dental-four-items.json")
	recordExchange(t, dir, "03-repeat", "repeat-dispensing-pharmacist-endorsed.json")
	for _, asJSON := range []bool{false, true} {
		simSrv := httptest.NewServer(sim.New(sim.Options{Logger: slog.New(slog.DiscardHandler)}).Handler())
		target, err := url.Parse(simSrv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		rp := httputil.NewSingleHostReverseProxy(target)
		release := make(chan struct{})
		var calls atomic.Int32
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && calls.Add(1) == 2 {
				cancel() // the signal, while this call is in flight
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			rp.ServeHTTP(w, r)
		}))
		args := []string{"--dir", dir, "--upstream", proxy.URL + "/FHIR/R4"}
		if asJSON {
			args = append(args, "--json")
		}
		var out, errb bytes.Buffer
		code := compareCmd(ctx, args, &out, &errb, func(string) string { return "" })
		cancel()
		close(release)
		proxy.Close()
		simSrv.Close()
		if code != 1 {
			t.Errorf("json %v: interrupted compare exited %d, want 1\n%s\n%s", asJSON, code, out.String(), errb.String())
		}
		if want := "porxgate compare: interrupted: 1 of 3 exchanges compared; 02-dental cut short; 1 not run"; !strings.Contains(errb.String(), want) {
			t.Errorf("json %v: stderr lacks %q:\n%s\n%s", asJSON, want, errb.String(), out.String())
		}
		if want := `"interrupted": true`; asJSON && !strings.Contains(out.String(), want) {
			t.Errorf("the JSON report lacks %s:\n%s", want, out.String())
		}
		if !asJSON && !strings.Contains(out.String(), "match   01-acute") {
			t.Errorf("the report lacks the exchange compared before the stop:\n%s", out.String())
		}
	}
}

// TestCompareInterruptedWhileStarting: a signal while the command opens
// its journal's Redis, its upstream or its processor ended it with that
// step's error ("journal store: redis ping: context canceled"), not
// saying it was interrupted nor how far it got. It now says so, exit 1.
func TestCompareInterruptedWhileStarting(t *testing.T) {
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	rs := redistest.Start(t)
	for _, args := range [][]string{{"--dir", dir}, {"--dir", dir, "--redis", rs.URL()}} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the signal, before anything is open
		var out, errb bytes.Buffer
		code := compareCmd(ctx, args, &out, &errb, func(string) string { return "" })
		if want := "porxgate compare: interrupted: 0 of 1 exchanges compared"; code != 1 || !strings.Contains(errb.String(), want) {
			t.Errorf("%v: code %d, stderr %q; want 1 and %q", args, code, errb.String(), want)
		}
	}
}

// TestCompareCommandPermanentFailureIsARefusal: a request the FHIR path
// fails for good (here a cancel request it cannot read) was reported by
// the offline replay as an "error", where online comparison compares it
// as the refusal its sender gets (an eb:MessageError Unknown 910009): the
// two modes said different things of one message. The replay now takes
// the FHIR path's outcome as online comparison does.
func TestCompareCommandPermanentFailureIsARefusal(t *testing.T) {
	const cancelReq = `<PORX_IN030101UK32 xmlns="urn:hl7-org:v3"><id root="A1B2C3D4-0000-4000-8000-000000000001"/></PORX_IN030101UK32>`
	soapReq, err := ebxml.BuildSOAPRequest(ebxml.SOAPRequest{MessageID: "6E2F1C2D-0000-4000-8000-000000000001", Action: ebxml.ServiceMM + "/PORX_IN030101UK32",
		To: "https://spine.example/syncservice-mm/mm", FromAddress: "https://prescriber.example", ReplyTo: "https://prescriber.example",
		ReceiverASID: "990101234567", SenderASID: "200000009876", Payload: []byte(cancelReq)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, request, answer, result, want string }{
		{"Spine answered", cancelReq, `<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><id root="A1B2C3D4-0000-4000-8000-000000000002"/></PORX_IN050101UK31>`,
			"differ", "fhir refused with ebXML MessageError Unknown (910009:the message could not be processed and was not passed on"},
		{"Spine refused", cancelReq, string(mustFault(t, "201", "The message is not well formed")), "differ", "SOAP fault code: spine has 201, fhir has Unknown"},
		// Recorded over SOAP its sender gets fault 300, as Spine gave.
		{"over SOAP, refused alike", string(soapReq), string(mustFault(t, "300", "The message could not be processed")), "match", ""},
		{"over SOAP, Spine answered", string(soapReq), `<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><id root="A1B2C3D4-0000-4000-8000-000000000002"/></PORX_IN050101UK31>`,
			"differ", "fhir refused with SOAP fault 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for suffix, b := range map[string]string{compare.RequestSuffix: tt.request, compare.AnswerSuffix: tt.answer} {
				if err := os.WriteFile(filepath.Join(dir, "01-cancel"+suffix), []byte(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut := runCmd(t, "", "compare", "--dir", dir)
			if wantCode := map[bool]int{true: 0, false: 1}[tt.result == "match"]; code != wantCode ||
				!strings.HasPrefix(out, fmt.Sprintf("%-7s 01-cancel", tt.result)) || !strings.Contains(out, tt.want) {
				t.Fatalf("compare = %d, want %s with %q\n%s\n%s", code, tt.result, tt.want, out, errOut)
			}
		})
	}
}

// mustFault is a SOAP fault as Spine answers one, with TMS error code.
func mustFault(t *testing.T, code, description string) []byte {
	t.Helper()
	b, err := ebxml.BuildSOAPFault(ebxml.SOAPFault{FaultCode: ebxml.FaultCodeServer, FaultString: "Application Exception",
		Errors: []ebxml.SOAPError{{CodeContext: ebxml.TMSCodeContext, Code: code, Severity: ebxml.SeverityError, Description: description}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
