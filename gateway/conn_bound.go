package gateway

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// addrBound bounds, per client address, a listener's connections not yet
// past their opening (their TLS handshake, if any, and their first request
// head): a peer holding connections open and silent, or
// trickling (each for the read timeout), cannot run the process out of
// file descriptors. A connection past its opening never counts, so a load
// balancer's address keeps all its established ones.
type addrBound struct {
	max     int
	refused func() // counts a connection refused
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
// room for it; otherwise it counts the refusal (logged once while addr
// stays at the bound) and reports false.
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

// PlainListener returns ln (a listener without TLS, named listener in the
// log) whose connections count against their client address until the
// head of their first request (request line and headers) has arrived, or
// they close. One address may have at most maxPending such connections
// at once (0: no bound); a connection beyond them is closed as soon as it
// is accepted, refused is called (it counts it) and a warning is logged
// once while the address stays at the bound. It is the plain-HTTP twin of
// FrontDoorTLS.Listener's bound on handshakes.
func PlainListener(ln net.Listener, maxPending int, refused func(), log *slog.Logger, listener string) net.Listener {
	if maxPending <= 0 {
		return ln
	}
	return &headListener{Listener: ln, bound: newAddrBound(maxPending, refused, log,
		"connections refused: too many from one address whose first request has not arrived; more are closed unanswered until some end",
		"listener", listener)}
}

// headListener is PlainListener's listener.
type headListener struct {
	net.Listener
	bound *addrBound
}

// Accept implements net.Listener: the next connection its address has
// room for.
func (l *headListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		if l.bound.admit(addr) {
			return &headConn{Conn: c, bound: l.bound, addr: addr}, nil
		}
		_ = c.Close()
	}
}

// headConn is a connection of headListener: it counts against its
// address until the head of its first request has been read.
type headConn struct {
	net.Conn
	bound *addrBound
	addr  string
	ended atomic.Bool
	head  headScan
}

// Read implements net.Conn, noting the end of the first request head.
func (c *headConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.ended.Load() && c.head.ends(b[:n]) {
		c.end()
	}
	return n, err
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

// end stops the connection counting, once.
func (c *headConn) end() {
	if c.ended.CompareAndSwap(false, true) {
		c.bound.release(c.addr)
	}
}

// Close implements net.Conn.
func (c *headConn) Close() error {
	c.end()
	return c.Conn.Close()
}
