//go:build unix

package loadgen

import (
	"net"
	"syscall"
)

// open reports whether the target has not closed c (nor sent anything on
// it unasked): a peek that does not wait finds nothing to read yet.
func open(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var b [1]byte
	if err := raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		return true
	}); err != nil {
		return false
	}
	return alive
}
