//go:build unix

// Package testnet gives tests loopback addresses that no other process can
// take from them: a port found free and closed again may be bound by
// another process (the machine's other tests choose free ports too)
// before the test uses it.
package testnet

import (
	"errors"
	"net"
	"strconv"
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
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("testnet: socket: %v", err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("testnet: bind 127.0.0.1:0: %v", err)
	}
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
