// Package redistest starts a real redis-server for tests: on a free loopback
// port, with no persistence, stopped by its PID when the test ends. Every
// Redis-backed test uses it; a machine without redis-server fails the test
// with a message saying how to install it.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	// Addr is host:port on the loopback interface.
	Addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts redis-server and waits until it answers PING. The server is
// stopped when the test and its subtests end.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "redis-server")
}

// start runs bin (redis-server or redis-sentinel) on a free loopback port
// with the default test settings, then extra (a config file first, when
// given), and waits for PING.
func start(t testing.TB, name string, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH: install it (Debian: apt-get install -y redis-server redis-sentinel); Redis-backed tests need a real server", name)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: &bytes.Buffer{}}
	var args []string
	if len(extra) > 0 && !strings.HasPrefix(extra[0], "--") {
		args, extra = append(args, extra[0]), extra[1:] // the config file comes first
	}
	args = append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning")
	if name == "redis-server" {
		args = append(args, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	}
	s.cmd = exec.Command(bin, append(args, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(s.stop)
	if err := s.waitPong(10 * time.Second); err != nil {
		t.Fatalf("%s on %s did not answer PING: %v\n%s", name, s.Addr, err, s.log.String())
	}
	return s
}

// Kill stops the server abruptly (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// Restart stops the server and starts a new one on the same port (an empty
// one: there is no persistence).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	port := s.Addr[len("127.0.0.1:"):]
	s.cmd = exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("restarting redis-server on %s: %v", port, err)
	}
	if err := s.waitPong(10 * time.Second); err != nil {
		t.Fatalf("restarted redis-server did not answer PING: %v", err)
	}
}

// Pause freezes the server (SIGSTOP), as a hung Redis: the kernel still
// accepts connections, but nothing is answered. Resume, or the end of the
// test, thaws it.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("pausing redis-server on %s: %v", s.Addr, err)
	}
	t.Cleanup(s.Resume)
}

// Resume thaws a paused server (SIGCONT).
func (s *Server) Resume() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

func (s *Server) waitPong(limit time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
