package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// trackerBundleView is what the paging tests read of a tracker answer.
type trackerBundleView struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource struct {
			Focus struct {
				Identifier struct {
					Value string `json:"value"`
				} `json:"identifier"`
			} `json:"focus"`
		} `json:"resource"`
	} `json:"entry"`
}

func readTrackerBundle(t *testing.T, body []byte) trackerBundleView {
	t.Helper()
	var b trackerBundleView
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("tracker answer: %v\n%.400s", err, body)
	}
	return b
}

// TestTrackerGetFollowsSimulatorPages pages the simulator's tracker answers
// two Tasks at a time, behind signed-JWT authentication: TrackerGet reads
// all five of a patient's prescriptions in three calls, each with the
// token, on the tracker's breaker, and hands back one Bundle without a next
// link. Before it followed links it handed back the first two only, with
// nothing to say the rest were missing.
func TestTrackerGetFollowsSimulatorPages(t *testing.T) {
	key := genKey(t)
	clk := &clock{t: t0}
	s, root := startSim(t, sim.Options{PublicKey: &key.PublicKey, APIKey: "app-key", Kid: "k1", Now: clk.Now, TrackerPageSize: 2})
	rec := newRecorder()
	cfg := testConfig(root, rec)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL, cfg.Now = "app-key", "k1", key, root+"/oauth2/token", clk.Now
	var mu sync.Mutex
	ops := map[string]int{}
	cfg.ObserveAttempt = func(op, _, _ string, _ time.Duration) {
		mu.Lock()
		ops[op]++
		mu.Unlock()
	}
	c := newClient(t, cfg)

	mk := &rxMaker{}
	var want []string
	for range 5 {
		p := mk.next(t, "FH542")
		r, err := c.ProcessMessage(context.Background(), p.fixture(t, "prescription-order.json", nil))
		wantStatus(t, "prescription-order "+p.sf, r, err, http.StatusOK)
		want = append(want, p.sf)
	}

	r, err := c.TrackerGet(context.Background(), url.Values{"patient:identifier": {"9449304130"}})
	wantStatus(t, "tracker", r, err, http.StatusOK)
	b := readTrackerBundle(t, r.Body)
	var got []string
	for _, e := range b.Entry {
		got = append(got, e.Resource.Focus.Identifier.Value)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("TrackerGet read %d prescriptions %v, want all %d %v", len(got), got, len(want), want)
	}
	if b.ResourceType != "Bundle" || b.Type != "searchset" || b.Total == nil || *b.Total != 5 {
		t.Errorf("merged answer: %s %s total %v, want a searchset Bundle of total 5", b.ResourceType, b.Type, b.Total)
	}
	for _, l := range b.Link {
		if l.Relation == "next" {
			t.Errorf("merged answer keeps a next link %s", l.URL)
		}
	}
	if r.Pages != 3 || r.Attempts != 3 {
		t.Errorf("Pages %d Attempts %d, want 3 and 3", r.Pages, r.Attempts)
	}
	calls := rec.attempts("/Task")
	if len(calls) != 3 {
		t.Fatalf("%d GET Task calls, want 3 (one a page)", len(calls))
	}
	for i, a := range calls {
		if !strings.HasPrefix(a.auth, "Bearer ") {
			t.Errorf("page %d sent without the bearer token: %q", i+1, a.auth)
		}
	}
	mu.Lock()
	if ops[OpTracker] != 3 {
		t.Errorf("attempts by operation %v, want 3 on the tracker's", ops)
	}
	mu.Unlock()
	if st := s.Stats(); st.Requests["tracker"] != 3 || st.Unauthorized != 0 {
		t.Errorf("simulator saw %+v, want 3 tracker calls, none unauthorized", st)
	}

	// A search that fits one page is one call, as before.
	r, err = c.TrackerGet(context.Background(), url.Values{"focus:identifier": {want[0]}})
	wantStatus(t, "tracker one page", r, err, http.StatusOK)
	if b := readTrackerBundle(t, r.Body); len(b.Entry) != 1 || r.Pages != 0 {
		t.Errorf("one-page search: %d entries, Pages %d", len(b.Entry), r.Pages)
	}
}

// pagedEPS serves GET Task as page(n) says, n counting calls from 1.
func pagedEPS(t *testing.T, page func(n int, r *http.Request) (int, string)) (root string, calls *atomic.Int32) {
	t.Helper()
	calls = &atomic.Int32{}
	root = servePlain(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		status, body := page(n, r)
		w.Header().Set("Content-Type", ContentTypeFHIR)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	return root, calls
}

// servePlain serves h on a loopback port until the test ends.
func servePlain(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// searchsetPage is a tracker page with one Task and, when next is not
// empty, a next link.
func searchsetPage(id, next string) string {
	links := `[{"relation":"self","url":"x"}]`
	if next != "" {
		links = fmt.Sprintf(`[{"relation":"self","url":"x"},{"relation":"next","url":%q}]`, next)
	}
	return fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","total":9,"link":%s,`+
		`"entry":[{"resource":{"resourceType":"Task","focus":{"identifier":{"value":%q}}}}]}`, links, id)
}

// TestTrackerGetPagingRefusals: a paged answer TrackerGet cannot read whole
// is an error — never the pages read so far as if they were all — and a
// next link away from the EPS base is never called.
func TestTrackerGetPagingRefusals(t *testing.T) {
	var elsewhere atomic.Int32
	other := servePlain(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte(searchsetPage("STOLEN", "")))
	}))
	otherURL, _ := url.Parse(other)
	tests := []struct {
		name     string
		page     func(root string, n int, r *http.Request) (int, string)
		config   func(*Config)
		cancel   bool // cancel the context once the first page is answered
		wantErr  error
		maxCalls int32
	}{
		{name: "next link to another host",
			page: func(_ string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", other+sim.DefaultBasePath+"/Task?_offset=1")
			},
			wantErr: ErrTrackerPaging, maxCalls: 1},
		{name: "next link to the same host name on another port",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", "http://127.0.0.1:"+otherURL.Port()+sim.DefaultBasePath+"/Task?_offset=1")
			},
			wantErr: ErrTrackerPaging, maxCalls: 1},
		{name: "next link with user information",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", strings.Replace(root, "http://", "http://u:p@", 1)+sim.DefaultBasePath+"/Task?_offset=1")
			},
			wantErr: ErrTrackerPaging, maxCalls: 1},
		{name: "next link outside the base path",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", root+"/_admin/faults")
			},
			wantErr: ErrTrackerPaging, maxCalls: 1},
		{name: "next link climbing out of the base",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", root+sim.DefaultBasePath+"/%2e%2e/%2e%2e/_admin/faults")
			},
			wantErr: ErrTrackerPaging, maxCalls: 1},
		{name: "link loop",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage(strconv.Itoa(n), root+sim.DefaultBasePath+"/Task?_offset=1")
			},
			wantErr: ErrTrackerPaging, maxCalls: 2},
		{name: "more pages than the cap",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage(strconv.Itoa(n), root+sim.DefaultBasePath+"/Task?_offset="+strconv.Itoa(n))
			},
			config:  func(c *Config) { c.TrackerMaxPages = 4 },
			wantErr: ErrTrackerPaging, maxCalls: 4},
		{name: "pages larger than the cap together",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage(strings.Repeat("X", 300), root+sim.DefaultBasePath+"/Task?_offset="+strconv.Itoa(n))
			},
			config:  func(c *Config) { c.MaxResponseBytes = 1000 },
			wantErr: ErrTrackerPaging, maxCalls: 3},
		{name: "a later page refused",
			page: func(root string, n int, _ *http.Request) (int, string) {
				if n == 1 {
					return 200, searchsetPage("A", root+sim.DefaultBasePath+"/Task?_offset=1")
				}
				return 400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`
			},
			wantErr: ErrTrackerPaging, maxCalls: 2},
		{name: "a later page failing",
			page: func(root string, n int, _ *http.Request) (int, string) {
				if n == 1 {
					return 200, searchsetPage("A", root+sim.DefaultBasePath+"/Task?_offset=1")
				}
				return 503, `{}`
			},
			wantErr: ErrRetriesExhausted, maxCalls: 4},
		{name: "a later page not a searchset",
			page: func(root string, n int, _ *http.Request) (int, string) {
				if n == 1 {
					return 200, searchsetPage("A", root+sim.DefaultBasePath+"/Task?_offset=1")
				}
				return 200, `{"resourceType":"OperationOutcome","issue":[]}`
			},
			wantErr: ErrTrackerPaging, maxCalls: 2},
		{name: "caller gone between pages",
			page: func(root string, n int, _ *http.Request) (int, string) {
				return 200, searchsetPage("A", root+sim.DefaultBasePath+"/Task?_offset="+strconv.Itoa(n))
			},
			cancel: true, wantErr: context.Canceled, maxCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var root string
			var cancel context.CancelFunc
			root, calls := pagedEPS(t, func(n int, r *http.Request) (int, string) {
				status, body := tt.page(root, n, r)
				if tt.cancel && n == 1 {
					cancel()
				}
				return status, body
			})
			cfg := testConfig(root, nil)
			if tt.config != nil {
				tt.config(&cfg)
			}
			c := newClient(t, cfg)
			ctx, cancelCtx := context.WithCancel(context.Background())
			defer cancelCtx()
			cancel = cancelCtx
			before := elsewhere.Load()
			r, err := c.TrackerGet(ctx, url.Values{"patient:identifier": {"9449304130"}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("TrackerGet = %+v, %v; want an error matching %v", r, err, tt.wantErr)
			}
			if r != nil {
				t.Errorf("TrackerGet handed back a partial answer with its error: %.200s", r.Body)
			}
			if n := calls.Load(); n > tt.maxCalls {
				t.Errorf("EPS called %d times, want at most %d", n, tt.maxCalls)
			}
			if elsewhere.Load() != before {
				t.Error("the client followed a link away from the EPS base")
			}
		})
	}
}

// TestTrackerGetRelativeNextLink follows a next link written relative to
// the page it came from, and keeps the first page's other members.
func TestTrackerGetRelativeNextLink(t *testing.T) {
	root, calls := pagedEPS(t, func(n int, r *http.Request) (int, string) {
		if n == 1 {
			return 200, searchsetPage("A", "Task?patient:identifier=9449304130&_offset=1")
		}
		if r.URL.Path != sim.DefaultBasePath+"/Task" || r.URL.Query().Get("_offset") != "1" {
			return 404, `{}`
		}
		return 200, searchsetPage("B", "")
	})
	c := newClient(t, testConfig(root, nil))
	r, err := c.TrackerGet(context.Background(), url.Values{"patient:identifier": {"9449304130"}})
	wantStatus(t, "tracker", r, err, http.StatusOK)
	b := readTrackerBundle(t, r.Body)
	if len(b.Entry) != 2 || b.Entry[0].Resource.Focus.Identifier.Value != "A" || b.Entry[1].Resource.Focus.Identifier.Value != "B" {
		t.Errorf("merged entries %+v, want A then B", b.Entry)
	}
	if b.Total == nil || *b.Total != 9 || len(b.Link) != 1 || b.Link[0].Relation != "self" {
		t.Errorf("total %v links %+v, want EPS's total 9 and its self link only", b.Total, b.Link)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls, want 2", calls.Load())
	}
}

// TestMayLinkNext: only a body that cannot name a "next" link skips the
// paging decode; an escaped spelling is still decoded.
func TestMayLinkNext(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"resourceType":"Bundle","type":"searchset","entry":[]}`, false},
		{`{"resourceType":"Bundle","link":[{"relation":"next","url":"x"}]}`, true},
		{`{"resourceType":"Bundle","link":[{"relation":"\u006eext","url":"x"}]}`, true},
		{``, false},
	}
	for _, tt := range tests {
		if got := mayLinkNext([]byte(tt.body)); got != tt.want {
			t.Errorf("mayLinkNext(%s) = %v, want %v", tt.body, got, tt.want)
		}
		if p, ok := readPage([]byte(tt.body)); ok && p.next() != "" && !mayLinkNext([]byte(tt.body)) {
			t.Errorf("%s has a next link the pre-check misses", tt.body)
		}
	}
}
