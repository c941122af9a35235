package redistest

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// launchAt launches a redis-server on addr's port without waiting for
// it, as a server another test started there would be; it is stopped
// when the test ends.
func launchAt(t *testing.T, addr string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	_, port := splitAddr(addr)
	s := &Server{Addr: addr, log: &bytes.Buffer{}}
	if err := s.launch(exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--daemonize", "no",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// TestPortTakenIsNoticed: a server started on a port another server took
// first (between freePort and its bind, another test's server took the
// port) is not taken for ready because the other answers PING there: it
// fails with ErrPortTaken, so that startWith starts it on another port.
// Before, the other server's PONG counted as the new one's, and the test
// went on against a server it did not start (its own had exited).
func TestPortTakenIsNoticed(t *testing.T) {
	first := Start(t)
	late := launchAt(t, first.Addr)
	if err := late.waitReady(10 * time.Second); !errors.Is(err, ErrPortTaken) {
		t.Fatalf("waitReady on a port another server holds = %v, want ErrPortTaken", err)
	}
	if err := first.waitReady(time.Second); err != nil {
		t.Fatalf("the server that holds the port: %v", err)
	}
}

// TestKillHoldsThePort: the port of a killed server stays the test's: a
// client is refused there, a redis-server started on it (as another
// test's, given the port as free) cannot listen; Restart starts the
// server there again. Before, the port was free from the kill on, and a
// server another test started there answered the killed server's clients.
func TestKillHoldsThePort(t *testing.T) {
	s := Start(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil { // a connection open at the kill
		t.Fatal(err)
	}
	s.Kill(t)
	if err := c.Ping(ctx).Err(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("PING to the killed server: %v, want connection refused", err)
	}
	stranger := launchAt(t, s.Addr) // as another test's server, given the port as free
	select {
	case <-stranger.done:
		if !PortInUse(stranger.log.String()) {
			t.Fatalf("the other server exited, but not for its port in use:\n%s", stranger.log.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("another redis-server still runs on the killed server's port:\n%s", stranger.log.String())
	}
	s.Restart(t)
	if err := Answers(ctx, c, s.cmd.Process.Pid); err != nil {
		t.Fatalf("the restarted server: %v", err)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET k on the restarted server: %v, want nil (an empty server)", err)
	}
}

// TestCalls: Calls counts each command a client ran and each one a script
// ran (INFO commandstats), and 0 for one never run.
func TestCalls(t *testing.T) {
	s := Start(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	script := `redis.call('EXISTS', KEYS[1]) redis.call('EXISTS', KEYS[1]) return 1`
	if err := c.Eval(ctx, script, []string{"k"}).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		command string
		want    int64
	}{
		{"set", 1},
		{"eval", 1},
		{"exists", 2}, // run by the script
		{"hset", 0},   // never run
		{"ex", 0},     // a prefix of exists is not exists
	} {
		if got := s.Calls(t, tt.command); got != tt.want {
			t.Errorf("Calls(%q) = %d, want %d", tt.command, got, tt.want)
		}
	}
}
