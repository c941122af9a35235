package admin

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/testnet"
)

// busyRedisJournal returns a Redis journal holding n exchanges of the
// last hour, ending at now (one every 0.5 s), and its server.
func busyRedisJournal(t *testing.T, now time.Time, n int) (*journal.Redis, *redistest.Server) {
	t.Helper()
	b, srv := redisJournal(t)
	evs := make([]journal.Event, 0, 500)
	for i := range n {
		evs = append(evs, journal.Event{Exchange: "M" + strconv.Itoa(i), At: now.Add(-time.Duration(n-1-i) * 500 * time.Millisecond),
			Interaction: "PORX_IN020101SM31", Outcome: &journal.Outcome{Result: "accepted"}})
		if len(evs) == cap(evs) || i == n-1 {
			if _, err := b.ApplyAll(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	return b, srv
}

// redisJournal returns an empty Redis journal on a redis-server of the
// test's own.
func redisJournal(t *testing.T) (*journal.Redis, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rs, err := store.NewRedis(srv.URL(), "t:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	return journal.NewRedis(rs.Client(), rs.Prefix(), journal.Retention{}), srv
}

// TestStatePollCostIsBounded: every poll of the live state (the page
// polls it every 5 s, each operator's page on its own) counted the rates
// afresh from up to 5000 journal summaries: 51 Redis commands a poll with
// a busy hour, so N operators cost 10·N commands a second. The rates are
// now counted at most once every ratesEvery, shared by every poller, and
// the state says when they were counted; a poll past that counts again.
func TestStatePollCostIsBounded(t *testing.T) {
	start := time.Now().UTC()
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	b, srv := busyRedisJournal(t, start, 5000)
	j := journal.New(b, journal.Options{})
	base := listen(t, New(AuthConfig{Tokens: []Token{NewToken("v", RoleViewer, "viewer-token-0123456789")}}, Deps{Journal: j, Now: now}))
	poll := func() State {
		t.Helper()
		code, body := getAs(t, base, "viewer-token-0123456789", PathState)
		var st State
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("state = %d %.300s", code, body)
		}
		return st
	}

	first := poll()
	if len(first.Rates) != 1 || first.Rates[0].LastHour != 5000 || first.RatesAt.IsZero() {
		t.Fatalf("first poll: rates %+v counted at %v, want 5000 accepted and when", first.Rates, first.RatesAt)
	}
	const pollers, rounds = 10, 3
	before := srv.Stat(t, "total_commands_processed")
	for range rounds {
		var wg sync.WaitGroup
		for range pollers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if st := poll(); len(st.Rates) != 1 || st.Rates[0].LastHour != 5000 || !st.RatesAt.Equal(first.RatesAt) {
					t.Errorf("a poll within %v of the count: rates %+v counted at %v, want those counted at %v", ratesEvery, st.Rates, st.RatesAt, first.RatesAt)
				}
			}()
		}
		wg.Wait()
	}
	used := srv.Stat(t, "total_commands_processed") - before - 1 // the INFO itself
	if per := float64(used) / (pollers * rounds); per > 4 {
		t.Errorf("%d pollers × %d rounds cost %d Redis commands, %.1f a poll; want at most 4 (the journal's size), the rates counted once per %v",
			pollers, rounds, used, per, ratesEvery)
	}

	// Past ratesEvery the rates are counted again, and say when.
	if err := b.Apply(context.Background(), journal.Event{Exchange: "NEW", At: start.Add(time.Second),
		Interaction: "PORX_IN020101SM31", Outcome: &journal.Outcome{Result: "rejected"}}); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(ratesEvery + time.Second))
	later := poll()
	if !later.RatesAt.Equal(now()) || len(later.Rates) != 2 {
		t.Errorf("a poll past %v: rates %+v counted at %v, want them counted again at %v with the new exchange", ratesEvery, later.Rates, later.RatesAt, now())
	}
}

// TestPageRatesUnreadAreNotNone: with the journal unreadable (its Redis
// down) the page's rates table said "no exchanges in the last hour", which
// an operator reads as a quiet hour. It now says the rates could not be
// counted, and why.
func TestPageRatesUnreadAreNotNone(t *testing.T) {
	// Its Redis is down for good: an address that refuses connections and
	// that no other test's redis-server can take (a server killed here
	// freed its port, which a server started by a test running beside it
	// once took, and the journal read that server's empty hour).
	rs, err := store.NewRedis("redis://"+testnet.RefusingAddr(t), "t:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	b := journal.NewRedis(rs.Client(), rs.Prefix(), journal.Retention{})
	base := listen(t, New(AuthConfig{Tokens: []Token{NewToken("v", RoleViewer, "viewer-token-0123456789")}}, Deps{Journal: journal.New(b, journal.Options{})}))
	code, page := getAs(t, base, "viewer-token-0123456789", PathPage)
	if code != 200 {
		t.Fatalf("page = %d %.300s", code, page)
	}
	if strings.Contains(page, "no exchanges in the last hour") || !strings.Contains(page, `id="rates-unread"`) {
		t.Errorf("with the journal down the rates table does not say they could not be counted:\n%s", page)
	}
}
