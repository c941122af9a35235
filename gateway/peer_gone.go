package gateway

import (
	"crypto/tls"
	"net"
)

// tcpConnOf returns the connection conn wraps (TLS, the front door's
// refusalConn), down to the socket's own.
func tcpConnOf(conn net.Conn) net.Conn {
	for {
		switch c := conn.(type) {
		case *tls.Conn:
			conn = c.NetConn()
		case *refusalConn:
			conn = c.Conn
		default:
			return conn
		}
	}
}
