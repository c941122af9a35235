package sim

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"
)

// entryResources returns a Bundle's entry resources by fullUrl, as plain JSON.
func entryResources(t *testing.T, bundle []byte) map[string]map[string]any {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatalf("%v: %s", err, bundle)
	}
	out := map[string]map[string]any{}
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		e := e.(map[string]any)
		out[e["fullUrl"].(string)], _ = e["resource"].(map[string]any)
	}
	return out
}

// TestCancelResponseEchoesRequest: the prescription-order-response gives
// back every resource of the request as it came (the fhir models lose
// nothing), a cancelled MedicationRequest changed only in status and one
// added Extension-DM-PrescriptionStatusHistory.
func TestCancelResponseEchoesRequest(t *testing.T) {
	p := newRx(t, 1, "FH542")
	body := fixture(t, "cancel.json", p.repl(nil))
	m, err := decodeMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		code       CancelCode
		wantStatus string
	}{
		{"cancelled", CancelDone, "cancelled"},
		{"pending", CancelPendingWithDispenser, "active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := cancelResponse(m, []CancelOutcome{{ItemID: p.item1, Code: tt.code}}, nil, t0, counterIDs(), "http://sim/$process-message")
			if err != nil {
				t.Fatal(err)
			}
			req, got := entryResources(t, body), entryResources(t, answer)
			if len(got) != len(req) {
				t.Fatalf("%d entries, want %d (the request's, its MessageHeader replaced)", len(got), len(req))
			}
			for url, want := range req {
				if want["resourceType"] == "MessageHeader" {
					continue
				}
				res := got[url]
				if want["resourceType"] == "MedicationRequest" {
					exts, _ := res["extension"].([]any)
					if res["status"] != tt.wantStatus || len(exts) != 1 || exts[0].(map[string]any)["url"] != "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory" {
						t.Fatalf("MedicationRequest status %v extension %v", res["status"], exts)
					}
					res = maps.Clone(res)
					delete(res, "extension")
					res["status"] = want["status"]
				}
				if !reflect.DeepEqual(res, want) {
					t.Errorf("%s %v came back as %v", url, want, res)
				}
			}
		})
	}
}

// TestEmptySearchset: a searchset without matches says total 0 and has no
// entry element, as EPS's release answers write failedPrescriptions (FHIR
// allows no empty arrays).
func TestEmptySearchset(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(trackerBundle(nil, 0, "", "", t0, counterIDs()), &got); err != nil {
		t.Fatal(err)
	}
	if _, has := got["entry"]; has || got["total"] != float64(0) || got["type"] != "searchset" {
		t.Fatalf("empty searchset %v", got)
	}
	var rel map[string]any
	if err := json.Unmarshal(releaseResponse(nil, t0, counterIDs(), ""), &rel); err != nil {
		t.Fatal(err)
	}
	params, _ := rel["parameter"].([]any)
	if len(params) != 2 {
		t.Fatalf("release answer %v", rel)
	}
	for _, p := range params {
		res := p.(map[string]any)["resource"].(map[string]any)
		if _, has := res["entry"]; has || res["total"] != float64(0) {
			t.Fatalf("%v", p)
		}
	}
}

// TestSuccessOutcomeAsEncoded: the success answer written from its
// template is what encoding its model gives, at any time.
func TestSuccessOutcomeAsEncoded(t *testing.T) {
	for _, now := range []time.Time{t0, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.FixedZone("BST", 3600))} {
		if got, want := successOutcome(now), successOutcomeModel(now); !bytes.Equal(got, want) {
			t.Errorf("%v: %s, encoded %s", now, got, want)
		}
	}
}
