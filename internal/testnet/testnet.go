//go:build unix

// Package testnet gives tests loopback addresses that no other process can
// take from them: a port found free and closed again may be bound by
// another process (the machine's other tests choose free ports too)
// before the test uses it.
package testnet

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// RefusingAddr returns a loopback address (127.0.0.1:port) where every
// connection is refused until the test ends: a TCP socket is bound to
// it and never listens, so the port stays the test's own, where a port
// found free and closed could be taken by another process and answer.
// For a test of what a peer that is down (an unreachable EPS, a Redis
// not running) does to its caller.
func RefusingAddr(t testing.TB) string {
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
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))
}
