package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// trackerRig is the gateway serving the legacy tracker in front of the EPS
// simulator, both on loopback sockets.
type trackerRig struct {
	sim    *sim.Server
	client *upstream.Client
	base   string // the gateway's URL
}

func trackerLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// trackerServe serves until the test ends.
func trackerServe(t *testing.T, serve func(ctx context.Context, ln net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server stopped with %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// startTrackerRig starts the simulator and a gateway whose upstream is the
// EPS client pointed at it; withUpstream false starts the gateway with none.
func startTrackerRig(t *testing.T, withUpstream bool) *trackerRig {
	t.Helper()
	r := &trackerRig{sim: sim.New(sim.Options{Logger: trackerLog()})}
	simBase := trackerServe(t, r.sim.Serve)
	c, err := upstream.New(upstream.Config{
		BaseURL: simBase + "/FHIR/R4",
		Retry:   upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond},
	}, trackerLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	r.client = c
	var up Upstream
	if withUpstream {
		up = &EPSClient{Client: c, desc: "simulator"}
	}
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 2 * time.Second
	srv := NewServer(cfg, store.NewMemory(nil), up, trackerLog(), NewMetrics())
	r.base = trackerServe(t, srv.Serve)
	return r
}

// prescribe sends a project prescription fixture to the simulator through
// its FHIR face and returns the simulator's record of it.
func (r *trackerRig) prescribe(t *testing.T, fixture string) sim.Prescription {
	t.Helper()
	body, err := os.ReadFile("../testdata/prescribe/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fhir.EntriesOf[*fhir.MedicationRequest](b)
	if len(reqs) == 0 || reqs[0].GroupIdentifier == nil {
		t.Fatalf("%s: no MedicationRequest with a groupIdentifier", fixture)
	}
	resp, err := r.client.ProcessMessage(context.Background(), body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("prescribing %s: %v %+v", fixture, err, resp)
	}
	p, ok := r.sim.State().Get(reqs[0].GroupIdentifier.Value)
	if !ok {
		t.Fatalf("the simulator does not hold %s", reqs[0].GroupIdentifier.Value)
	}
	return p
}

// get asks the gateway and reads its legacy JSON.
func (r *trackerRig) get(t *testing.T, pathAndQuery string) (int, *mapping.TrackerResponse, string) {
	t.Helper()
	resp, err := http.Get(r.base + pathAndQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q, want application/json", pathAndQuery, ct)
	}
	tr, err := mapping.ParseTrackerJSON(body)
	if err != nil {
		t.Fatalf("GET %s: not legacy tracker JSON: %v\n%s", pathAndQuery, err, body)
	}
	return resp.StatusCode, tr, string(body)
}

// TestTrackerSearchThroughEPS creates prescriptions in the EPS simulator
// through its FHIR face, then searches and retrieves them through the
// gateway's legacy tracker.
func TestTrackerSearchThroughEPS(t *testing.T) {
	r := startTrackerRig(t, true)
	acute := r.prescribe(t, "acute-nurse-controlled-drug-unsigned.json")
	erd := r.prescribe(t, "repeat-dispensing-pharmacist-endorsed.json")

	t.Run("search", func(t *testing.T) {
		code, tr, body := r.get(t, PathTrackerSearch+"?nhsNumber="+acute.NHSNumber+"&format=trace-summary")
		if code != http.StatusOK || tr.Kind != mapping.TrackerSummary || tr.StatusCode != "0" || tr.Version != "1" {
			t.Fatalf("HTTP %d kind %v status %s\n%s", code, tr.Kind, tr.StatusCode, body)
		}
		if len(tr.Prescriptions) != 1 {
			t.Fatalf("%d prescriptions, want 1\n%s", len(tr.Prescriptions), body)
		}
		p := tr.Prescriptions[0]
		if p.ID != acute.ShortFormID || p.PatientNHSNumber != acute.NHSNumber || p.PrescriptionStatus != "To Be Dispensed" ||
			p.EPSVersion != "R2" || p.PendingCancellations != "False" || p.RepeatInstance == nil || p.RepeatInstance.CurrentIssue != "1" {
			t.Errorf("prescription %+v\n%s", p, body)
		}
		if want := acute.Created.UTC().Format(mapping.V3TimeLayout); p.PrescriptionIssueDate != want {
			t.Errorf("prescriptionIssueDate %s, want %s", p.PrescriptionIssueDate, want)
		}
		if len(p.LineItems) != len(acute.Items) || p.LineItems[0].ID != acute.Items[0].ID {
			t.Errorf("line items %+v, want %+v", p.LineItems, acute.Items)
		}
	})
	t.Run("search by status", func(t *testing.T) {
		_, tr, body := r.get(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary&prescriptionStatus=0001")
		if tr.StatusCode != "0" || len(tr.Prescriptions) != 1 || tr.Prescriptions[0].ID != erd.ShortFormID {
			t.Errorf("status %s, prescriptions %d\n%s", tr.StatusCode, len(tr.Prescriptions), body)
		}
		_, tr, body = r.get(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary&prescriptionStatus=0006")
		if tr.StatusCode != mapping.TrackerStatusNoMatch || tr.Reason != mapping.TrackerReasonNoMatch {
			t.Errorf("no dispensed prescription: status %s %q\n%s", tr.StatusCode, tr.Reason, body)
		}
	})
	t.Run("retrieve", func(t *testing.T) {
		code, tr, body := r.get(t, PathTrackerSearch+"/"+acute.ShortFormID+"?format=trace")
		if code != http.StatusOK || tr.Kind != mapping.TrackerDetail || tr.StatusCode != "0" || len(tr.Prescriptions) != 1 {
			t.Fatalf("HTTP %d kind %v status %s\n%s", code, tr.Kind, tr.StatusCode, body)
		}
		p := tr.Prescriptions[0]
		if p.ID != acute.ShortFormID || p.Prescriber == nil || p.Prescriber.ODS != acute.Prescriber {
			t.Errorf("prescription %s prescriber %+v, want %s by %s\n%s", p.ID, p.Prescriber, acute.ShortFormID, acute.Prescriber, body)
		}
		if acute.Nominated != "" && (p.NominatedPharmacy == nil || p.NominatedPharmacy.ODS != acute.Nominated) {
			t.Errorf("nominated pharmacy %+v, want %s\n%s", p.NominatedPharmacy, acute.Nominated, body)
		}
		if len(p.LineItems) == 0 || p.LineItems[0].ItemStatus != "To be Dispensed" {
			t.Errorf("line items %+v\n%s", p.LineItems, body)
		}
		if !strings.Contains(body, `"`+acute.ShortFormID+`":{"prescriptionStatus":"To Be Dispensed"`) {
			t.Errorf("detail not keyed by the prescription id:\n%s", body)
		}
	})
	t.Run("retrieve an issue that does not exist", func(t *testing.T) {
		code, tr, body := r.get(t, PathTrackerSearch+"/"+acute.ShortFormID+"?format=trace&issueNumber=2")
		if code != http.StatusOK || tr.StatusCode != mapping.TrackerStatusInstanceMissing || !strings.HasPrefix(body, `{"spineResponse":`) {
			t.Errorf("HTTP %d status %s\n%s", code, tr.StatusCode, body)
		}
	})
	t.Run("retrieve a prescription EPS does not hold", func(t *testing.T) {
		_, tr, body := r.get(t, PathTrackerSearch+"/"+validShortFormID(t, "ABCDEF-A99968-12345")+"?format=trace")
		if tr.StatusCode != mapping.TrackerStatusPrescriptionMissing {
			t.Errorf("status %s\n%s", tr.StatusCode, body)
		}
	})
	t.Run("NHS111 paths", func(t *testing.T) {
		_, tr, body := r.get(t, PathTrackerItemSummary+"?nhsNumber="+erd.NHSNumber)
		if tr.StatusCode != "0" || len(tr.Prescriptions) != 1 {
			t.Errorf("item summary: status %s\n%s", tr.StatusCode, body)
		}
		for _, id := range []string{url.QueryEscape(erd.ShortFormID), erd.ShortFormID} { // escaped or not
			_, tr, body = r.get(t, PathTrackerItemDetails+"?prescriptionId="+id)
			if tr.StatusCode != "0" || tr.Kind != mapping.TrackerDetail || len(tr.Prescriptions) != 1 || tr.Prescriptions[0].ID != erd.ShortFormID {
				t.Errorf("item details for %s: status %s\n%s", id, tr.StatusCode, body)
			}
		}
	})
}

// validShortFormID completes a 19-character short-form id with its check
// character.
func validShortFormID(t *testing.T, body string) string {
	t.Helper()
	for _, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+" {
		if id := body + string(c); v3.ValidateShortFormID(id) == nil {
			return id
		}
	}
	t.Fatalf("no check character completes %s", body)
	return ""
}

// TestTrackerRefusals checks the legacy answers to requests the gateway
// refuses before asking EPS: HTTP 200, Spine's status code and a reason
// that says what is wrong.
func TestTrackerRefusals(t *testing.T) {
	r := startTrackerRig(t, true)
	tests := []struct {
		name, path string
		kind       mapping.TrackerKind
		code       string
		reason     string
	}{
		{"no parameters", PathTrackerSearch, mapping.TrackerSummary, "50", "Query parameters have not been provided"},
		{"no NHS number", PathTrackerSearch + "?format=trace-summary", mapping.TrackerSummary, "61", "Invalid or missing NHS number: nhsNumber is required"},
		{"bad check digit", PathTrackerSearch + "?nhsNumber=9449304107&format=trace-summary", mapping.TrackerSummary, "61", "modulus 11 check digit"},
		{"no format", PathTrackerSearch + "?nhsNumber=9449304106", mapping.TrackerSummary, "50", "format is required and must be trace-summary"},
		{"bad date", PathTrackerSearch + "?nhsNumber=9449304106&format=trace-summary&earliestDate=2021", mapping.TrackerSummary, "57", "Invalid search date"},
		{"bad prescription id", PathTrackerSearch + "/003D4D-A99968-4C5AAK?format=trace", mapping.TrackerDetail, "51", "invalid checksum"},
		{"retrieve without format", PathTrackerSearch + "/003D4D-A99968-4C5AAJ", mapping.TrackerDetail, "50", "format is required and must be trace"},
		{"NHS111 detail without id", PathTrackerItemDetails + "?issueNumber=1", mapping.TrackerDetail, "51", "prescriptionId is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, tr, body := r.get(t, tt.path)
			if code != http.StatusOK || tr.Kind != tt.kind || tr.StatusCode != tt.code || !strings.Contains(tr.Reason, tt.reason) {
				t.Errorf("HTTP %d kind %v status %s reason %q, want 200 %v %s containing %q\n%s", code, tr.Kind, tr.StatusCode, tr.Reason, tt.kind, tt.code, tt.reason, body)
			}
		})
	}
	if n := r.sim.Stats().Requests["tracker"]; n != 0 {
		t.Errorf("%d refused requests reached the EPS tracker", n)
	}
}

// TestTrackerUpstreamUnavailable checks the answers when EPS cannot be
// asked: the legacy error JSON (status 5) with a 5xx.
func TestTrackerUpstreamUnavailable(t *testing.T) {
	t.Run("EPS answers 503", func(t *testing.T) {
		r := startTrackerRig(t, true)
		r.sim.SetFaults(sim.Faults{Force5xx: -1})
		code, tr, body := r.get(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary")
		if code != http.StatusBadGateway || tr.StatusCode != "5" || !strings.Contains(tr.Reason, "Unexpected exception: the EPS FHIR API is unavailable") {
			t.Errorf("HTTP %d status %s %q\n%s", code, tr.StatusCode, tr.Reason, body)
		}
	})
	t.Run("EPS down", func(t *testing.T) {
		r := startTrackerRig(t, true)
		r.sim.SetFaults(sim.Faults{Down: true})
		code, tr, body := r.get(t, PathTrackerSearch+"/003D4D-A99968-4C5AAJ?format=trace")
		if code < 500 || tr.Kind != mapping.TrackerDetail || tr.StatusCode != "5" || !strings.HasPrefix(body, `{"spineResponse":`) {
			t.Errorf("HTTP %d kind %v status %s\n%s", code, tr.Kind, tr.StatusCode, body)
		}
	})
	t.Run("no upstream configured", func(t *testing.T) {
		r := startTrackerRig(t, false)
		code, tr, body := r.get(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary")
		if code != http.StatusServiceUnavailable || tr.StatusCode != "5" {
			t.Errorf("HTTP %d status %s\n%s", code, tr.StatusCode, body)
		}
	})
}
