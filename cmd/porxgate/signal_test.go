package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/internal/testnet"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// binary is the porxgate binary the process-level tests run: the one
// PORXGATE_SMOKE_BIN names (.ci/run builds it), else one built once for
// this test run.
var binary struct {
	once sync.Once
	path string
	err  error
}

// porxgateBinary returns the binary, building it on first use; the build
// is removed when the test run ends (TestMain).
func porxgateBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	binary.once.Do(func() {
		if p := os.Getenv("PORXGATE_SMOKE_BIN"); p != "" {
			binary.path = p
			return
		}
		dir, err := os.MkdirTemp("", "porxgate-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "porxgate")
		if out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput(); err != nil {
			binary.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" && os.Getenv("PORXGATE_SMOKE_BIN") == "" {
		_ = os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// gatewayProcess is a running porxgate command (`porxgate serve`, most
// often) and its log lines.
type gatewayProcess struct {
	cmd    *exec.Cmd
	lines  chan string
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's, once done is closed
	stdout bytes.Buffer  // what it printed, to read once done is closed

	mu  sync.Mutex
	log []string
}

// startGatewayProcess starts `porxgate serve` with args; it is killed
// when the test ends.
func startGatewayProcess(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	return startPorxgate(t, append([]string{"serve"}, args...)...)
}

// startPorxgate starts porxgate with args (its command first); it is
// killed when the test ends.
func startPorxgate(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(porxgateBinary(t), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	p := &gatewayProcess{cmd: cmd, lines: make(chan string, 256), done: make(chan struct{})}
	cmd.Stdout = &p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// logText is the process's log so far.
func (p *gatewayProcess) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// waitLog waits (at most limit) for a log line containing s.
func (p *gatewayProcess) waitLog(t *testing.T, s string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		if strings.Contains(p.logText(), s) {
			return
		}
		select {
		case <-p.lines:
		case <-p.done:
			if strings.Contains(p.logText(), s) {
				return
			}
			t.Fatalf("exited (%v) before logging %q:\n%s", p.err, s, p.logText())
		case <-deadline:
			t.Fatalf("no %q logged within %v:\n%s", s, limit, p.logText())
		}
	}
}

// addr waits for the gateway's "porxgate listening" line and returns the
// front door's address as bound (started on port 0, so that no other test
// can take a port picked for it in between).
func (p *gatewayProcess) addr(t *testing.T) string {
	t.Helper()
	p.waitLog(t, `"msg":"porxgate listening"`, 15*time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.log {
		if a, ok := listenedOn(l); ok {
			return a
		}
	}
	t.Fatalf("no front door address in:\n%s", strings.Join(p.log, "\n"))
	return ""
}

// waitExit waits (at most limit) for the process to exit.
func (p *gatewayProcess) waitExit(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		t.Fatalf("still running %v later:\n%s", limit, p.logText())
		return nil
	}
}

// waitHealthy waits until the gateway on addr answers /healthz.
func (p *gatewayProcess) waitHealthy(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("/healthz never answered: %v\n%s", err, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdingUpstream is an EPS on loopback that never answers: each call
// waits until the caller gives up. reached gets a value per call.
func holdingUpstream(t *testing.T) (url string, reached <-chan struct{}) {
	t.Helper()
	ch, release := make(chan struct{}, 16), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case ch <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL + "/FHIR/R4", ch
}

// sendPrescription posts one ebXML ParentPrescription to the gateway on
// addr and checks it was accepted.
func sendPrescription(t *testing.T, addr string) {
	t.Helper()
	payload, err := prescribe.PrescribeToV3(loadgen.PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToUpper(ids.NewUUID())
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: "SIGTEST-0000001", ToPartyID: "YES-0000806", CPAID: "S20001A000100",
		ConversationID: id, Action: v3.ParentPrescription, MessageID: id, Timestamp: time.Now(),
		SyncReply: true, DuplicateElimination: true, Payload: payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/reliablemessaging/reliablerequest", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", "urn:nhs:names:services:mm/"+v3.ParentPrescription)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ebXML POST: HTTP %d\n%s", resp.StatusCode, b)
	}
}

// TestSecondSignalStopsAtOnce: a gateway draining after SIGTERM (an inbox
// worker waiting on EPS) stops at once on a second SIGTERM, as an
// operator expects, instead of ignoring it until the drain ends.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	upstreamURL, reached := holdingUpstream(t)
	p := startGatewayProcess(t, "--addr", "127.0.0.1:0", "--admin-addr", "off", "--shutdown-timeout", "60s", "--upstream", upstreamURL)
	addr := p.addr(t)
	p.waitHealthy(t, addr)
	sendPrescription(t, addr)
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatalf("the message never reached EPS:\n%s", p.logText())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "shutting down", 10*time.Second)
	select {
	case <-p.done:
		t.Fatalf("stopped without waiting for the work in hand (%v):\n%s", p.err, p.logText())
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.waitExit(t, 5*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("exit after a second SIGTERM: %v, want a failure status\n%s", err, p.logText())
	}
}

// TestStopWhileStartingOnHungRedis: SIGTERM while the gateway checks a
// Redis that accepts connections but answers nothing (a real redis-server,
// paused) ends it within the shutdown timeout, as a clean stop: the
// operator asked for it, nothing failed.
func TestStopWhileStartingOnHungRedis(t *testing.T) {
	rs := redistest.Start(t)
	rs.Pause(t)
	p := startGatewayProcess(t, "--addr", "127.0.0.1:0", "--admin-addr", "off", "--shutdown-timeout", "2s",
		"--redis", rs.URL(), "--log-level", "debug")
	p.waitLog(t, "garbage collector target", 10*time.Second) // logged just before the gateway starts
	time.Sleep(300 * time.Millisecond)                       // checking Redis now (a stop before it must end the same way)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.waitExit(t, 3*time.Second); err != nil {
		t.Fatalf("exit after a stop while starting: %v, want 0\n%s", err, p.logText())
	}
	if log := p.logText(); !strings.Contains(log, "porxgate stopped cleanly") || strings.Contains(log, `"level":"ERROR"`) {
		t.Fatalf("a stop while starting is not logged as a clean stop:\n%s", log)
	}
}

// TestLoadSaysWhyItsGatewayDidNotStart: `porxgate load` whose in-process
// gateway cannot start (its Redis is not running: an address that
// refuses connections, held by the test so that no other test's
// redis-server can start there) says why, as soon as it knows, instead
// of waiting out its /healthz poll and blaming /healthz.
func TestLoadSaysWhyItsGatewayDidNotStart(t *testing.T) {
	redisURL := "redis://" + testnet.RefusingAddr(t) + "/0"
	type result struct {
		code           int
		stdout, stderr string
	}
	got := make(chan result, 1)
	go func() {
		code, out, errOut := runCmd(t, "", "load", "--redis", redisURL, "--n", "1")
		got <- result{code, out, errOut}
	}()
	select {
	case r := <-got:
		if r.code != 1 || !strings.Contains(r.stderr, "store: redis at") {
			t.Fatalf("exit %d, stderr %q: want 1 and the store's error", r.code, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("load still running 30s after its gateway failed to start")
	}
}

// TestHangupKeepsServing: SIGHUP (kill -HUP by an operator expecting a
// reload, a closed terminal) ended `porxgate serve` at once, as Go's
// default has it: no drain, the in-memory store's acknowledged messages
// lost, no log line, and systemd's Restart=on-failure, which takes SIGHUP
// for a clean end, left it down. It is now logged and ignored: the
// gateway goes on taking messages, and SIGTERM still drains and stops it.
func TestHangupKeepsServing(t *testing.T) {
	p := startGatewayProcess(t, "--addr", "127.0.0.1:0", "--admin-addr", "off", "--shutdown-timeout", "5s")
	addr := p.addr(t)
	p.waitHealthy(t, addr)
	sendPrescription(t, addr)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "SIGHUP ignored", 10*time.Second)
	select {
	case <-p.done:
		t.Fatalf("ended by SIGHUP (%v):\n%s", p.err, p.logText())
	case <-time.After(500 * time.Millisecond):
	}
	sendPrescription(t, addr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.waitExit(t, 20*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\n%s", err, p.logText())
	}
	if log := p.logText(); !strings.Contains(log, "porxgate stopped cleanly") {
		t.Fatalf("not stopped cleanly:\n%s", log)
	}
}

// TestHangupLeavesSimAndLoadRunning: SIGHUP (a closed terminal, a session
// that ended, kill -HUP) ended `porxgate sim`, `porxgate load` and
// `porxgate compare` (a replay in flight, its report lost) at once,
// as Go's default has it, where serve logs and ignores it: the simulator
// lost every prescription it kept, and a load run stopped unreported
// (nothing on stdout, killed by the signal). Each now says so and goes
// on: the simulator answers and stops cleanly on SIGTERM; the run ends as
// it would have, with its figures.
func TestHangupLeavesSimAndLoadRunning(t *testing.T) {
	// compare replays one recorded exchange through an upstream that holds
	// its first call until the SIGHUP has been sent and survived.
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	simSrv := httptest.NewServer(sim.New(sim.Options{Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer simSrv.Close()
	simURL, err := url.Parse(simSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(simURL)
	held, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && calls.Add(1) == 1 {
			close(held)
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer upstream.Close()
	var releasing sync.Once
	letGo := func() { releasing.Do(func() { close(release) }) }
	defer letGo() // before the upstream closes, should the test end early
	tests := []struct {
		name string
		args []string
		// ready waits until p catches SIGHUP, and returns what to check
		// that it still works after one.
		ready func(t *testing.T, p *gatewayProcess) (after func(t *testing.T))
		stop  bool // SIGTERM it (a server), or let it end (a run)
		says  string
	}{
		{"sim", []string{"sim", "--addr", "127.0.0.1:0"}, func(t *testing.T, p *gatewayProcess) func(*testing.T) {
			p.waitLog(t, "EPS simulator listening", 15*time.Second)
			addr := ""
			for _, l := range strings.Split(p.logText(), "\n") {
				var line struct{ Msg, Addr string }
				if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "EPS simulator listening" {
					addr = line.Addr
				}
			}
			return func(t *testing.T) {
				resp, err := http.Get("http://" + addr + "/FHIR/R4/metadata")
				if err != nil {
					t.Fatalf("simulator after SIGHUP: %v\n%s", err, p.logText())
				}
				resp.Body.Close()
			}
		}, true, "SIGHUP ignored"},
		{"load", []string{"load", "--receiver", "127.0.0.1:0", "--rate", "20", "--duration", "3s"}, func(t *testing.T, p *gatewayProcess) func(*testing.T) {
			// Its receiver listens once its signal handling is set.
			p.waitLog(t, "porxgate load: receiver listening on 127.0.0.1:", 15*time.Second)
			return func(*testing.T) {}
		}, false, "SIGHUP ignored"},
		{"compare", []string{"compare", "--dir", dir, "--upstream", upstream.URL + "/FHIR/R4"}, func(t *testing.T, p *gatewayProcess) func(*testing.T) {
			select {
			case <-held:
			case <-time.After(15 * time.Second):
				t.Fatalf("compare never called its upstream:\n%s", p.logText())
			}
			return func(*testing.T) { letGo() }
		}, false, "SIGHUP ignored"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startPorxgate(t, tc.args...)
			after := tc.ready(t, p)
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.done:
				t.Fatalf("porxgate %s ended by SIGHUP (%v):\n%s", tc.name, p.err, p.logText())
			case <-time.After(500 * time.Millisecond):
			}
			p.waitLog(t, tc.says, 5*time.Second)
			after(t)
			if tc.stop {
				if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.waitExit(t, 60*time.Second); err != nil {
				t.Fatalf("porxgate %s exit: %v, want 0\n%s\n%s", tc.name, err, p.stdout.String(), p.logText())
			}
			if tc.name == "load" && !strings.Contains(p.stdout.String(), "processed") {
				t.Errorf("load after SIGHUP printed no figures:\n%s", p.stdout.String())
			}
			if tc.name == "compare" && !strings.Contains(p.stdout.String(), "match   01-acute") {
				t.Errorf("compare after SIGHUP did not report its exchange:\n%s", p.stdout.String())
			}
		})
	}
}
