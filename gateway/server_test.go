package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

type fakeUpstream struct {
	err error
	// breaker is the state of the release breaker; "" is closed.
	breaker string
}

func (f fakeUpstream) Ping(context.Context) error { return f.err }
func (f fakeUpstream) BreakerStates() map[string]string {
	if f.breaker != "" {
		return map[string]string{"release": f.breaker, "claim": "closed"}
	}
	return map[string]string{"release": "closed"}
}
func (f fakeUpstream) Describe() string { return "fake" }

// startServer serves on a real loopback socket and returns its base URL.
func startServer(t *testing.T, st store.Store, up Upstream) string {
	t.Helper()
	return startServerWith(t, DefaultConfig(), st, up)
}

// startServerWith is startServer with cfg.
func startServerWith(t *testing.T, cfg Config, st store.Store, up Upstream) string {
	t.Helper()
	cfg.ShutdownTimeout = 2 * time.Second
	srv := NewServer(cfg, st, up, slog.New(slog.NewTextHandler(io.Discard, nil)), NewMetrics())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	redisSrv := redistest.Start(t)
	redisStore, err := store.NewRedis(redisSrv.URL(), "t:")
	if err != nil {
		t.Fatal(err)
	}
	defer redisStore.Close()
	closedStore := store.NewMemory(nil)
	_ = closedStore.Close()
	// By default readiness follows the store alone (EPS's state is in the
	// body): while EPS is down the gateway takes and keeps messages, and a
	// load balancer following EPS would take every replica out at once.
	// Before, an EPS outage or an open breaker made every replica 503.
	// --readyz-upstream counts EPS too.
	tests := []struct {
		name           string
		st             store.Store
		up             Upstream
		readyzUpstream bool
		wantReady      int
		wantIn         string
	}{
		{"memory and upstream", store.NewMemory(nil), fakeUpstream{}, false, 200, `"release":"closed"`},
		{"redis and upstream", redisStore, fakeUpstream{}, false, 200, `"kind":"redis"`},
		{"no upstream", store.NewMemory(nil), nil, false, 503, `"not configured"`},
		{"store down", closedStore, fakeUpstream{}, false, 503, `"unreachable"`},
		{"upstream down", store.NewMemory(nil), fakeUpstream{err: errors.New("connection refused")}, false, 200, "connection refused"},
		{"breaker half-open", store.NewMemory(nil), fakeUpstream{breaker: "half-open"}, false, 200, `"status":"breaker half-open"`},
		{"breaker open", store.NewMemory(nil), fakeUpstream{breaker: "open"}, false, 200, `"status":"breaker open"`},
		{"upstream counted: upstream down", store.NewMemory(nil), fakeUpstream{err: errors.New("connection refused")}, true, 503, "connection refused"},
		{"upstream counted: breaker half-open", store.NewMemory(nil), fakeUpstream{breaker: "half-open"}, true, 200, `"status":"breaker half-open"`},
		{"upstream counted: breaker open", store.NewMemory(nil), fakeUpstream{breaker: "open"}, true, 503, `"status":"breaker open"`},
		{"upstream counted: store down", closedStore, fakeUpstream{}, true, 503, `"unreachable"`},
		{"upstream counted: all well", store.NewMemory(nil), fakeUpstream{}, true, 200, `"status":"ready"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ReadyzUpstream = tt.readyzUpstream
			base := startServerWith(t, cfg, tt.st, tt.up)
			if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, `"up"`) {
				t.Fatalf("/healthz = %d %s", code, body)
			}
			code, body := get(t, base+"/readyz")
			if code != tt.wantReady || !strings.Contains(body, tt.wantIn) {
				t.Fatalf("/readyz = %d %s; want %d containing %s", code, body, tt.wantReady, tt.wantIn)
			}
			var parsed map[string]any
			if err := json.Unmarshal([]byte(body), &parsed); err != nil {
				t.Fatalf("/readyz not JSON: %v", err)
			}
		})
	}
}

func TestMetricsExposition(t *testing.T) {
	base := startServer(t, store.NewMemory(nil), fakeUpstream{})
	get(t, base+"/healthz")
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{`porxgate_http_requests_total{code="200",route="/healthz"} 1`, "go_goroutines", "porxgate_http_request_duration_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestGracefulShutdownDrains checks that a request in flight when shutdown
// starts is still answered.
func TestGracefulShutdownDrains(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 5 * time.Second
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, slog.New(slog.NewTextHandler(io.Discard, nil)), NewMetrics())
	entered, release := slowRoute(srv.App())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	got := getAsync("http://" + ln.Addr().String() + "/slow")
	<-entered
	cancel()
	time.Sleep(50 * time.Millisecond) // let shutdown begin while /slow is in flight
	close(release)
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q, want done", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestStopAsItStarts stops the gateway at the moments its listeners are
// still starting: a stop signal taken before the front door or the admin
// listener serves. fasthttp's Shutdown does nothing for a listener its
// Serve has not taken yet, which then served on for ever and held the
// gateway's shutdown with it. Each stop must return within the shutdown
// timeout, and the listeners must be closed.
func TestStopAsItStarts(t *testing.T) {
	cases := []struct {
		name string
		// stop cancels the run's context at the moment under test.
		stop func(srv *Server, cancel context.CancelFunc)
	}{
		{"before serving", func(_ *Server, cancel context.CancelFunc) { cancel() }},
		{"as the admin listener opens", func(srv *Server, cancel context.CancelFunc) {
			srv.AdminAddr(5 * time.Second)
			cancel()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 20 {
				cfg := testConfig()
				cfg.Admin.Addr = "127.0.0.1:0"
				srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics())
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- srv.ServeAndWork(ctx, ln) }()
				tc.stop(srv, cancel)
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("run %d: ServeAndWork: %v", i, err)
					}
				case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
					t.Fatalf("run %d: still running %v after the stop", i, cfg.ShutdownTimeout+5*time.Second)
				}
				for _, addr := range []string{ln.Addr().String(), srv.AdminAddr(0)} {
					if addr == "" {
						continue
					}
					if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
						c.Close()
						t.Fatalf("run %d: %s still accepts connections after the stop", i, addr)
					}
				}
			}
		})
	}
}

// TestServeAppListenerFails closes the listener under a serving app, as a
// failing listener ends fasthttp's Serve: the request in flight must still
// be answered before serveApp returns, and the error must say that serving
// stopped, not print a nil error.
func TestServeAppListenerFails(t *testing.T) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	entered, release := slowRoute(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	stopping := make(chan struct{}, 1)
	go func() {
		served <- serveApp(context.Background(), app, ln, 5*time.Second, func() { stopping <- struct{}{} })
	}()
	got := getAsync("http://" + ln.Addr().String() + "/slow")
	<-entered
	ln.Close()
	select {
	case <-stopping:
	case <-time.After(5 * time.Second):
		t.Fatal("serveApp did not begin draining after its listener closed")
	}
	select {
	case err := <-served:
		t.Fatalf("serveApp returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q, want done", body)
	}
	select {
	case err := <-served:
		if err == nil || !errors.Is(err, errListenerClosed) || strings.Contains(err.Error(), "%!") {
			t.Fatalf("serveApp: %v, want an error saying the listener was closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveApp did not return after the request in flight was answered")
	}
}

// slowRoute adds GET /slow to app: entered is closed when a request is in
// its handler, which answers "done" once release is closed.
func slowRoute(app *fiber.App) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	app.Get("/slow", func(c *fiber.Ctx) error {
		close(entered)
		<-release
		return c.SendString("done")
	})
	return entered, release
}

// getAsync GETs url in the background; the channel gets the body, or
// "error: ..." when the request failed.
func getAsync(url string) <-chan string {
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	return got
}
