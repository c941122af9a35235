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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping/tracker"
	v3 "github.com/porxgate/porxgate/v3"
)

// trackerRig is the gateway serving the tracker API in front of the EPS
// simulator, both on loopback sockets.
type trackerRig struct {
	sim     *sim.Server
	simBase string // the simulator's URL
	client  *upstream.Client
	base    string // the gateway's URL
}

// The caller identity the tests send (12 digits each, as Spine's are).
const (
	testTrackerASID = "200000000946"
	testTrackerUser = "313175813564"
	testTrackerRole = "562926913100"
)

// trackerHeaders are a well-formed caller's headers.
func trackerHeaders() http.Header {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set(HeaderSpineFromASID, testTrackerASID)
	h.Set(HeaderSpineUserID, testTrackerUser)
	h.Set(HeaderSpineRoleProfileID, testTrackerRole)
	return h
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
// EPS client pointed at it; withUpstream false starts the gateway with
// none. configure, when given, changes the gateway's configuration.
func startTrackerRig(t *testing.T, withUpstream bool, configure ...func(*Config)) *trackerRig {
	t.Helper()
	return startTrackerRigLogged(t, withUpstream, trackerLog(), configure...)
}

// startTrackerRigLogged is startTrackerRig with the gateway logging to log.
func startTrackerRigLogged(t *testing.T, withUpstream bool, log *slog.Logger, configure ...func(*Config)) *trackerRig {
	t.Helper()
	return startTrackerRigSim(t, sim.Options{}, withUpstream, log, configure...)
}

// startTrackerRigSim is startTrackerRigLogged with the simulator's options.
func startTrackerRigSim(t *testing.T, simOpts sim.Options, withUpstream bool, log *slog.Logger, configure ...func(*Config)) *trackerRig {
	t.Helper()
	simOpts.Logger = trackerLog()
	r := &trackerRig{sim: sim.New(simOpts)}
	r.simBase = trackerServe(t, r.sim.Serve)
	c, err := upstream.New(upstream.Config{
		BaseURL: r.simBase + "/FHIR/R4",
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
	for _, f := range configure {
		f(&cfg)
	}
	srv := NewServer(cfg, store.NewMemory(nil), up, log, NewMetrics())
	r.base = trackerServe(t, srv.Serve)
	return r
}

// startTrackerRigUpstream starts a gateway whose upstream is the EPS
// client pointed at eps, served on a loopback socket in place of the
// simulator (rig.sim is nil), one attempt per call.
func startTrackerRigUpstream(t *testing.T, eps http.Handler) *trackerRig {
	t.Helper()
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error {
		srv := &http.Server{Handler: eps, ReadHeaderTimeout: 5 * time.Second}
		go func() { <-ctx.Done(); _ = srv.Close() }()
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			return err
		}
		return nil
	})
	c, err := upstream.New(upstream.Config{BaseURL: base + "/FHIR/R4", Retry: upstream.RetryConfig{MaxAttempts: 1}}, trackerLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 2 * time.Second
	srv := NewServer(cfg, store.NewMemory(nil), &EPSClient{Client: c, desc: "loopback EPS"}, trackerLog(), NewMetrics())
	return &trackerRig{simBase: base, client: c, base: trackerServe(t, srv.Serve)}
}

// prescribe sends a project prescription fixture to the simulator through
// its FHIR face and returns the simulator's record of it.
func (r *trackerRig) prescribe(t *testing.T, fixture string) sim.Prescription {
	t.Helper()
	return r.prescribeAs(t, fixture, "", "")
}

// prescribeAs is prescribe with the fixture's short-form id and NHS number
// replaced by id and nhs (each when not empty), for several prescriptions
// of one patient.
func (r *trackerRig) prescribeAs(t *testing.T, fixture, id, nhs string) sim.Prescription {
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
	if id != "" {
		body = []byte(strings.ReplaceAll(string(body), reqs[0].GroupIdentifier.Value, id))
	} else {
		id = reqs[0].GroupIdentifier.Value
	}
	if pats := fhir.EntriesOf[*fhir.Patient](b); nhs != "" && len(pats) > 0 {
		body = []byte(strings.ReplaceAll(string(body), fhir.FindIdentifier(pats[0].Identifier, fhir.SystemNHSNumber), nhs))
	}
	resp, err := r.client.ProcessMessage(context.Background(), body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("prescribing %s: %v %+v", fixture, err, resp)
	}
	p, ok := r.sim.State().Get(strings.ToUpper(id))
	if !ok {
		t.Fatalf("the simulator does not hold %s", id)
	}
	return p
}

// fetch asks the gateway with headers h and returns the HTTP status and
// body, checking the content type.
func (r *trackerRig) fetch(t *testing.T, pathAndQuery string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.base+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
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
	return resp.StatusCode, string(body)
}

// get asks an NHS111 path as a well-formed caller and reads its JSON.
func (r *trackerRig) get(t *testing.T, pathAndQuery string) (int, *tracker.TrackerResponse, string) {
	t.Helper()
	code, body := r.fetch(t, pathAndQuery, trackerHeaders())
	tr, err := tracker.ParseTrackerJSON([]byte(body))
	if err != nil {
		t.Fatalf("GET %s: not NHS111 tracker JSON: %v\n%s", pathAndQuery, err, body)
	}
	return code, tr, body
}

// trace asks /mm/prescriptions with headers h (nil: a well-formed
// caller's) and reads the documented JSON.
func (r *trackerRig) trace(t *testing.T, pathAndQuery string, h http.Header) (int, *tracker.TraceAnswer, string) {
	t.Helper()
	if h == nil {
		h = trackerHeaders()
	}
	code, body := r.fetch(t, pathAndQuery, h)
	a, err := tracker.ParseTraceJSON([]byte(body))
	if err != nil {
		t.Fatalf("GET %s: not documented tracker JSON: %v\n%s", pathAndQuery, err, body)
	}
	return code, a, body
}

// TestNHS111ThroughEPS creates prescriptions in the EPS simulator through
// its FHIR face, moves them on, and reads them through the NHS111 paths:
// the answers carry the treatment type and the dispense, download and
// claim dates, in the values the EPS API's tracker translation accepts.
func TestNHS111ThroughEPS(t *testing.T) {
	r := startTrackerRig(t, true)
	acute := r.prescribe(t, "acute-nurse-controlled-drug-unsigned.json")
	erd := r.prescribe(t, "repeat-dispensing-pharmacist-endorsed.json")

	t.Run("summary", func(t *testing.T) {
		_, tr, body := r.get(t, PathTrackerItemSummary+"?nhsNumber="+erd.NHSNumber)
		if tr.StatusCode != "0" || len(tr.Prescriptions) != 1 {
			t.Fatalf("item summary: status %s\n%s", tr.StatusCode, body)
		}
		p := tr.Prescriptions[0]
		if p.PrescriptionTreatmentType != "Repeat Dispensing" || p.RepeatInstance == nil || p.RepeatInstance.TotalAuthorised != "6" || p.RepeatInstance.CurrentIssue != "1" {
			t.Errorf("treatment type %q repeat %+v, want Repeat Dispensing 1 of 6\n%s", p.PrescriptionTreatmentType, p.RepeatInstance, body)
		}
		checkEPSAPIReadable(t, tr)
	})
	t.Run("details, escaped or not", func(t *testing.T) {
		for _, id := range []string{url.QueryEscape(erd.ShortFormID), erd.ShortFormID} {
			_, tr, body := r.get(t, PathTrackerItemDetails+"?prescriptionId="+id)
			if tr.StatusCode != "0" || tr.Kind != tracker.TrackerDetail || len(tr.Prescriptions) != 1 || tr.Prescriptions[0].ID != erd.ShortFormID {
				t.Errorf("item details for %s: status %s\n%s", id, tr.StatusCode, body)
			}
		}
	})
	t.Run("dates after download, dispense and claim", func(t *testing.T) {
		st := r.sim.State()
		now := time.Now()
		if _, err := st.Release(sim.ReleaseRequest{Owner: "FCG71", ShortFormID: acute.ShortFormID}, now); err != nil {
			t.Fatal(err)
		}
		items := map[string]sim.ItemStatus{}
		for _, it := range acute.Items {
			items[it.ID] = sim.ItemDispensed
		}
		if err := st.Dispense(sim.DispenseRequest{MessageID: "D1", Dispenser: "FCG71", ShortFormID: acute.ShortFormID, Items: items}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.Claim(sim.ClaimRequest{ShortFormID: acute.ShortFormID, ClaimID: "C1", Claimant: "FCG71"}, now); err != nil {
			t.Fatal(err)
		}
		_, tr, body := r.get(t, PathTrackerItemDetails+"?prescriptionId="+url.QueryEscape(acute.ShortFormID))
		if tr.StatusCode != "0" || len(tr.Prescriptions) != 1 {
			t.Fatalf("status %s\n%s", tr.StatusCode, body)
		}
		p := tr.Prescriptions[0]
		day := now.UTC().Format("20060102")
		if p.PrescriptionStatus != "Claimed" || p.PrescriptionTreatmentType != "Acute Prescription" ||
			!strings.HasPrefix(p.PrescriptionDispensedDate, day) || p.PrescriptionClaimedDate != day || p.PrescriptionDownloadDate != day {
			t.Errorf("status %q treatment %q dispensed %q claimed %q downloaded %q, want Claimed, Acute Prescription and dates of %s\n%s",
				p.PrescriptionStatus, p.PrescriptionTreatmentType, p.PrescriptionDispensedDate, p.PrescriptionClaimedDate, p.PrescriptionDownloadDate, day, body)
		}
		if p.Prescriber == nil || p.Prescriber.Name != "TAUNTON AND SOMERSET NHS FOUNDATION TRUST" || p.DispensingPharmacy == nil || p.DispensingPharmacy.ODS != "FCG71" {
			t.Errorf("prescriber %+v dispensing pharmacy %+v\n%s", p.Prescriber, p.DispensingPharmacy, body)
		}
		checkEPSAPIReadable(t, tr)
	})
	t.Run("NHS111 not found keeps its own codes", func(t *testing.T) {
		_, tr, body := r.get(t, PathTrackerItemDetails+"?prescriptionId="+validShortFormID(t, "ABCDEF-A99968-12345"))
		if tr.StatusCode != tracker.TrackerStatusPrescriptionMissing || !strings.HasPrefix(body, `{"spineResponse":`) {
			t.Errorf("status %s\n%s", tr.StatusCode, body)
		}
		_, tr, body = r.get(t, PathTrackerItemDetails+"?prescriptionId="+url.QueryEscape(erd.ShortFormID)+"&issueNumber=7")
		if tr.StatusCode != tracker.TrackerStatusInstanceMissing {
			t.Errorf("status %s\n%s", tr.StatusCode, body)
		}
	})
}

// checkEPSAPIReadable checks that an NHS111 answer holds only the
// treatment types, prescription statuses and line item statuses the EPS
// API's tracker translation knows (it throws "Unexpected treatment type
// from Spine" and the like on anything else).
func checkEPSAPIReadable(t *testing.T, tr *tracker.TrackerResponse) {
	t.Helper()
	treatments := []string{"Acute Prescription", "Repeat Prescribing", "Repeat Dispensing"}
	statuses := []string{"Awaiting Release Ready", "To Be Dispensed", "With Dispenser", "With Dispenser - Active", "Expired",
		"Cancelled", "Dispensed", "Not Dispensed", "Claimed", "No-Claimed", "Repeat Dispense future instance",
		"Prescription future instance", "Cancelled future instance"}
	items := []string{"Dispensed", "Not Dispensed", "Dispensed - Partial", "Not Dispensed - Owing", "Cancelled", "Expired",
		"To be Dispensed", "With Dispenser"}
	for _, p := range tr.Prescriptions {
		if !slices.Contains(treatments, p.PrescriptionTreatmentType) {
			t.Errorf("%s: treatment type %q: the EPS API throws Unexpected treatment type", p.ID, p.PrescriptionTreatmentType)
		}
		if !slices.Contains(statuses, p.PrescriptionStatus) {
			t.Errorf("%s: prescription status %q unknown to the EPS API", p.ID, p.PrescriptionStatus)
		}
		for _, it := range p.LineItems {
			if tr.Kind == tracker.TrackerDetail && !slices.Contains(items, it.ItemStatus) {
				t.Errorf("%s: line item %s status %q unknown to the EPS API", p.ID, it.ID, it.ItemStatus)
			}
		}
	}
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
