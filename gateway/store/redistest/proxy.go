package redistest

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a loopback TCP proxy in front of a Server that can lose the
// reply to a command the server has run: the fault after which a client
// (go-redis retries a command on a connection that broke while it waited
// for the reply) sends the command a second time. Clients connect to Addr.
type Proxy struct {
	// Addr is the proxy's host:port on the loopback interface.
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	armed []byte            // LoseReply's pattern; nil when disarmed
	times int               // how many more replies to lose
	conns map[net.Conn]bool // open client and server connections
	wg    sync.WaitGroup    // the accept loop and each connection's copiers
	lost  atomic.Int64      // replies lost
	done  atomic.Bool       // closed
	cut   atomic.Bool       // Cut: connections closed as they come
}

// StartProxy starts a proxy in front of s. It stops when the test ends.
func StartProxy(t testing.TB, s *Server) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: s.Addr, ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// URL returns the redis:// URL of the proxy.
func (p *Proxy) URL() string { return "redis://" + p.Addr + "/0" }

// LoseReply arms the proxy: the next command whose bytes contain pattern
// goes to the server, and once the server's reply to it begins to come
// back the connection it came on is closed, the reply not passed on. The
// command has run; its client sees the connection break. Only the first
// command that matches loses its reply; later ones pass.
func (p *Proxy) LoseReply(pattern string) { p.LoseReplies(pattern, 1) }

// LoseReplies is LoseReply for the next n commands that match: n
// larger than the client's retries makes the call fail, though Redis ran
// it. n 0 or less disarms the proxy.
func (p *Proxy) LoseReplies(pattern string, n int) {
	p.mu.Lock()
	p.armed, p.times = []byte(pattern), n
	if n <= 0 {
		p.armed = nil
	}
	p.mu.Unlock()
}

// Cut partitions the proxy's clients from the server, as a network
// failure between one replica and Redis: the open connections are closed
// and new ones closed as they come, until Mend. The server itself, and
// clients connected to it directly, go on.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut.Store(true)
	for c := range p.conns {
		_ = c.Close()
	}
}

// Mend ends Cut: new connections reach the server again.
func (p *Proxy) Mend() { p.cut.Store(false) }

// Lost reports how many replies the proxy has lost.
func (p *Proxy) Lost() int { return int(p.lost.Load()) }

// match reports whether b holds the armed pattern, and disarms it once
// it has matched as many times as armed.
func (p *Proxy) match(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.armed == nil || !bytes.Contains(b, p.armed) {
		return false
	}
	if p.times--; p.times <= 0 {
		p.armed = nil
	}
	return true
}

// track records c as open (false once the proxy is closed: c is closed).
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if p.cut.Load() {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c) || !p.track(s) {
			_ = c.Close()
			_ = s.Close()
			return
		}
		p.wg.Add(2)
		var losing atomic.Bool
		go p.forward(c, s, func(b []byte) { // client to server
			if p.match(b) {
				losing.Store(true)
			}
		}, nil)
		go p.forward(s, c, nil, &losing) // server to client
	}
}

// forward copies from src to dst until either breaks. seen, when set, is
// shown each read before it is passed on; losing, when set and true at a
// read, drops what was read and closes both connections.
func (p *Proxy) forward(src, dst net.Conn, seen func([]byte), losing *atomic.Bool) {
	defer p.wg.Done()
	defer func() {
		_ = src.Close()
		_ = dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 64<<10)
	// tail keeps the end of the last read, so that a pattern split
	// between two reads is seen.
	var tail []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if seen != nil {
				win := append(tail, buf[:n]...)
				seen(win)
				tail = append(tail[:0], win[max(0, len(win)-256):]...)
			}
			if losing != nil && losing.Load() {
				p.lost.Add(1)
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.done.Store(true)
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return
	}
	p.wg.Wait()
}
