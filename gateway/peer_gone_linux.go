//go:build linux

package gateway

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// tcpEstablished is Linux's TCP_ESTABLISHED (include/net/tcp_states.h).
const tcpEstablished = 1

// peerGone reports whether the peer of conn is known to have gone: the
// kernel has had its FIN or RST (the TCP connection is no longer
// ESTABLISHED), as when a sender's HTTP timeout ran out and it closed the
// connection. A connection dropped without either (a cable pulled, a
// firewall forgetting it) is not known to have gone: false, as when the
// state cannot be read.
func peerGone(conn net.Conn) bool {
	sc, ok := tcpConnOf(conn).(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		gone = err == nil && info.State != tcpEstablished
	})
	return gone
}
