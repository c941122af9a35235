package redistest

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
	"time"
)

// TestPortTakenIsNoticed: a server started on a port another server took
// first (between freePort and its bind, another test's server took the
// port) is not taken for ready because the other answers PING there: it
// fails with ErrPortTaken, so that startWith starts it on another port.
// Before, the other server's PONG counted as the new one's, and the test
// went on against a server it did not start (its own had exited).
func TestPortTakenIsNoticed(t *testing.T) {
	first := Start(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	_, port := splitAddr(first.Addr)
	late := &Server{Addr: first.Addr, log: &bytes.Buffer{}}
	if err := late.launch(exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--daemonize", "no",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(late.stop)
	if err := late.waitReady(10 * time.Second); !errors.Is(err, ErrPortTaken) {
		t.Fatalf("waitReady on a port another server holds = %v, want ErrPortTaken", err)
	}
	if err := first.waitReady(time.Second); err != nil {
		t.Fatalf("the server that holds the port: %v", err)
	}
}
