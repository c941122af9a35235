package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/cancels"
)

// TestPageWithRedisHungAnswersQuickly: with Redis hung (SIGSTOP) the
// page took 10.0 s to draw for an admin (the live state's 3 s, then the
// exchange search and the access journal waiting out the request's 10 s
// one after the other), what an operator called out to an outage waits
// at each look. It now answers within the live state's budget, its store
// figures shown as ? and the exchanges and accesses as not read, and why.
func TestPageWithRedisHungAnswersQuickly(t *testing.T) {
	srv, st := redisServerStore(t)
	deadLettersIn(t, st, 3)
	cfg := testConfig() // NoAuth: an admin, who sees the live state, the exchanges and the accesses
	j := OpenJournal(cfg, st, NewMetrics(), quietLog())
	g := &gw{srv: NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithJournal(j))}
	base := g.adminBase(t)
	if code, page := get(t, base+admin.PathPage); code != 200 || !strings.Contains(page, `<b id="dead-letters">3</b>`) {
		t.Fatalf("page with Redis up = %d:\n%s", code, page)
	}

	srv.Pause(t)
	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(base + admin.PathPage)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	page := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("page with Redis hung = %d after %v:\n%s", resp.StatusCode, took, page)
	}
	if limit := 4 * time.Second; took > limit {
		t.Errorf("with Redis hung the page took %v to draw, want at most %v", took.Round(time.Millisecond), limit)
	}
	if strings.Contains(page, "no exchanges match") {
		t.Errorf("with Redis hung the page says no exchanges match, which it did not read:\n%s", page)
	}
	for _, want := range []string{`<b id="dead-letters">?</b>`, `<b id="q-inbox">?</b>`, "exchanges not read", "accesses not read", "not read (see above)"} {
		if !strings.Contains(page, want) {
			t.Errorf("with Redis hung the page does not say %q:\n%s", want, page)
		}
	}
}

// TestStateAfterRedisHiccupCountsRates: the rates (and the gateway's
// part of the live state) shared by every poller were read with the
// context of the poll that started the reading, once that poll had spent
// its budget elsewhere: with Redis hung for the length of one poll, that
// poll reached the rates with its time gone, the failed count was kept
// and shown to every poller for ratesEvery (10 s), though Redis answered
// again at once. A shared reading now runs with a time of its own,
// detached from the poll that starts it.
func TestStateAfterRedisHiccupCountsRates(t *testing.T) {
	srv, st := redisServerStore(t)
	cfg := testConfig()
	j := OpenJournal(cfg, st, NewMetrics(), quietLog())
	g := &gw{srv: NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithJournal(j))}
	base := g.adminBase(t)
	state := func() admin.State {
		t.Helper()
		code, body := get(t, base+admin.PathState)
		var s admin.State
		if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("state = %d %.300s", code, body)
		}
		return s
	}

	srv.Pause(t)
	if s := state(); s.Known(admin.UnknownRates) {
		t.Fatalf("with Redis hung the rates are said to be counted: %+v", s)
	}
	srv.Resume()
	time.Sleep(admin.LiveEvery + 500*time.Millisecond)
	s := state()
	for _, f := range []string{admin.UnknownRates, admin.UnknownDeadLetterCount, admin.UnknownInbox} {
		if !s.Known(f) {
			t.Errorf("%v after Redis answers again, %s is still unknown: %v", admin.LiveEvery+500*time.Millisecond, f, s.Problems)
		}
	}
}

// TestExchangeViewsWithRedisHungAnswerQuickly: with Redis hung (SIGSTOP)
// the page of one exchange, the search API, one exchange's JSON and the
// access journal each took the request's whole 10 s to answer 503, the
// exchange page as the API's JSON, and none said Redis had not answered
// ("read tcp ...: i/o timeout"). Each now answers within the live state's
// budget (3 s), says the journal did not answer within it, and the
// exchange page says so on a page.
func TestExchangeViewsWithRedisHungAnswerQuickly(t *testing.T) {
	srv, st := redisServerStore(t)
	cfg := testConfig() // NoAuth: an admin
	cfg.Journal.Backend = "redis"
	j := OpenJournal(cfg, st, NewMetrics(), quietLog())
	g := &gw{srv: NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithJournal(j))}
	base := g.adminBase(t)
	if code, _ := get(t, base+admin.PathExchanges); code != 200 {
		t.Fatalf("search with Redis up = %d", code)
	}

	srv.Pause(t)
	client := &http.Client{Timeout: 30 * time.Second}
	tests := []struct {
		name, path, says string
		html             bool
	}{
		{"exchange page", admin.PathPageExchange + "HUNG-1", "exchange HUNG-1 not read", true},
		{"exchange API", admin.PathExchanges + "/HUNG-1", "exchange HUNG-1 not read", false},
		{"search API", admin.PathExchanges + "?id=HUNG-1", "exchanges not read", false},
		{"access journal", admin.PathAccess, "accesses not read", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+tc.path, nil)
			if tc.html {
				req.Header.Set("Accept", "text/html")
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			took, body := time.Since(start), string(b)
			if limit := 4 * time.Second; took > limit {
				t.Errorf("with Redis hung %s took %v to answer, want at most %v", tc.path, took.Round(time.Millisecond), limit)
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("with Redis hung %s = %d, want 503", tc.path, resp.StatusCode)
			}
			for _, want := range []string{tc.says, "did not answer within 3s"} {
				if !strings.Contains(body, want) {
					t.Errorf("with Redis hung %s does not say %q:\n%.500s", tc.path, want, body)
				}
			}
			if isHTML := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"); isHTML != tc.html {
				t.Errorf("%s answered %s, want HTML %v", tc.path, resp.Header.Get("Content-Type"), tc.html)
			}
		})
	}
}

// TestGatewayViewsWithRedisHungAnswerQuickly: with Redis hung (SIGSTOP)
// the gateway's own admin views (the dead-letter list, one dead letter,
// the queues and the tracked cancellations) each waited out a 5 s
// deadline of their own (the cancellations view up to three of them, one
// after the other) and answered 503 with go-redis's "context deadline
// exceeded" alone, where the exchange views answer within the live
// state's budget (3 s) and say the store did not answer. Each now answers
// within that budget and says so.
func TestGatewayViewsWithRedisHungAnswerQuickly(t *testing.T) {
	srv, st := redisServerStore(t)
	deadLettersIn(t, st, 3)
	opts := cancelTestOptions(time.Hour, 2*time.Second)
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), Config: opts, Log: quietLog()})
	s := NewServer(testConfig(), st, fakeUpstream{}, quietLog(), NewMetrics())
	s.EnableCancellations(c)
	g := &gw{srv: s}
	base := g.adminBase(t)
	tests := []struct{ name, path string }{
		{"dead letters", PathDeadLetters},
		{"one dead letter", DeadLetterItemURL("", "processing:DL-001")},
		{"queues", PathQueues},
		{"cancellations", cancels.PathAdmin},
	}
	for _, tc := range tests {
		if code, body := get(t, base+tc.path); code != 200 {
			t.Fatalf("%s with Redis up = %d %.300s", tc.path, code, body)
		}
	}

	srv.Pause(t)
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, err := client.Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			took, body := time.Since(start), string(b)
			t.Logf("%s: %d after %v: %.300s", tc.path, resp.StatusCode, took.Round(time.Millisecond), body)
			if limit := 4 * time.Second; took > limit {
				t.Errorf("with Redis hung %s took %v to answer, want at most %v", tc.path, took.Round(time.Millisecond), limit)
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("with Redis hung %s = %d, want 503", tc.path, resp.StatusCode)
			}
			if want := "the store did not answer within 3s"; !strings.Contains(body, want) {
				t.Errorf("with Redis hung %s does not say %q:\n%.500s", tc.path, want, body)
			}
		})
	}
}
