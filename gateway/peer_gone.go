package gateway

import (
	"net"
)

// tcpConnOf returns the connection conn wraps (the front door's
// refusalConn, its TLS connections, TLS, PlainListener's), down to the
// socket's own.
func tcpConnOf(conn net.Conn) net.Conn {
	for {
		switch c := conn.(type) {
		case *refusalTLSConn:
			conn = c.Conn
		case *refusalConn:
			conn = c.Conn
		case *headConn:
			conn = c.Conn
		case interface{ NetConn() net.Conn }: // *tls.Conn, and frontConn over it
			conn = c.NetConn()
		default:
			return conn
		}
	}
}
