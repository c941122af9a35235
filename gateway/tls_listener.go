package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/porxgate/porxgate/internal/certfile"
)

// trustRecheck is how often, at most, a connection's client certificate
// is checked again, at a read, against the client CAs and CRLs in use.
const trustRecheck = time.Second

// Listener returns ln serving the front door's TLS.
//
// One client address may have at most maxPending connections at once
// whose handshake, then first request head (request line and headers), is
// under way (0: no bound). A connection beyond them is closed as soon as
// it is accepted, before any handshake work, counted
// (porxgate_tls_handshakes_refused_total) and logged once while its
// address stays at the bound. A connection stops counting once its first
// request head has arrived, its handshake failed, or it closes (the read
// timeout ends a silent one); a connection past its first request never
// counts, so a load balancer's address keeps all its established ones.
// (Before, a connection stopped counting at the end of its handshake, and
// any number could be held silent after it.)
//
// Under mutual TLS, a connection's client certificate is checked again at
// a read at most every trustRecheck: once its CA has left the bundle, or
// a CRL in use revokes it, the read fails and the connection is closed
// (logged, and counted as revoked when a CRL revokes it), as its next
// handshake would be refused.
func (f *FrontDoorTLS) Listener(ln net.Listener, maxPending int, log *slog.Logger) net.Listener {
	return f.listener(ln, maxPending, func() { f.handshakesRefused.Add(1) }, log, "front door")
}

// listener is Listener for the listener named name (in its log), with
// refused counting the connections refused.
func (f *FrontDoorTLS) listener(ln net.Listener, maxPending int, refused func(), log *slog.Logger, name string) net.Listener {
	return &frontListener{Listener: ln, ft: f, log: log, bound: newAddrBound(maxPending, refused, log,
		name+" connections refused: too many connections from one address whose TLS handshake or first request is under way; more are closed unanswered until some end")}
}

// frontListener is FrontDoorTLS.Listener's listener.
type frontListener struct {
	net.Listener
	ft    *FrontDoorTLS
	log   *slog.Logger
	bound *addrBound // handshakes under way by client address
}

// Accept implements net.Listener: the next connection its address has
// room for, as a TLS server connection.
func (l *frontListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		fc := &frontConn{Conn: tls.Server(c, l.ft.Config), l: l, addr: hostOf(c.RemoteAddr())}
		if l.bound.max <= 0 {
			fc.ended.Store(true)
			return fc, nil
		}
		if l.bound.admit(fc.addr) {
			return fc, nil
		}
		_ = c.Close()
	}
}

// frontConn is a TLS connection of the front door: its handshake counts
// against its address until it ends, and its client certificate is
// checked again as the trust in use changes.
type frontConn struct {
	*tls.Conn
	l     *frontListener
	addr  string
	ended atomic.Bool // the connection no longer counts: past its first request head
	head  headScan
	// checked is when the client certificate was last found accepted
	// (Unix nanoseconds; 0: at the handshake, not yet again).
	checked atomic.Int64
	// cut is the error of a connection whose certificate is no longer
	// accepted: every read fails with it.
	cut atomic.Pointer[error]
}

// end stops the connection counting, once.
func (c *frontConn) end() {
	if c.ended.CompareAndSwap(false, true) {
		c.l.bound.release(c.addr)
	}
}

// shaken notes the handshake done (or failed): the client certificate was
// found accepted now. A failed one ends the counting (its connection
// closes).
func (c *frontConn) shaken(err error) {
	c.checked.CompareAndSwap(0, time.Now().UnixNano())
	if err != nil {
		c.end()
	}
}

// Handshake implements what fasthttp asks of a TLS connection.
func (c *frontConn) Handshake() error {
	err := c.Conn.Handshake()
	c.shaken(err)
	return err
}

// Read implements net.Conn (a first Read runs the handshake when nothing
// asked for it before), noting the end of the first request head; what it
// reads from a certificate no longer accepted is not returned.
func (c *frontConn) Read(b []byte) (int, error) {
	if cut := c.cut.Load(); cut != nil {
		return 0, *cut
	}
	n, err := c.Conn.Read(b)
	c.shaken(err)
	if n > 0 && !c.ended.Load() && c.head.ends(b[:n]) {
		c.end()
	}
	if n > 0 && c.l.ft.cas != nil {
		if now := time.Now(); now.UnixNano()-c.checked.Load() >= int64(trustRecheck) {
			if cerr := c.recheck(now); cerr != nil {
				return 0, cerr
			}
			c.checked.Store(now.UnixNano())
		}
	}
	return n, err
}

// recheck returns an error, logged once, when the connection's client
// certificate is no longer accepted.
func (c *frontConn) recheck(now time.Time) error {
	cs := c.Conn.ConnectionState()
	err := c.l.ft.stillAccepted(cs.VerifiedChains, now)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("client certificate no longer accepted: %w", err)
	if !c.cut.CompareAndSwap(nil, &err) {
		return *c.cut.Load()
	}
	if _, ok := errors.AsType[*certfile.RevokedError](err); ok {
		c.l.ft.revoked.Add(1)
	}
	if c.l.log != nil {
		var subject, serial string
		if len(cs.PeerCertificates) > 0 {
			subject, serial = cs.PeerCertificates[0].Subject.CommonName, cs.PeerCertificates[0].SerialNumber.Text(16)
		}
		c.l.log.Warn("client connection closed: its certificate is no longer accepted",
			"remote", c.Conn.RemoteAddr().String(), "subject", subject, "serial", serial, "err", err)
	}
	return err
}

// Write implements net.Conn (a first Write runs the handshake when nothing
// asked for it before).
func (c *frontConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.shaken(err)
	return n, err
}

// Close implements net.Conn.
func (c *frontConn) Close() error {
	c.end()
	return c.Conn.Close()
}

// stillAccepted returns an error when client certificates verified as
// chains at the handshake are no longer accepted: no chain ends at a CA
// still in the bundle, or a CRL in use revokes one (a *certfile.RevokedError).
func (f *FrontDoorTLS) stillAccepted(chains [][]*x509.Certificate, now time.Time) error {
	if f.cas == nil || len(chains) == 0 {
		return nil
	}
	cas := f.cas.Current().Certs
	var trusted [][]*x509.Certificate
	for _, chain := range chains {
		anchor := chain[len(chain)-1]
		if slices.ContainsFunc(cas, anchor.Equal) {
			trusted = append(trusted, chain)
		}
	}
	if len(trusted) == 0 {
		return errors.New("its CA is no longer in the client CA bundle")
	}
	if f.crls != nil {
		return f.crls.Check(trusted, now)
	}
	return nil
}

// hostOf is the host of a connection's remote address (its IP).
func hostOf(a net.Addr) string {
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}
