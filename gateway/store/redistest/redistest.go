// Package redistest starts a real redis-server for tests: on a free loopback
// port, with no persistence, stopped by its PID when the test ends. Every
// Redis-backed test uses it; a machine without redis-server fails the test
// with a message saying how to install it.
package redistest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/internal/testpki"
)

// Server is a running redis-server.
type Server struct {
	// Addr is host:port on the loopback interface.
	Addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	// tls is the client configuration of a TLS-only server (StartTLS);
	// nil for a plain-text one.
	tls *tls.Config
}

// URL returns the redis:// URL of the server (rediss:// for StartTLS's).
func (s *Server) URL() string {
	if s.tls != nil {
		return "rediss://" + s.Addr + "/0"
	}
	return "redis://" + s.Addr + "/0"
}

// StartTLS starts a redis-server that speaks only TLS (no plain-text
// port), with a certificate for 127.0.0.1 from a CA of the test's own,
// not asking clients for certificates; caPEM is that CA, for a client
// that is to trust it.
func StartTLS(t testing.TB) (s *Server, caPEM []byte) {
	t.Helper()
	p := newTLSFiles(t)
	return startWith(t, "redis-server", p.client, p.args...), p.caPEM
}

// tlsFiles are a test CA and a server certificate for 127.0.0.1 (and no
// host name) it issued, written out for redis-server and redis-sentinel.
type tlsFiles struct {
	// args are the servers' TLS settings: certificate, key, CA, and no
	// client certificates asked for.
	args []string
	// client is a client configuration that trusts the CA.
	client *tls.Config
	// caPEM is the CA, and caFile where it is written.
	caPEM  []byte
	caFile string
}

// newTLSFiles issues the certificate and writes the files into a
// directory of the test's own.
func newTLSFiles(t testing.TB) tlsFiles {
	t.Helper()
	ca := testpki.NewCA(t, "redistest CA")
	cert, key := ca.Issue(t, testpki.Cert{Name: "redistest", Server: true})
	dir := t.TempDir()
	files := map[string][]byte{"redis.crt": cert, "redis.key": key, "ca.crt": ca.PEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	return tlsFiles{
		args: []string{"--tls-cert-file", filepath.Join(dir, "redis.crt"), "--tls-key-file", filepath.Join(dir, "redis.key"),
			"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--tls-auth-clients", "no"},
		client: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		caPEM:  ca.PEM, caFile: filepath.Join(dir, "ca.crt"),
	}
}

// Start starts redis-server and waits until it answers PING. The server is
// stopped when the test and its subtests end.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "redis-server")
}

// StartArgs is Start with further redis-server settings, each "--name"
// then its values (e.g. "--appendonly", "yes"), given after the test
// defaults so that they win.
func StartArgs(t testing.TB, settings ...string) *Server {
	t.Helper()
	if len(settings) > 0 && !strings.HasPrefix(settings[0], "--") {
		t.Fatalf("redistest.StartArgs: %q is not a --setting", settings[0])
	}
	return start(t, "redis-server", settings...)
}

// start runs bin (redis-server or redis-sentinel) on a free loopback port
// with the default test settings, then extra (a config file first, when
// given), and waits for PING.
func start(t testing.TB, name string, extra ...string) *Server {
	t.Helper()
	return startWith(t, name, nil, extra...)
}

// startWith is start, listening only with TLS when tlsCfg is given (the
// client configuration the harness checks the server with).
func startWith(t testing.TB, name string, tlsCfg *tls.Config, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH: install it (Debian: apt-get install -y redis-server redis-sentinel); Redis-backed tests need a real server", name)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: &bytes.Buffer{}, tls: tlsCfg}
	var args []string
	if len(extra) > 0 && !strings.HasPrefix(extra[0], "--") {
		args, extra = append(args, extra[0]), extra[1:] // the config file comes first
	}
	ports := []string{"--port", strconv.Itoa(port)}
	if tlsCfg != nil {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(port)}
	}
	args = append(append(args, ports...), "--bind", "127.0.0.1",
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
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, TLSConfig: s.tls})
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
