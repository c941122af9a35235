package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the uid and gid the smoke test drops to when it runs as root,
// as the container image and the systemd unit run the gateway.
const nobody = 65534

// TestBinarySmokeNonRootReadOnly takes the binary the container image
// copies (PORXGATE_SMOKE_BIN, which .ci/run builds with `make build`; else
// it builds one), checks its version stamp, then starts it as
// a non-root user in a working directory it cannot write to and checks that
// it serves /healthz and stops cleanly on SIGTERM.
func TestBinarySmokeNonRootReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "porxgate")
	given := os.Getenv("PORXGATE_SMOKE_BIN")
	if given != "" {
		b, err := os.ReadFile(given)
		if err != nil {
			t.Fatalf("PORXGATE_SMOKE_BIN: %v", err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		// The same build as `make build` but for CGO_ENABLED and -trimpath,
		// which would rebuild every package; .ci/run builds the static
		// binary once and passes it in PORXGATE_SMOKE_BIN.
		build := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-smoke", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(bin, "version").Output()
	switch {
	case err != nil:
		t.Fatalf("version: %v", err)
	case given == "" && !strings.HasPrefix(string(out), "porxgate v0.0.0-smoke\n"):
		t.Fatalf("version ignores -ldflags -X main.version: %q", out)
	case given != "" && !strings.Contains(string(out), "cgo: 0\n"):
		t.Fatalf("PORXGATE_SMOKE_BIN is not a static (CGO_ENABLED=0) build: %q", out)
	}

	work := filepath.Join(root, "ro")
	if err := os.Mkdir(work, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Port 0 for both listeners, the front door's read from the log: a port
	// picked free and given to the binary could be taken by another test in
	// between (this test once met another server's 404 on its /healthz).
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	if probe := filepath.Join(work, "probe"); os.Geteuid() != 0 {
		if err := os.WriteFile(probe, nil, 0o600); err == nil {
			t.Fatal("working directory is writable; the test proves nothing")
		}
	}
	var addr string
	started := time.After(15 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("exited before it listened")
			}
			addr, _ = listenedOn(l)
		case <-started:
			t.Fatal("no \"porxgate listening\" logged within 15s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz: %s", resp.Status)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("/healthz never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	log := drainStopped(t, cmd, lines)
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) || err != nil {
		t.Fatalf("exit: %v\n%s", err, strings.Join(log, "\n"))
	}
	if !strings.Contains(strings.Join(log, "\n"), "porxgate stopped cleanly") {
		t.Fatalf("no clean stop logged:\n%s", strings.Join(log, "\n"))
	}
}

// listenedOn returns the address of a gateway's "porxgate listening" log
// line (the front door's, as bound: port 0 made real), and whether line
// is one.
func listenedOn(line string) (string, bool) {
	var l struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "porxgate listening" || l.Addr == "" {
		return "", false
	}
	return l.Addr, true
}

// drainStopped collects the stopping gateway's log until it closes its
// stderr. A gateway still running a minute after SIGTERM (its shutdown
// timeouts are 15 s) fails the test with its goroutines, dumped by
// SIGQUIT, instead of hanging it until go test's own timeout.
func drainStopped(t *testing.T, cmd *exec.Cmd, lines <-chan string) []string {
	t.Helper()
	var log []string
	hung := time.After(time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return log
			}
			log = append(log, l)
		case <-hung:
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			dump := time.After(10 * time.Second)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("still running a minute after SIGTERM; its log and goroutines:\n%s", strings.Join(log, "\n"))
					}
					log = append(log, l)
				case <-dump:
					t.Fatalf("still running a minute after SIGTERM, and after SIGQUIT; its log:\n%s", strings.Join(log, "\n"))
				}
			}
		}
	}
}
