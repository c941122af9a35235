package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
)

// compareCount is porxgate_compare_total{interaction, result} in m.
func compareCount(t *testing.T, m *Metrics, interaction, result string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "porxgate_compare_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["interaction"] == interaction && labels["result"] == result {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestComparisonOfPermanentFailures: a message the FHIR path fails for
// good (a cancel request it cannot map, an EPS answer it cannot write)
// goes to the dead letters, its sender told by an eb:MessageError (ebXML)
// or refused with SOAP fault 300. With the FHIR path primary such a
// message was neither sent down the legacy path nor compared nor counted
// in porxgate_compare_total, so that messages Spine answers and porxgate
// refuses, the differences a migration most needs to see, never showed;
// with it shadow, the comparison was an "error", as for an unreachable
// path. The FHIR path's refusal is now compared with the other path's
// outcome as the refusal its sender gets; the primary's outcome is
// unchanged.
func TestComparisonOfPermanentFailures(t *testing.T) {
	failed := errors.New("mapping EPS's answer: no CancellationResponse can be written")
	tests := []struct {
		name, primary string
		soap          bool
		want          string // in the differences
	}{
		{"FHIR path primary over ebXML", "fhir", false, "fhir refused with ebXML MessageError Unknown (910009:the message could not be processed and was not passed on"},
		{"FHIR path primary over SOAP", "fhir", true, "fhir refused with SOAP fault 300 (the message could not be processed); legacy answered PORX_IN070103UK31"},
		{"FHIR path shadow over ebXML", "legacy", false, "fhir refused with ebXML MessageError Unknown"},
		{"FHIR path shadow over SOAP", "legacy", true, "fhir refused with SOAP fault 300"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := `<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN070103UK31>`
			if !tt.soap {
				answer = string(mcciPayload("X"))
			}
			route, calls := routeAnswering(t, http.StatusOK, "text/xml", answer)
			fhir := soapProcessor(func(int) (*Outcome, error) { return nil, Permanent(failed) })
			fhir.answer = func(*Inbound, int) (*Outcome, error) { return nil, Permanent(failed) }
			j := newTestJournal(t)
			m := NewMetrics()
			proc := NewComparing(CompareConfig{Primary: tt.primary, Workers: 1, Timeout: 10 * time.Second}, fhir,
				&compare.Legacy{URL: route.URL}, j, m, quietLog())
			g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
			var id, interaction string
			if tt.soap {
				id, interaction = "6E2F1C2D-0000-4000-8000-00000000095"+string(rune('0'+i)), releaseReq
				code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
				if tt.primary == "fhir" {
					if got, _ := faultCode(t, body); code != http.StatusInternalServerError || got != "300" {
						t.Fatalf("the sender got %d fault %s, want the FHIR path's refusal 300 as before\n%s", code, got, body)
					}
				} else if code != http.StatusOK {
					t.Fatalf("the sender got %d, want the legacy path's answer\n%s", code, body)
				}
			} else {
				r := newReq(newID(t, 950+i))
				id, interaction = r.messageID, r.action
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("ebXML POST = %d\n%s", code, body)
				}
			}
			var x *journal.Exchange
			waitFor(t, "the comparison in the journal", func() bool {
				x, _ = j.Backend().Get(context.Background(), id)
				return x != nil && x.Comparison != nil && x.Comparison.Result != ""
			})
			all := strings.Join(x.Comparison.Differences, "\n")
			if x.Comparison.Result != compareDiffer || !strings.Contains(all, tt.want) {
				t.Fatalf("comparison %s %q %s, want differ with %q", x.Comparison.Result, all, x.Comparison.Error, tt.want)
			}
			if n := compareCount(t, m, interaction, compareDiffer); n != 1 {
				t.Errorf("porxgate_compare_total{interaction=%q,result=differ} = %v, want 1", interaction, n)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the legacy route got %d calls, want 1", n)
			}
			if n := fhir.callsFor(id); n != 1 {
				t.Errorf("the FHIR path ran %d times, want 1", n)
			}
		})
	}
}
