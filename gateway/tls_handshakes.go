package gateway

import (
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// Listener returns ln serving the front door's TLS, where one client
// address may have at most maxPending handshakes under way at once (0: no
// bound). A connection beyond them is closed as soon as it is accepted,
// before any handshake work, counted (porxgate_tls_handshakes_refused_total)
// and logged once while its address stays at the bound. A handshake stops
// counting when it ends, done or failed (the read timeout ends a silent
// one), or its connection closes; a connection past its handshake never
// counts, so a load balancer's address keeps all its established ones.
func (f *FrontDoorTLS) Listener(ln net.Listener, maxPending int, log *slog.Logger) net.Listener {
	return &handshakeListener{Listener: ln, cfg: f.Config, max: maxPending, log: log,
		refused: &f.handshakesRefused, pending: map[string]int{}, told: map[string]bool{}}
}

// handshakeListener is FrontDoorTLS.Listener's listener.
type handshakeListener struct {
	net.Listener
	cfg     *tls.Config
	max     int
	log     *slog.Logger
	refused *atomic.Int64

	mu      sync.Mutex
	pending map[string]int  // handshakes under way by client address
	told    map[string]bool // addresses whose refusal was logged since they were last below the bound
}

// Accept implements net.Listener: the next connection its address has
// room for, as a TLS server connection.
func (l *handshakeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		if l.max <= 0 {
			return tls.Server(c, l.cfg), nil
		}
		l.mu.Lock()
		full := l.pending[addr] >= l.max
		tell := full && !l.told[addr]
		if full {
			l.told[addr] = true
		} else {
			l.pending[addr]++
		}
		l.mu.Unlock()
		if !full {
			return &handshakeConn{Conn: tls.Server(c, l.cfg), l: l, addr: addr}, nil
		}
		_ = c.Close()
		l.refused.Add(1)
		if tell && l.log != nil {
			l.log.Warn("front door connections refused: too many TLS handshakes under way from one address; more are closed unanswered until some end",
				"remote", addr, "max_handshakes_per_client", l.max)
		}
	}
}

// release ends one handshake of addr.
func (l *handshakeListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[addr]--; l.pending[addr] <= 0 {
		delete(l.pending, addr)
		delete(l.told, addr)
	}
}

// handshakeConn is a TLS connection whose handshake counts against its
// address until it ends.
type handshakeConn struct {
	*tls.Conn
	l     *handshakeListener
	addr  string
	ended atomic.Bool
}

// end stops the handshake counting, once.
func (c *handshakeConn) end() {
	if c.ended.CompareAndSwap(false, true) {
		c.l.release(c.addr)
	}
}

// Handshake implements what fasthttp asks of a TLS connection.
func (c *handshakeConn) Handshake() error {
	err := c.Conn.Handshake()
	c.end()
	return err
}

// Read implements net.Conn (a first Read runs the handshake when nothing
// asked for it before).
func (c *handshakeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.ended.Load() {
		c.end()
	}
	return n, err
}

// Write implements net.Conn (a first Write runs the handshake when nothing
// asked for it before).
func (c *handshakeConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if !c.ended.Load() {
		c.end()
	}
	return n, err
}

// Close implements net.Conn.
func (c *handshakeConn) Close() error {
	c.end()
	return c.Conn.Close()
}

// hostOf is the host of a connection's remote address (its IP).
func hostOf(a net.Addr) string {
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}
