package gateway

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// addrBound bounds, per client address, a listener's connections not yet
// past their opening (their TLS handshake, if any, and their first request
// head): a peer holding connections open and silent, or
// trickling (each for the read timeout), cannot run the process out of
// file descriptors. A connection past its opening never counts, so a load
// balancer's address keeps all its established ones.
type addrBound struct {
	max     int
	refused func() // counts a connection past the bound
	log     *slog.Logger
	// warn is logged once while an address stays at the bound, with args.
	warn string
	args []any

	mu      sync.Mutex
	pending map[string]int  // openings under way by client address
	told    map[string]bool // addresses whose refusal was logged since they were last below the bound
}

// newAddrBound returns the bound of max openings per address (0: none).
func newAddrBound(max int, refused func(), log *slog.Logger, warn string, args ...any) *addrBound {
	return &addrBound{max: max, refused: refused, log: log, warn: warn, args: args,
		pending: map[string]int{}, told: map[string]bool{}}
}

// admit counts one more opening of addr and reports true when addr has
// room for it; otherwise it counts the connection past the bound
// (refused; logged once while addr stays at the bound) and reports false.
func (b *addrBound) admit(addr string) bool {
	b.mu.Lock()
	full := b.pending[addr] >= b.max
	tell := full && !b.told[addr]
	if full {
		b.told[addr] = true
	} else {
		b.pending[addr]++
	}
	b.mu.Unlock()
	if !full {
		return true
	}
	if b.refused != nil {
		b.refused()
	}
	if tell && b.log != nil {
		b.log.Warn(b.warn, append([]any{"remote", addr, "max_handshakes_per_client", b.max}, b.args...)...)
	}
	return false
}

// release ends one opening of addr.
func (b *addrBound) release(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[addr]--; b.pending[addr] <= 0 {
		delete(b.pending, addr)
		delete(b.told, addr)
	}
}

// pendingFuse is how long a plain connection accepted past its address's
// bound has for its first request head, instead of the read timeout.
const pendingFuse = time.Second

// PlainListener returns ln (a listener without TLS, named listener in the
// log) whose connections count against their client address until the
// head of their first request (request line and headers) has arrived, or
// they close. One address may have at most maxPending such connections
// at once (0: no bound). A connection beyond them is not refused: it is
// given pendingFuse, instead of the read timeout, for its head, so that a
// burst of new connections (a load balancer's, a load test's) is served as
// their heads arrive, while a peer holding connections silent or trickling
// holds at most maxPending past it. over is called for each such
// connection (it counts them), and a warning is logged once while the
// address stays at the bound.
func PlainListener(ln net.Listener, maxPending int, over func(), log *slog.Logger, listener string) net.Listener {
	if maxPending <= 0 {
		return ln
	}
	return &headListener{Listener: ln, bound: newAddrBound(maxPending, over, log,
		"connections past the bound: too many from one address whose first request has not arrived; more are given "+pendingFuse.String()+" for it, then closed",
		"listener", listener)}
}

// headListener is PlainListener's listener.
type headListener struct {
	net.Listener
	bound *addrBound
}

// Accept implements net.Listener: the next connection, counted against
// its address, or cut short when its address is at the bound.
func (l *headListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	hc := &headConn{Conn: c, bound: l.bound, addr: hostOf(c.RemoteAddr())}
	if hc.counted = l.bound.admit(hc.addr); !hc.counted {
		fuse := time.Now().Add(pendingFuse)
		hc.fuse.Store(fuse.UnixNano())
		_ = c.SetReadDeadline(fuse)
	}
	return hc, nil
}

// headConn is a connection of headListener: it counts against its
// address (counted), or has a short fuse (past the bound), until the head
// of its first request has been read.
type headConn struct {
	net.Conn
	bound   *addrBound
	addr    string
	counted bool
	ended   atomic.Bool
	// fuse is the latest read deadline until the head has come (Unix
	// nanoseconds; 0: none); asked is the read deadline last asked for.
	fuse, asked atomic.Int64
	head        headScan
}

// Read implements net.Conn, noting the end of the first request head.
func (c *headConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.ended.Load() && c.head.ends(b[:n]) {
		c.end()
	}
	return n, err
}

// SetReadDeadline implements net.Conn, no later than the fuse while there
// is one.
func (c *headConn) SetReadDeadline(t time.Time) error {
	var asked int64
	if !t.IsZero() {
		asked = t.UnixNano()
	}
	c.asked.Store(asked)
	if fuse := c.fuse.Load(); fuse != 0 && (t.IsZero() || t.UnixNano() > fuse) {
		t = time.Unix(0, fuse)
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline implements net.Conn: the read deadline as SetReadDeadline.
func (c *headConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// headScan finds the end of a connection's first request head (request
// line and headers) in what is read of it, read after read.
type headScan struct {
	// state is where the reads stand: headText on a line, headLF after a
	// line feed, headCR after LF CR; sawText once a line had text.
	state   byte
	sawText bool
}

// States of headScan.state.
const (
	headText byte = iota
	headLF
	headCR
)

// ends reports whether p, read next, ends the head: an empty line (LF LF,
// or LF CR LF) after a line with text (empty lines before the request
// line do not end it).
func (h *headScan) ends(p []byte) bool {
	for _, ch := range p {
		switch {
		case ch == '\n' && h.state != headText && h.sawText:
			return true
		case ch == '\n':
			h.state = headLF
		case ch == '\r' && h.state == headLF:
			h.state = headCR
		case ch == '\r':
		default:
			h.state, h.sawText = headText, true
		}
	}
	return false
}

// end stops the connection counting, or its fuse, once: the read deadline
// asked for applies again.
func (c *headConn) end() {
	if !c.ended.CompareAndSwap(false, true) {
		return
	}
	if c.counted {
		c.bound.release(c.addr)
	}
	if c.fuse.Swap(0) != 0 {
		var t time.Time
		if asked := c.asked.Load(); asked != 0 {
			t = time.Unix(0, asked)
		}
		_ = c.Conn.SetReadDeadline(t)
	}
}

// Close implements net.Conn.
func (c *headConn) Close() error {
	c.end()
	return c.Conn.Close()
}
