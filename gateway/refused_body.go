package gateway

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Bounds of the reading that follows a refusal sent before its request's
// body was read (refusedUnread).
const (
	// refusedDrainTime bounds how long the rest of such a body is read.
	refusedDrainTime = 5 * time.Second
	// refusedDrainBytes bounds how much of it is read.
	refusedDrainBytes = 64 << 20
)

// refusalListener wraps the front doors' listener so that a connection
// closed after a refusal sent before its request's body was read (a body
// over --max-body, refused from its Content-Length) is closed gently.
// Closed at once, with the sender's body still arriving, the kernel answers
// the unread bytes with a reset, which destroys the refusal on its way: the
// sender sees "connection reset" instead of the final MessageError or SOAP
// fault, and an MHS may retry a message that can never be taken. Closed
// gently, the refusal is sent, the sending side shut (the sender reads
// the whole answer), and the rest of the body read and thrown away,
// within refusedDrainTime and refusedDrainBytes, before the connection is
// closed. Other connections close as before.
//
// It also keeps the connections that have not sent a byte yet (silent
// ones: a load balancer's TCP health check, a client's spare connection)
// for closeSilent: fasthttp counts a new connection as busy for five
// seconds, so at a stop such connections held the drain that long, past
// a shorter shutdown timeout.
type refusalListener struct {
	net.Listener
	mu     sync.Mutex
	silent map[*refusalConn]struct{}
}

// newRefusalListener wraps ln.
func newRefusalListener(ln net.Listener) *refusalListener {
	return &refusalListener{Listener: ln, silent: map[*refusalConn]struct{}{}}
}

// Accept implements net.Listener. A TLS connection keeps what fasthttp
// reads of it (Handshake, ConnectionState: the client certificate of
// mutual TLS).
func (l *refusalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &refusalConn{Conn: c, l: l}
	l.mu.Lock()
	l.silent[rc] = struct{}{}
	l.mu.Unlock()
	if tc, ok := c.(tlsConner); ok {
		return &refusalTLSConn{refusalConn: rc, tls: tc}, nil
	}
	return rc, nil
}

// tlsConner is what fasthttp reads of a TLS connection.
type tlsConner interface {
	Handshake() error
	ConnectionState() tls.ConnectionState
}

// closeSilent closes the connections that have not sent a byte yet.
func (l *refusalListener) closeSilent() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.silent {
		if !c.spoke.Load() {
			_ = c.Conn.Close()
		}
		delete(l.silent, c)
	}
}

// closeSilentUntil closes silent connections now and every 50ms until
// done is closed: those accepted while the stop begins too.
func (l *refusalListener) closeSilentUntil(done <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		l.closeSilent()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// forget stops keeping c for closeSilent.
func (l *refusalListener) forget(c *refusalConn) {
	l.mu.Lock()
	delete(l.silent, c)
	l.mu.Unlock()
}

// refusalConn is a connection of refusalListener.
type refusalConn struct {
	net.Conn
	l *refusalListener
	// spoke is set once the peer sent a first byte.
	spoke atomic.Bool
	// drain is set once a refusal was sent before the body was read.
	drain atomic.Bool
	// closing is set once a gentle close started.
	closing atomic.Bool
}

// refusedUnread marks the connection for a gentle close.
func (c *refusalConn) refusedUnread() { c.drain.Store(true) }

// Read implements net.Conn, noting the first byte the peer sends.
func (c *refusalConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.spoke.Load() {
		c.spoke.Store(true)
		c.l.forget(c)
	}
	return n, err
}

// Close implements net.Conn: at once, or gently after refusedUnread.
func (c *refusalConn) Close() error {
	if !c.spoke.Load() {
		c.l.forget(c)
	}
	if !c.drain.Load() {
		return c.Conn.Close()
	}
	if c.closing.CompareAndSwap(false, true) {
		go c.closeGently()
	}
	return nil
}

// closeGently shuts the sending side, reads what the sender still sends
// (within the bounds above) and closes the connection.
func (c *refusalConn) closeGently() {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(refusedDrainTime))
	_, _ = io.CopyN(io.Discard, c.Conn, refusedDrainBytes)
	_ = c.Conn.Close()
}

// refusalTLSConn is a TLS connection of refusalListener.
type refusalTLSConn struct {
	*refusalConn
	tls tlsConner
}

// Handshake runs the TLS handshake.
func (c *refusalTLSConn) Handshake() error { return c.tls.Handshake() }

// ConnectionState returns the TLS state (the client's certificates).
func (c *refusalTLSConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// refusedUnread marks the connection of c's request, refused before its
// body was read, for a gentle close (refusalListener); a no-op on other
// listeners.
func refusedUnread(c *fiber.Ctx) {
	if rc, ok := c.Context().Conn().(interface{ refusedUnread() }); ok {
		rc.refusedUnread()
	}
}
