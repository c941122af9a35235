package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/testnet"
)

// TestRunJournalsInRedis: Run with --redis keeps the journal in that Redis
// (the built-in simulator upstream, no routing table): a prescription sent
// to the front door is found through the admin listener, by its
// prescription id, with the FHIR request and EPS's answer — and it is
// still there for a second Run on the same Redis. With --journal-redis
// the journal is kept in that Redis alone: the store's holds none of its
// keys, and the message's own (its duplicate-elimination mark) are not in
// the journal's.
func TestRunJournalsInRedis(t *testing.T) {
	for _, own := range []bool{false, true} {
		name := "shares --redis"
		if own {
			name = "its own --journal-redis"
		}
		t.Run(name, func(t *testing.T) {
			storeURL, journalURL := redistest.Start(t).URL(), ""
			if own {
				journalURL = redistest.Start(t).URL()
			}
			runJournalsInRedis(t, storeURL, journalURL)
			if !own {
				return
			}
			if n := redisKeys(t, storeURL, store.DefaultPrefix+"journal:*"); n != 0 {
				t.Errorf("the store's Redis holds %d journal keys, want none", n)
			}
			if n := redisKeys(t, journalURL, store.DefaultPrefix+"journal:x:*"); n != 1 {
				t.Errorf("the journal's Redis holds %d exchanges, want 1", n)
			}
			if n := redisKeys(t, storeURL, store.DefaultPrefix+"seen:*"); n != 1 {
				t.Errorf("the store's Redis holds %d duplicate-elimination marks, want 1", n)
			}
			if n := redisKeys(t, journalURL, store.DefaultPrefix+"seen:*"); n != 0 {
				t.Errorf("the journal's Redis holds %d duplicate-elimination marks, want none", n)
			}
		})
	}
}

// redisKeys counts the keys matching pattern in the Redis at url.
func redisKeys(t *testing.T, url, pattern string) int {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	defer c.Close()
	keys, err := c.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// runJournalsInRedis is TestRunJournalsInRedis's two Runs, on the store
// at storeURL and the journal's own Redis at journalURL ("": none).
func runJournalsInRedis(t *testing.T, storeURL, journalURL string) {
	t.Helper()
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	var rx string
	for round := range 2 {
		cfg := testConfig()
		cfg.Admin.Addr, cfg.RedisURL, cfg.Journal.Redis = "127.0.0.1:0", storeURL, journalURL
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

// TestRunJournalRedisDown: a journal Redis (--journal-redis) that does not
// answer holds no message up. Run starts with a warning naming it, a
// prescription is accepted, processed and answered AA to its sender's
// MHS, and the journal's writes that failed are counted as dropped.
func TestRunJournalRedisDown(t *testing.T) {
	mhs := startMHS(t, "ack")
	routes := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(routes, []byte(fmt.Sprintf(`{%q: {"url": %q, "cpaId": %q}}`, senderParty, mhs.srv.URL, senderCPA)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.RedisURL, cfg.RoutesFile = redistest.Start(t).URL(), routes
	cfg.Journal.Redis = "redis://" + testnet.RefusingAddr(t) + "/0"
	var logs syncBuffer
	run := startRun(t, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if !logs.logged(t, "the journal's Redis (--journal-redis) does not answer: journal events are dropped until it does (porxgate_journal_dropped_total)") {
		t.Errorf("no warning of the journal's Redis at the start; logged:\n%s", logs.String())
	}
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	r := newReq(newID(t, 7))
	r.payload = payload
	if code, body := sendEb(t, "http://"+run.Addr, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the sender's answer", func() bool {
		for _, m := range byAction(mhs, mcciAck) {
			if m.msg.RefToMessageID == r.messageID {
				if tc, _ := ackOf(t, m.msg.Payload.Body); tc != "AA" {
					t.Fatalf("answered %s, want AA", tc)
				}
				return true
			}
		}
		return false
	})
	waitFor(t, "the journal's failed writes counted", func() bool {
		for _, l := range strings.Split(metricsText(t, &gw{base: "http://" + run.Addr}), "\n") {
			if v, ok := strings.CutPrefix(l, `porxgate_journal_dropped_total{reason="write_failed"} `); ok {
				return v != "0"
			}
		}
		return false
	})
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
