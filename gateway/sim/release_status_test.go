package sim

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/porxgate/porxgate/fhir"
)

// releasedBundle reads the one prescription a $release answer passed.
func releasedBundle(t *testing.T, a answer) *fhir.Bundle {
	t.Helper()
	a.want(t, http.StatusOK, "")
	var params fhir.Parameters
	if err := json.Unmarshal(a.body, &params); err != nil {
		t.Fatal(err)
	}
	var passed struct {
		Resource struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		} `json:"resource"`
	}
	raw, _ := json.Marshal(map[string]any{"resource": params.Parameter[0].Resource})
	if err := json.Unmarshal(raw, &passed); err != nil || len(passed.Resource.Entry) != 1 {
		t.Fatalf("passedPrescriptions: %v\n%s", err, a.body)
	}
	b, err := fhir.ParseBundle(passed.Resource.Entry[0].Resource)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// releasedStatuses reads the MedicationRequest statuses, by line item id,
// of the one prescription a $release answer passed.
func releasedStatuses(t *testing.T, a answer) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](releasedBundle(t, a)) {
		out[fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID)] = mr.Status
	}
	return out
}

// TestReleaseCarriesItemStatuses: a released prescription's
// MedicationRequests carry their line items' statuses as EPS releases them
// — a cancelled item "cancelled", a dispensed one "completed", one owing
// "active" — so that the dispenser (and the v3 release response porxgate
// builds from them, 0005, 0001, 0004…) sees what it may still dispense.
// Before, the simulator released the prescription-order as received, every
// item "active": an item the prescriber had cancelled was downloaded as to
// be dispensed.
func TestReleaseCarriesItemStatuses(t *testing.T) {
	_, base := startSim(t, Options{})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := func(path, fix string, extra map[string]string) answer {
		return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
	}
	post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
	post("/$process-message", "cancel.json", nil).want(t, 200, "")
	got := releasedStatuses(t, post("/Task/$release", "release-nominated.json", nil))
	if got[p.item1] != "cancelled" || got[p.item2] != "active" {
		t.Fatalf("released after item 1 was cancelled: %v, want %s cancelled and %s active", got, p.item1, p.item2)
	}

	q := newRx(t, 2, "FH542")
	postQ := func(path, fix string, extra map[string]string) answer {
		return do(t, http.MethodPost, api+path, fixture(t, fix, q.repl(extra)), nil)
	}
	postQ("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
	before := releasedStatuses(t, postQ("/Task/$release", "release-patient.json", nil))
	if before[q.item1] != "active" || before[q.item2] != "active" {
		t.Fatalf("first download: %v, want both active", before)
	}
	postQ("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0004", "MESSAGEID": "d1"}).
		want(t, 200, "informational")
	got = releasedStatuses(t, postQ("/Task/$release", "release-patient.json", nil))
	if got[q.item1] != "completed" || got[q.item2] != "active" {
		t.Fatalf("downloaded again after item 1 was dispensed, item 2 owed: %v, want completed and active", got)
	}
}
