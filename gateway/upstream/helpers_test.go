package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

var quiet = slog.New(slog.DiscardHandler)

// startSim serves a simulator on 127.0.0.1:0 until the test ends and
// returns it with its root URL.
func startSim(t *testing.T, opts sim.Options) (*sim.Server, string) {
	t.Helper()
	opts.Logger = quiet
	s := sim.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim Serve: %v", err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

// recorded is one attempt as it left the client.
type recorded struct {
	path, requestID, correlationID, sessionURID, auth string
	body                                              []byte
}

// recorder is the innermost transport: it records every attempt and can
// fail chosen ones before they leave.
type recorder struct {
	next http.RoundTripper
	fail func(n int, r *http.Request) error // n counts attempts from 1

	mu   sync.Mutex
	reqs []recorded
}

func newRecorder() *recorder {
	return &recorder{next: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{path: req.URL.Path, requestID: req.Header.Get(HeaderRequestID),
		correlationID: req.Header.Get(HeaderCorrelationID), sessionURID: req.Header.Get(HeaderSessionURID),
		auth: req.Header.Get("Authorization"), body: body})
	n := len(r.reqs)
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(n, req); err != nil {
			return nil, err
		}
	}
	return r.next.RoundTrip(req)
}

// CloseIdleConnections lets Client.Close reach the real transport.
func (r *recorder) CloseIdleConnections() {
	if ci, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (r *recorder) attempts(pathSuffix string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if strings.HasSuffix(q.path, pathSuffix) {
			out = append(out, q)
		}
	}
	return out
}

// testConfig is a fast client configuration against root.
func testConfig(root string, rt http.RoundTripper) Config {
	return Config{
		BaseURL:   root + sim.DefaultBasePath,
		Transport: rt,
		Retry: RetryConfig{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
			TotalTimeout: 10 * time.Second, AttemptTimeout: 5 * time.Second,
			Jitter: func(d time.Duration) time.Duration { return d }},
		Breaker: BreakerConfig{ConsecutiveFailures: 100, Timeout: time.Second},
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg, quiet)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rx is one test prescription's ids.
type rx struct {
	sf, item1, item2, nhs, pharmacy, msgID string
}

// rxMaker numbers the prescriptions of one test.
type rxMaker struct{ n atomic.Uint32 }

func (m *rxMaker) next(t testing.TB, pharmacy string) rx {
	t.Helper()
	n := m.n.Add(1)
	sf, err := sim.MakeShortFormID(n, "A83008")
	if err != nil {
		t.Fatal(err)
	}
	return rx{sf: sf, nhs: "9449304130", pharmacy: pharmacy,
		item1: fmt.Sprintf("a0000000-0000-4000-8000-%012d", n*10+1),
		item2: fmt.Sprintf("a0000000-0000-4000-8000-%012d", n*10+2),
		msgID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", n)}
}

// fixture reads ../sim/testdata/name with the prescription's ids in place of
// its tokens (see that folder's README).
func (p rx) fixture(t testing.TB, name string, extra map[string]string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "sim", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	repl := map[string]string{"SHORTFORMID": p.sf, "NHSNUMBER": p.nhs, "MESSAGEID": p.msgID, "REQUESTER": "100102238986",
		"PHARMACY": p.pharmacy, "REPLACES": "", "FOCUSID": "", "CLAIMID": "c0000000-0000-4000-8000-000000000001",
		"STATUS1": "0001", "STATUS2": "0001", "ITEM1": p.item1, "ITEM2": p.item2}
	for k, v := range extra {
		repl[k] = v
	}
	s := string(raw)
	for _, k := range []string{"SHORTFORMID", "NHSNUMBER", "MESSAGEID", "REQUESTER", "PHARMACY", "REPLACES",
		"FOCUSID", "CLAIMID", "STATUS1", "STATUS2", "ITEM1", "ITEM2"} {
		s = strings.ReplaceAll(s, k, repl[k])
	}
	return []byte(s)
}

// clock is a settable clock shared by client and simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lostAnswers serves a front to the simulator at simRoot until the test
// ends and returns its root URL. A request that take picks reaches the
// simulator, which acts on it, but its answer is lost: answer writes what
// the caller gets instead (a gateway's 5xx, a dropped connection). Every
// other request passes through.
func lostAnswers(t *testing.T, simRoot string, take func(*http.Request) bool, answer func(http.ResponseWriter)) string {
	t.Helper()
	target, err := url.Parse(simRoot)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !take(r) {
			proxy.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequest(r.Method, simRoot+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Errorf("forward %s: %v", r.URL, err)
			return
		}
		req.Header = r.Header.Clone()
		if resp, err := http.DefaultClient.Do(req); err != nil {
			t.Errorf("forward %s: %v", r.URL, err)
		} else {
			resp.Body.Close()
		}
		answer(w)
	}))
	t.Cleanup(front.Close)
	return front.URL
}
