//go:build unix

// Package testnet gives tests loopback addresses that no other process can
// take from them: a port found free and closed again may be bound by
// another process (the machine's other tests choose free ports too)
// before the test uses it.
package testnet

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RefusingAddr returns a loopback address (127.0.0.1:port) where every
// connection is refused until the test ends: a TCP socket is bound to
// it and never listens, so the port stays the test's own, where a port
// found free and closed could be taken by another process and answer.
// For a test of what a peer that is down (an unreachable EPS, a Redis
// not running) does to its caller.
func RefusingAddr(t testing.TB) string {
	t.Helper()
	_, addr := boundSocket(t)
	return addr
}

// boundSocket returns a TCP socket bound to a loopback port the kernel
// chose, closed when the test ends, and its address.
func boundSocket(t testing.TB) (fd int, addr string) {
	t.Helper()
	fd, err := loopbackSocket(0, false)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("testnet: getsockname: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("testnet: bound %T, want an IPv4 address", sa)
	}
	return fd, net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))
}

// loopbackSocket returns a TCP socket bound to 127.0.0.1:port (0: one
// the kernel chooses), not listening. With overClosed, it is bound with
// SO_REUSEADDR, which lets it bind beside the sockets a server that just
// closed leaves on its port (connections in FIN-WAIT or TIME-WAIT), then
// the option is turned off, so that no other socket can listen on the
// port while it is there (Linux lets a socket listen on a port another
// holds unlistening only when both ask for SO_REUSEADDR).
func loopbackSocket(port int, overClosed bool) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	syscall.CloseOnExec(fd)
	fail := func(what string, err error) (int, error) {
		_ = syscall.Close(fd)
		return -1, fmt.Errorf("%s 127.0.0.1:%d: %w", what, port, err)
	}
	if overClosed {
		if err := reuseAddr(fd, true); err != nil {
			return fail("SO_REUSEADDR on", err)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		return fail("bind", err)
	}
	if overClosed {
		if err := reuseAddr(fd, false); err != nil {
			return fail("SO_REUSEADDR off on", err)
		}
	}
	return fd, nil
}

// reuseAddr turns fd's SO_REUSEADDR on or off.
func reuseAddr(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, v)
}

// Held is a loopback port a test took over from a server it stopped
// (Hold): connections to it are refused, and no other process can
// listen on it, until Release or the end of the test.
type Held struct {
	addr string
	mu   sync.Mutex
	fd   int // -1 once released
}

// Hold takes over addr (127.0.0.1:port), the address of a server the
// test has just stopped, such as a redis-server it killed: from then on
// a connection to it is refused, as RefusingAddr's are, and no other
// process can listen on it until Release or the end of the test. A port
// given back to the kernel could be found free by another test (the
// machine's tests start their servers on ports found free) and answer
// in the stopped server's place: the test would then read a stranger.
// Call it as soon as the server is gone; a port another process took in
// between fails the test.
func Hold(t testing.TB, addr string) *Held {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("testnet: Hold(%q): want 127.0.0.1:port", addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		t.Fatalf("testnet: Hold(%q): bad port", addr)
	}
	fd, err := loopbackSocket(port, true)
	if err != nil {
		t.Fatalf("testnet: holding %s, a port the test's stopped server left: %v (another process took it first, or the server still listens)", addr, err)
	}
	h := &Held{addr: addr, fd: fd}
	t.Cleanup(h.Release)
	return h
}

// Addr returns the address held.
func (h *Held) Addr() string { return h.addr }

// Yield lets one server the test starts again on the port listen there
// beside the hold (it must ask for SO_REUSEADDR, as redis-server and Go's
// listeners do), where a Release before its start would free the port for
// any process until the server binds it: the kernel never hands a port
// to a bind of port 0 while the hold is there. Release once the server
// answers.
func (h *Held) Yield() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd < 0 {
		return fmt.Errorf("testnet: %s is no longer held", h.addr)
	}
	if err := reuseAddr(h.fd, true); err != nil {
		return fmt.Errorf("testnet: SO_REUSEADDR on the hold of %s: %w", h.addr, err)
	}
	return nil
}

// Release gives the port back. It may be called more than once.
func (h *Held) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fd >= 0 {
		_ = syscall.Close(h.fd)
		h.fd = -1
	}
}

// SilentAddr returns a loopback address (127.0.0.1:port) where a
// connection is never completed until the test ends: a TCP socket
// listens there with no room in its queue of connections to accept
// (backlog 0, filled by one connection the test holds and never
// accepts), so the kernel drops every further SYN and a dial waits out
// its own timeout, as one to a host gone from the network does. For a
// test of what a peer that cannot be reached (a dial that ends in an
// i/o timeout, not a refusal) does to its caller.
func SilentAddr(t testing.TB) string {
	t.Helper()
	fd, addr := boundSocket(t)
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatalf("testnet: listen: %v", err)
	}
	// Connections the kernel completes fill the queue; the first dial
	// that waits out its timeout shows it full.
	for range silentFillTries {
		c, err := net.DialTimeout("tcp", addr, silentFillWait)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr
			}
			t.Fatalf("testnet: filling the queue of %s: %v", addr, err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Fatalf("testnet: %s still completed connections after %d", addr, silentFillTries)
	return ""
}

// Bounds of SilentAddr's filling of its queue: how many connections it
// makes at most, and how long one may take before the queue is taken to
// be full.
const (
	silentFillTries = 8
	silentFillWait  = 200 * time.Millisecond
)
