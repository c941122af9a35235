package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestRunJournalsInRedis: Run with --redis keeps the journal in that Redis
// (the built-in simulator upstream, no routing table): a prescription sent
// to the front door is found through the admin listener, by its
// prescription id, with the FHIR request and EPS's answer — and it is
// still there for a second Run on the same Redis.
func TestRunJournalsInRedis(t *testing.T) {
	redisURL := redistest.Start(t).URL()
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	var rx string
	for round := range 2 {
		cfg := testConfig()
		cfg.Admin.Addr, cfg.RedisURL = "127.0.0.1:0", redisURL
		cfg.Admin.NoAuth = false
		cfg.Admin.Token = "run-test-token-0123456789"
		run := startRun(t, cfg, quietLog())
		api := func(path string, out any) bool {
			req, _ := http.NewRequest(http.MethodGet, "http://"+run.AdminAddr+path, nil)
			req.Header.Set("Authorization", "Bearer "+cfg.Admin.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(out) == nil
		}
		if round == 0 {
			r := newReq(newID(t, 5))
			r.payload = payload
			if code, body := sendEb(t, "http://"+run.Addr, r); code != 202 {
				t.Fatalf("ebXML POST = %d\n%s", code, body)
			}
			var x journal.Exchange
			defer func() {
				if t.Failed() {
					t.Logf("last exchange: %+v %s", x.Summary(), stepKinds(x))
				}
			}()
			waitFor(t, "the exchange in the journal", func() bool {
				// The answer kept for its party is written at once (RecordNow),
				// the queued steps before it a batch later: wait for both.
				return api("/admin/api/exchanges/"+r.messageID, &x) && x.Outcome.Result != "" && len(x.IDs.PrescriptionIDs) > 0 &&
					strings.Contains(stepKinds(x), journal.StepDelivery) && strings.Contains(stepKinds(x), journal.StepV3Answer)
			})
			if !strings.Contains(stepKinds(x), "fhir-request eps-answer v3-answer") || x.Outcome.Result != "accepted" {
				t.Fatalf("exchange: outcome %+v steps %s", x.Outcome, stepKinds(x))
			}
			rx = x.IDs.PrescriptionIDs[0]
		}
		var list struct {
			Count     int               `json:"count"`
			Exchanges []journal.Summary `json:"exchanges"`
		}
		// A Run that ended fails here with its error, not as a search
		// timed out.
		defer func() {
			if t.Failed() {
				t.Logf("round %d: the last search found %d: %+v", round, list.Count, list.Exchanges)
			}
		}()
		waitFor(t, "a search by prescription id", func() bool {
			if ended, err := run.ended(); ended {
				t.Fatalf("round %d: Run ended early: %v", round, err)
			}
			return api("/admin/api/exchanges?id="+rx, &list) && list.Count == 1
		})
		if err := run.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

// stepKinds lists an exchange's step kinds, space-separated.
func stepKinds(x journal.Exchange) string {
	var k []string
	for _, s := range x.Steps {
		k = append(k, s.Kind)
	}
	return strings.Join(k, " ")
}
