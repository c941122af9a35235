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

// closedServer listens on a loopback port, takes one connection and
// closes it first, as a server that is stopped does (its side of the
// connection stays on the port, in FIN-WAIT or TIME-WAIT), then stops
// listening; it returns the address the server had.
func closedServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server.Close()
	ln.Close()
	return ln.Addr().String()
}

// TestHoldTakesOverAStoppedServersPort: the port of a server that has
// just stopped (its side of a connection still on it) is held: a
// connection is refused, and no listener can take the port, until
// Release; a plain bind, without SO_REUSEADDR, could not take such a
// port, and one that kept SO_REUSEADDR on would let a listener in.
func TestHoldTakesOverAStoppedServersPort(t *testing.T) {
	addr := closedServer(t)
	h := Hold(t, addr)
	if h.Addr() != addr {
		t.Fatalf("Addr() = %s, want %s", h.Addr(), addr)
	}
	if err := dialFails(t, addr, 2*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("a listener took %s while it is held", addr)
	}
	h.Release()
	h.Release() // a second time, as the end of the test does
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s after the release: %v", addr, err)
	}
	ln.Close()
}

// TestHoldYieldsToOneListener: after Yield a listener (the server
// started again) takes the port beside the hold and is reached there;
// Release leaves it listening.
func TestHoldYieldsToOneListener(t *testing.T) {
	addr := closedServer(t)
	h := Hold(t, addr)
	if err := h.Yield(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s after Yield: %v", addr, err)
	}
	defer ln.Close()
	h.Release()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s with the server back: %v", addr, err)
	}
	c.Close()
	if err := h.Yield(); err == nil {
		t.Error("Yield after Release: nil error, want one saying the port is no longer held")
	}
}

// TestHoldOfAPortInUseFails: a port another process listens on cannot
// be taken over (Hold then fails the test, saying so).
func TestHoldOfAPortInUseFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	fd, err := loopbackSocket(port, true)
	if err == nil {
		syscall.Close(fd)
		t.Fatalf("took over 127.0.0.1:%d while a listener is on it", port)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v, want address in use", err)
	}
}
