//go:build unix

package testnet

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestRefusingAddrRefusesAndIsHeld: a connection to the address is
// refused (ECONNREFUSED, not a time-out), and the port cannot be taken
// by a listener while the test holds it.
func TestRefusingAddrRefusesAndIsHeld(t *testing.T) {
	addr := RefusingAddr(t)
	for range 3 {
		if err := dialFails(t, addr, 2*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		}
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("another listener took %s while the test holds it", addr)
	}
}

// TestSilentAddrNeverConnects: a dial to the address waits out its own
// timeout (an i/o timeout, not a refusal), each time.
func TestSilentAddrNeverConnects(t *testing.T) {
	addr := SilentAddr(t)
	for range 3 {
		err := dialFails(t, addr, 100*time.Millisecond)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want an i/o timeout", addr, err)
		}
	}
}

// dialFails dials addr within timeout and returns the dial's error; a
// dial that connects fails the test.
func dialFails(t *testing.T, addr string, timeout time.Duration) error {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s: connected, want it to fail", addr)
	}
	return err
}
