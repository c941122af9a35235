package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping/tracker"
)

// TestTrackerAPIReadsEveryPage asks the tracker API (the documented search
// and NHS111's) for a patient whose prescriptions the EPS simulator answers
// two a page: every prescription is listed, over real sockets end to end.
// Before the EPS client followed Bundle.link "next", both answers listed the
// first page's two and said nothing of the other three.
func TestTrackerAPIReadsEveryPage(t *testing.T) {
	r := startTrackerRigSim(t, sim.Options{TrackerPageSize: 2}, true, trackerLog())
	const nhs = "9990406480"
	var ids []string
	for _, body := range []string{"D29E5B-Y01234-11E6A", "D2A223-Y01234-11E6A", "D2A238-Y01234-11E6A", "D2A24D-Y01234-11E6A", "D2A262-Y01234-11E6A"} {
		p := r.prescribeAs(t, fixtureRepeat, validShortFormID(t, body), nhs)
		ids = append(ids, p.ShortFormID)
	}
	r.prescribe(t, fixtureAcute) // another patient's: not listed

	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary", nil)
	if code != http.StatusOK || a.StatusCode != "0" || len(a.Prescriptions) != len(ids) {
		t.Fatalf("trace-summary: HTTP %d status %s, %d prescriptions, want %d\n%s", code, a.StatusCode, len(a.Prescriptions), len(ids), body)
	}
	for i, p := range a.Prescriptions {
		if p.ID != ids[i] {
			t.Errorf("trace-summary prescription %d: %s, want %s", i, p.ID, ids[i])
		}
	}
	code, tr, body := r.get(t, PathTrackerItemSummary+"?nhsNumber="+nhs)
	if code != http.StatusOK || tr.StatusCode != "0" || len(tr.Prescriptions) != len(ids) {
		t.Fatalf("NHS111 item summary: HTTP %d status %s, %d prescriptions, want %d\n%s", code, tr.StatusCode, len(tr.Prescriptions), len(ids), body)
	}
	if got := r.sim.Stats().Requests["tracker"]; got != 6 {
		t.Errorf("the simulator answered %d tracker calls, want 6 (3 pages for each search)", got)
	}
}

// TestTrackerAPIRefusesAnswerNotReadWhole: when EPS pages further than the
// client follows, the tracker API answers Spine's "Failed to parse" with a
// 502, never the pages read so far as if they were every prescription.
func TestTrackerAPIRefusesAnswerNotReadWhole(t *testing.T) {
	r := startTrackerRigSim(t, sim.Options{TrackerPageSize: 1}, false, trackerLog())
	const nhs = "9990406480"
	for _, body := range []string{"D29E5B-Y01234-11E6A", "D2A223-Y01234-11E6A", "D2A238-Y01234-11E6A"} {
		r.prescribeAs(t, fixtureRepeat, validShortFormID(t, body), nhs)
	}
	c, err := upstream.New(upstream.Config{BaseURL: r.simBase + "/FHIR/R4", TrackerMaxPages: 2,
		Retry: upstream.RetryConfig{MaxAttempts: 1}}, trackerLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 2 * time.Second
	srv := NewServer(cfg, store.NewMemory(nil), &EPSClient{Client: c, desc: "simulator"}, trackerLog(), NewMetrics())
	r.base = trackerServe(t, srv.Serve)

	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary", nil)
	if code != http.StatusBadGateway || a.StatusCode != tracker.TrackerStatusUnparseable || len(a.Prescriptions) != 0 {
		t.Errorf("trace-summary over 3 pages, 2 followed: HTTP %d status %s, %d prescriptions; want 502, %s, none\n%s",
			code, a.StatusCode, len(a.Prescriptions), tracker.TrackerStatusUnparseable, body)
	}
}
