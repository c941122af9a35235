package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/testnet"
)

// dialWith dials addr with the dialer a rediss:// URL's store gets
// (baseOptions), with the client configuration tlsCfg and a dial
// timeout of 20 s, far beyond what any answer here takes.
func dialWith(t *testing.T, addr string, tlsCfg *tls.Config) (net.Conn, error) {
	t.Helper()
	base, err := RedisOptions{URL: "rediss://" + addr + "/0?dial_timeout=20s"}.baseOptions()
	if err != nil {
		t.Fatal(err)
	}
	if base.Dialer == nil {
		t.Fatal("a rediss:// URL's options have no dialer of the store's own")
	}
	if tlsCfg != nil {
		base.TLSConfig = tlsCfg
		base.Dialer = tlsDialer(base, schemeNames(false))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := base.Dialer(ctx, "tcp", addr)
	if conn != nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, err
}

// TestTLSDialToPlainTextFails: a TLS dial to a real plain-text
// redis-server fails with ErrSchemeMismatch, naming the server and the
// scheme to use, and a second dial at once says the same without
// dialling. A plain-text Redis reads the ClientHello as the start of an
// inline command and never answers it: go-redis's own dial waited out
// its whole dial timeout (5 s by default, 20 s here) and said "context
// deadline exceeded".
func TestTLSDialToPlainTextFails(t *testing.T) {
	srv := redistest.Start(t)
	for i := range 2 {
		_, err := dialWith(t, srv.Addr, nil)
		if !errors.Is(err, ErrSchemeMismatch) || !strings.Contains(err.Error(), "the server at "+srv.Addr+" speaks plain text") ||
			!strings.Contains(err.Error(), "use redis://") {
			t.Fatalf("dial %d: %v; want the scheme mismatch named", i+1, err)
		}
	}
}

// TestTLSDialStillChecksTLS: the store's dialer is a TLS dial as go-redis's
// is: to a real TLS-only redis-server it connects and is answered when
// the server's CA is trusted, is refused with the certificate's error
// (not a scheme mismatch) when it is not, and waits for a handshake the
// server answers late (paused past tlsSilence, its look beside the
// handshake answered with nothing in plain text) instead of taking it
// for a plain-text server.
func TestTLSDialStillChecksTLS(t *testing.T) {
	srv, caPEM := redistest.StartTLS(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	trusted := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

	conn, err := dialWith(t, srv.Addr, trusted)
	if err != nil {
		t.Fatalf("dial with the CA trusted: %v", err)
	}
	if _, ok := conn.(*tls.Conn); !ok {
		t.Fatalf("dial gave %T, want a TLS connection", conn)
	}

	_, err = dialWith(t, srv.Addr, &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || errors.Is(err, ErrSchemeMismatch) {
		t.Fatalf("dial with the CA not trusted: %v; want the certificate refused", err)
	}

	srv.Pause(t)
	resumed := time.AfterFunc(3*tlsSilence, srv.Resume)
	defer resumed.Stop()
	if _, err := dialWith(t, srv.Addr, trusted); err != nil {
		t.Fatalf("dial to a server answering after %v: %v", 3*tlsSilence, err)
	}

	// Through a client: a command is answered over the dialer.
	base, err := RedisOptions{URL: "rediss://" + srv.Addr + "/0"}.baseOptions()
	if err != nil {
		t.Fatal(err)
	}
	base.TLSConfig = trusted
	base.Dialer = tlsDialer(base, schemeNames(false))
	c := redis.NewClient(base)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING over the store's dialer: %v", err)
	}
}

// TestTLSDialBounds: a dial to an address that refuses connections fails
// with the refusal, and one to an address that never completes them
// ends at the URL's dial timeout, as go-redis's own dial does.
func TestTLSDialBounds(t *testing.T) {
	if _, err := dialWith(t, testnet.RefusingAddr(t), nil); err == nil || errors.Is(err, ErrSchemeMismatch) {
		t.Fatalf("dial to a refusing address: %v; want it refused", err)
	}
	base, err := RedisOptions{URL: "rediss://h/0?dial_timeout=200ms"}.baseOptions()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = base.Dialer(ctx, "tcp", testnet.SilentAddr(t))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || ctx.Err() != nil {
		t.Fatalf("dial to a silent address: %v (test context %v); want the dial's own timeout", err, ctx.Err())
	}
}
