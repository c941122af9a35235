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
	"errors"
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

	"github.com/porxgate/porxgate/internal/testnet"
	"github.com/porxgate/porxgate/internal/testpki"
)

// Server is a running redis-server.
type Server struct {
	// Addr is host:port on the loopback interface.
	Addr string
	cmd  *exec.Cmd
	// done is closed once cmd's process has exited (the one Wait of it
	// has returned).
	done chan struct{}
	log  *bytes.Buffer
	// tls is the client configuration of a TLS-only server (StartTLS);
	// nil for a plain-text one.
	tls *tls.Config
	// held keeps Addr from the moment Kill stops the server until
	// Restart starts it again; nil while the server runs.
	held *testnet.Held
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
// given), and waits until it answers as itself.
func start(t testing.TB, name string, extra ...string) *Server {
	t.Helper()
	return startWith(t, name, nil, extra...)
}

// portTries is how many free ports startWith tries before it gives up.
const portTries = 5

// startWith is start, listening only with TLS when tlsCfg is given (the
// client configuration the harness checks the server with). Another
// process may take the port found free before the server binds it (the
// machine's other tests choose free ports too): the server then exits,
// and it is started again on another port.
func startWith(t testing.TB, name string, tlsCfg *tls.Config, extra ...string) *Server {
	t.Helper()
	for try := 1; ; try++ {
		s, err := tryStart(t, name, tlsCfg, extra...)
		if err == nil {
			return s
		}
		if !errors.Is(err, ErrPortTaken) || try == portTries {
			t.Fatal(err)
		}
		t.Logf("redistest: %v; trying another port", err)
	}
}

// ErrPortTaken is the error of a server started on a port that another
// process took before the server could bind it (tryStart's, Answers').
var ErrPortTaken = errors.New("the port was taken before the server could bind it")

// tryStart starts bin on a port found free and waits until it answers
// PING as itself. It fails with ErrPortTaken when another process took a
// port it was given (the port, or one of extra's, such as a Cluster's bus
// port) first; the server is then stopped.
func tryStart(t testing.TB, name string, tlsCfg *tls.Config, extra ...string) (*Server, error) {
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
	if err := s.launch(exec.Command(bin, append(args, extra...)...)); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(s.stop)
	if err := s.waitReady(10 * time.Second); err != nil {
		s.stop() // its output is whole once it has exited
		return nil, fmt.Errorf("%s on %s did not answer PING: %w\n%s", name, s.Addr, err, s.log.String())
	}
	return s, nil
}

// launch starts cmd as the server's process, its output to the server's
// log, and waits for it in the background (done is closed once it has
// exited).
func (s *Server) launch(cmd *exec.Cmd) error {
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	return nil
}

// exited reports whether the server's process has exited.
func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Kill stops the server abruptly (SIGKILL), as a crash would, and holds
// its address (testnet.Hold) until Restart or the end of t: a connection
// there is refused, as to a crashed server. Given back to the kernel, the
// port could be found free by another test and taken by a redis-server it
// starts, which would then answer in the killed server's place (a client
// reconnecting to a stranger, a sentinel turning it into a replica).
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.cmd == nil || s.exited() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.held = testnet.Hold(t, s.Addr)
}

// Restart stops the server and starts a new one on the same port (an empty
// one: there is no persistence). The port is held from the stop (Kill's
// hold, or one taken as the server stops), yielded to the new server and
// released once it answers, so that no other process can take it in
// between.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	if s.held == nil {
		s.held = testnet.Hold(t, s.Addr)
	}
	defer func() { s.held.Release(); s.held = nil }()
	if err := s.held.Yield(); err != nil {
		t.Fatalf("restarting redis-server on %s: %v", s.Addr, err)
	}
	if err := s.launch(exec.Command(s.cmd.Path, s.cmd.Args[1:]...)); err != nil {
		t.Fatalf("restarting redis-server on %s: %v", s.Addr, err)
	}
	if err := s.waitReady(10 * time.Second); err != nil {
		s.stop()
		t.Fatalf("restarted redis-server on %s did not answer PING: %v\n%s", s.Addr, err, s.log.String())
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
	if s.cmd != nil && !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// waitReady waits until the server answers PING as itself: the process
// that answers on Addr is the one started (INFO's process_id), for a
// port taken by another process between freePort and the server's bind
// was answered by that other server. It fails with ErrPortTaken when
// another answers, or the process exits for its port in use, and at once
// when the process exits.
func (s *Server) waitReady(limit time.Duration) error {
	// Each try bounded by its context: a process other than Redis that
	// took the port may accept and never answer.
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, TLSConfig: s.tls, ContextTimeoutEnabled: true})
	defer c.Close()
	deadline := time.Now().Add(limit)
	for {
		if s.exited() { // its output is whole
			if PortInUse(s.log.String()) {
				return fmt.Errorf("%w: the server exited, its port in use", ErrPortTaken)
			}
			return errors.New("the server exited")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := Answers(ctx, c, s.cmd.Process.Pid)
		cancel()
		if err == nil || errors.Is(err, ErrPortTaken) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Answers reports whether the Redis c reaches is the process pid (INFO's
// process_id): nil when it is; an error wrapping ErrPortTaken when
// another process answers there (a server started on a port found free,
// which another took first); another error while none answers. For a
// harness that starts redis-server itself on a port found free (Redis
// cannot be asked to take one of the kernel's, as port 0 turns its TCP
// listener off).
func Answers(ctx context.Context, c *redis.Client, pid int) error {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	switch got := infoField(info, "process_id"); got {
	case strconv.Itoa(pid):
		return nil
	case "":
		return errors.New("INFO server gave no process_id")
	default:
		return fmt.Errorf("%w: another server answers there (process %s, not %d)", ErrPortTaken, got, pid)
	}
}

// PortInUse reports whether a redis-server's output says it could not
// bind its port: another process holds it.
func PortInUse(output string) bool {
	return strings.Contains(output, "Address already in use")
}

// infoField returns the value of field in an INFO answer; "" when it has
// none.
func infoField(info, field string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (s *Server) stop() {
	if s.cmd == nil || s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
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
