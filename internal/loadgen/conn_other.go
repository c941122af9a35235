//go:build !unix

package loadgen

import "net"

// open reports whether the target has not closed c; without a peek that
// does not wait, it is taken to be open (a write to a closed one fails
// and is retried once on a new connection).
func open(net.Conn) bool { return true }
