package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// requestTimeout bounds one message's exchange on a connection, from its
// write to the end of its answer, as the HTTP client's Timeout did.
const requestTimeout = 30 * time.Second

// staleAfter is how long a connection may stay idle before it is checked
// for a close by the target (the gateway closes keep-alive connections
// idle for 120 s) before it is used again.
const staleAfter = time.Second

// connPool is one client's keep-alive HTTP/1.1 connections to the target,
// used in place of net/http's Transport: each message is written whole
// (head and body) in one write from a buffer its connection keeps, and
// its answer read on the same goroutine, where the Transport handed every
// request to a writer goroutine and its answer from a reader goroutine
// and made each request anew. Idle connections are reused most recently
// used first, as the Transport does; there are never more than the
// senders using the pool at once (a connection is held from before the
// write to the end of the answer), which bounds them as the Transport's
// MaxConnsPerHost did.
type connPool struct {
	// addr is the target's host:port; url the full request URL, for errors.
	addr, url string
	dialer    net.Dialer
	// ctx is the run's: its end cuts the exchanges under way.
	ctx context.Context
	// post is the request the answers are read for.
	post *http.Request

	mu   sync.Mutex
	idle []*clientConn
}

// clientConn is one connection of a connPool.
type clientConn struct {
	c  net.Conn
	br *bufio.Reader
	// req is the buffer each message is filled into; answer the one its
	// answer's body is read into.
	req    []byte
	answer bytes.Buffer
	// used is when the connection last finished an exchange (zero: new).
	used time.Time
	stop func() bool
}

// newConnPool returns the pool of connections to target (an http URL)
// from local (nil: the address the system picks), for the run ctx.
func newConnPool(ctx context.Context, target string, local net.Addr) (*connPool, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("load target %q: want an http URL", target)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &connPool{addr: addr, url: strings.TrimRight(target, "/") + requestPath, ctx: ctx, dialer: net.Dialer{LocalAddr: local, Timeout: requestTimeout},
		post: &http.Request{Method: http.MethodPost}}, nil
}

// get returns an idle connection (one the target has closed in the
// meantime is dropped) or a new one.
func (p *connPool) get() (*clientConn, error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		cc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if time.Since(cc.used) < staleAfter || open(cc.c) {
			return cc, nil
		}
		cc.close()
	}
	c, err := p.dialer.DialContext(p.ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("dial tcp %s: %w", p.addr, unwrapOp(err))
	}
	cc := &clientConn{c: c, br: bufio.NewReader(c)}
	// The run's end cuts whatever the connection is doing.
	cc.stop = context.AfterFunc(p.ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return cc, nil
}

// unwrapOp returns what a dial's *net.OpError says without its own "dial
// tcp addr:" prefix, which get writes.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return op.Err
	}
	return err
}

// put keeps cc for the next message.
func (p *connPool) put(cc *clientConn) {
	cc.used = time.Now()
	p.mu.Lock()
	p.idle = append(p.idle, cc)
	p.mu.Unlock()
}

// close closes every idle connection.
func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, cc := range idle {
		cc.close()
	}
}

// close ends the connection.
func (cc *clientConn) close() {
	cc.stop()
	_ = cc.c.Close()
}

// send sends one message, filled by fill into the connection's buffer, and
// reads its answer: whether it was accepted (HTTP 202) and, when not, why
// (refusalText, or the transport error). A connection reused from the pool
// whose write fails (the target closed it between the check and the
// write) is replaced once, as net/http retries a request none of which
// was written.
func (p *connPool) send(fill func([]byte) []byte) (bool, string) {
	for try := 0; ; try++ {
		cc, err := p.get()
		if err != nil {
			return false, p.failed(err)
		}
		reused := !cc.used.IsZero()
		cc.req = fill(cc.req)
		_ = cc.c.SetDeadline(time.Now().Add(requestTimeout))
		if _, err := cc.c.Write(cc.req); err != nil {
			cc.close()
			if reused && try == 0 && p.ctx.Err() == nil {
				continue
			}
			return false, p.failed(err)
		}
		status, keep, err := cc.readAnswer(p.post)
		if err != nil {
			cc.close()
			return false, p.failed(err)
		}
		var why string
		if status != http.StatusAccepted {
			why = refusalText(status, cc.answer.Bytes())
		}
		// A connection the target closes after its answer, or that holds
		// more than the one answer to the one request, is not used again.
		if keep && cc.br.Buffered() == 0 {
			p.put(cc)
		} else {
			cc.close()
		}
		return status == http.StatusAccepted, why
	}
}

// readAnswer reads the answer to the request written on cc, its body into
// cc.answer, and says whether the connection may carry another (the
// target does not close it).
func (cc *clientConn) readAnswer(req *http.Request) (status int, keep bool, err error) {
	resp, err := http.ReadResponse(cc.br, req)
	if err != nil {
		return 0, false, err
	}
	cc.answer.Reset()
	_, err = cc.answer.ReadFrom(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	return resp.StatusCode, !resp.Close, nil
}

// failed is the text of a transport error as the HTTP client wrote it
// (Post "URL": ...), the run's own end said as it (context deadline
// exceeded, context canceled) rather than as the i/o timeout it causes.
func (p *connPool) failed(err error) string {
	if p.ctx.Err() != nil {
		err = p.ctx.Err()
	}
	return (&url.Error{Op: "Post", URL: p.url, Err: err}).Error()
}
