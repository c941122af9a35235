package store

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// tlsSilence is how long a TLS handshake with a Redis server goes
// unanswered before tlsDialer looks beside it at whether the server
// speaks plain text. A handshake a TLS server answers takes milliseconds
// on the networks Redis is reached over; one that goes past this costs a
// second connection, for one plain-text PING.
const tlsSilence = 250 * time.Millisecond

// defaultDialTimeout is go-redis's dial timeout when the URL sets no
// dial_timeout (or sets 0).
const defaultDialTimeout = 5 * time.Second

// tlsDialer returns the dialer of a client that speaks TLS (rediss://,
// rediss-sentinel://): go-redis's own (a TCP dial with its keep-alive
// policy, then the TLS handshake, both within the dial timeout), except
// that a handshake still unanswered after tlsSilence is looked at beside
// (probeTransport, a plain-text PING on a second connection), and when the
// server answers that in plain text the dial fails at once, with
// ErrSchemeMismatch, instead of at the dial timeout (5 s by default).
//
// For that is what a plain-text Redis or sentinel does with a TLS
// ClientHello: it reads it as the start of an inline command and waits,
// silent, for the end of its line (it looks for a newline up to the first
// NUL, and the handshake's length field holds one in its fifth to seventh
// bytes), so the handshake waits out the whole dial timeout. go-redis
// bounds the handshake by the dial timeout alone (tls.DialWithDialer), not
// by the caller's context: Ping's look named the mismatch after a second,
// but a Sentinel group's client held its lock for the rest of the five
// seconds (its dials to the sentinels), and the start's Close waited for
// it. The handshake itself is as before: nothing is sent over the
// connection but the handshake, and the certificate is checked as the
// TLS configuration says; only a handshake that could not succeed ends
// sooner.
func tlsDialer(base *redis.Options, names transportNames) func(ctx context.Context, network, addr string) (net.Conn, error) {
	timeout := base.DialTimeout
	if timeout == 0 {
		timeout = defaultDialTimeout
	}
	cfg := base.TLSConfig
	tcp := redis.NewDialer(&redis.Options{DialTimeout: timeout}) // go-redis's, without TLS
	var found mismatches
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := found.recent(addr); err != nil {
			return nil, err
		}
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		conn, err := tcp(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg
		if c.ServerName == "" { // as crypto/tls's own dial: the host dialled
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			c = cfg.Clone()
			c.ServerName = host
		}
		hctx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		look := time.AfterFunc(tlsSilence, func() {
			if err := probeTransport(hctx, addr, true, names); err != nil {
				stop(err)
			}
		})
		defer look.Stop()
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(hctx); err != nil {
			_ = conn.Close()
			if cause := context.Cause(hctx); errors.Is(cause, ErrSchemeMismatch) {
				found.add(addr, cause)
				return nil, cause
			}
			return nil, err // as go-redis's own dial gives it
		}
		return tc, nil
	}
}

// mismatchKept is how long tlsDialer answers a dial to a server it found
// speaking plain text with that finding, without dialling: go-redis dials
// a connection up to five times (DialerRetries) whatever the error, and
// each try would take tlsSilence and a look again. Long enough to cover
// the tries of one connection, short enough that a server mended is
// dialled again within a second.
const mismatchKept = time.Second

// mismatches are the servers a dialer found speaking plain text, by
// address, each with its error and when it was found.
type mismatches struct {
	mu sync.Mutex
	at map[string]mismatch
}

// mismatch is a finding of tlsDialer's.
type mismatch struct {
	err error
	at  time.Time
}

// add records err as the finding at addr, now.
func (m *mismatches) add(addr string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at == nil {
		m.at = map[string]mismatch{}
	}
	m.at[addr] = mismatch{err: err, at: time.Now()}
}

// recent returns the finding at addr made within mismatchKept; nil when
// there is none.
func (m *mismatches) recent(addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.at[addr]
	if !ok {
		return nil
	}
	if time.Since(f.at) > mismatchKept {
		delete(m.at, addr)
		return nil
	}
	return f.err
}
