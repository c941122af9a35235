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
// It also keeps its open connections for a stop. Those that have not sent
// a byte yet (silent ones: a load balancer's TCP health check, a client's
// spare connection) are closed (closeSilent): fasthttp counts a new
// connection as busy for five seconds, so at a stop such connections held
// the drain that long, past a shorter shutdown timeout. And every read is
// given a last moment (cutReads): a request still arriving at a stop (a
// sender stalled mid-body) held the drain until the read timeout, past
// the shutdown timeout; nothing of it was acknowledged, so cutting it
// loses nothing its sender will not send again.
type refusalListener struct {
	net.Listener
	mu   sync.Mutex
	open map[*refusalConn]struct{}
	// readsEnd, once a stop set it (cutReads), is the latest deadline any
	// read gets (Unix nanoseconds); 0 before.
	readsEnd atomic.Int64
}

// newRefusalListener wraps ln.
func newRefusalListener(ln net.Listener) *refusalListener {
	return &refusalListener{Listener: ln, open: map[*refusalConn]struct{}{}}
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
	l.open[rc] = struct{}{}
	l.mu.Unlock()
	if end := l.readsEnd.Load(); end != 0 {
		_ = c.SetReadDeadline(time.Unix(0, end))
	}
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
	for c := range l.open {
		if !c.spoke.Load() {
			_ = c.Conn.Close()
			delete(l.open, c)
		}
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

// cutReads makes end the latest deadline of every read, on the open
// connections and any accepted later: a read still waiting then fails,
// and fasthttp closes its connection.
func (l *refusalListener) cutReads(end time.Time) {
	l.readsEnd.Store(end.UnixNano())
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.open {
		var t time.Time // none
		if d := c.readDeadline.Load(); d != 0 {
			t = time.Unix(0, d)
		}
		_ = c.SetReadDeadline(t)
	}
}

// forget stops keeping c for a stop.
func (l *refusalListener) forget(c *refusalConn) {
	l.mu.Lock()
	delete(l.open, c)
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
	// readDeadline is the read deadline last asked for (Unix nanoseconds;
	// 0: none), before cutReads shortens it.
	readDeadline atomic.Int64
}

// SetReadDeadline implements net.Conn, no later than a stop allows
// (cutReads).
func (c *refusalConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.readDeadline.Store(0)
	} else {
		c.readDeadline.Store(t.UnixNano())
	}
	if end := c.l.readsEnd.Load(); end != 0 && (t.IsZero() || t.UnixNano() > end) {
		t = time.Unix(0, end)
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline implements net.Conn: the read deadline as SetReadDeadline.
func (c *refusalConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// refusedUnread marks the connection for a gentle close.
func (c *refusalConn) refusedUnread() { c.drain.Store(true) }

// Read implements net.Conn, noting the first byte the peer sends.
func (c *refusalConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.spoke.Load() {
		c.spoke.Store(true)
	}
	return n, err
}

// Close implements net.Conn: at once, or gently after refusedUnread.
func (c *refusalConn) Close() error {
	c.l.forget(c)
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
