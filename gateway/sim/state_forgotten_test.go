package sim

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/testlog"
)

// diagnostics returns the first issue's diagnostics.
func (a answer) diagnostics() string {
	issues, _ := a.json["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	d, _ := issues[0].(map[string]any)["diagnostics"].(string)
	return d
}

// TestForgottenPrescriptionSaysSo: a prescription the cap forgot is one
// EPS would still hold, so a later request for it is not answered as if it
// had never been: a release, a dispense notification, a cancellation and
// the tracker answer "not found" in EPS's shapes with diagnostics saying
// the simulator forgot it, the prescription-order sent again is refused as
// the duplicate EPS would see, each is logged and counted
// (/_admin/stats evicted, forgottenRequests), and the cancellation is not
// kept for a prescription still to come. A prescription never seen is
// answered as before. Before, nothing told them apart: the answers were
// those of an unknown prescription, nothing was logged or counted, the
// order sent again was stored anew, and stored already cancelled by the
// "early" cancellation the simulator had kept for it.
func TestForgottenPrescriptionSaysSo(t *testing.T) {
	logs := &testlog.Buffer{}
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }, MaxPrescriptions: 2,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	api := base + DefaultBasePath
	post := func(p rx, path, fix string, extra map[string]string) answer {
		t.Helper()
		return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
	}
	tracker := func(p rx) answer {
		t.Helper()
		return do(t, http.MethodGet, api+"/Task?focus:identifier="+url.QueryEscape(fhir.SystemShortFormID+"|"+p.sf), nil, nil)
	}
	forgotten := func(a answer, status int, code string) {
		t.Helper()
		a.want(t, status, code)
		if d := a.diagnostics(); !strings.Contains(d, "forgotten by the EPS simulator") || !strings.Contains(d, "keeps 2 prescriptions") {
			t.Fatalf("%s answer does not say the prescription was forgotten: %s", code, a.body)
		}
	}

	first, second, third := newRx(t, 1, "FH542"), newRx(t, 2, "FH542"), newRx(t, 3, "FH542")
	for _, p := range []rx{first, second, third} {
		post(p, "/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
	}
	forgotten(post(first, "/Task/$release", "release-patient.json", nil), 400, "RESOURCE_NOT_FOUND")
	forgotten(post(first, "/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001"}), 400, "RESOURCE_NOT_FOUND")
	forgotten(post(first, "/$process-message", "cancel.json", nil), 400, "R-0008")
	forgotten(post(first, "/$process-message", "prescription-order.json", nil), 400, "DUPLICATE_PRESCRIPTION_ID")
	forgotten(tracker(first), 200, "INVALID")

	unknown := newRx(t, 9, "FH542")
	if a := post(unknown, "/Task/$release", "release-patient.json", nil); a.issueCode() != "RESOURCE_NOT_FOUND" || a.diagnostics() != "" {
		t.Fatalf("release of a prescription never seen: %s", a.body)
	}
	if a := tracker(unknown); a.issueCode() != "INVALID" || a.diagnostics() != "" {
		t.Fatalf("tracker of a prescription never seen: %s", a.body)
	}

	st := do(t, http.MethodGet, base+"/_admin/stats", nil, nil)
	if st.json["evicted"] != float64(1) || st.json["forgottenRequests"] != float64(5) {
		t.Fatalf("stats %s, want evicted 1 and forgottenRequests 5", st.body)
	}
	if n := strings.Count(logs.String(), "its cap forgot"); n != 5 || !strings.Contains(logs.String(), first.sf) {
		t.Fatalf("%d warnings about the forgotten prescription, want 5:\n%s", n, logs.String())
	}
}
