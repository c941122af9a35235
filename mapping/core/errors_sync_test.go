package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testnet"
	"github.com/sony/gobreaker/v2"
)

type statusErr int

func (s statusErr) Error() string   { return fmt.Sprintf("upstream answered %d", int(s)) }
func (s statusErr) HTTPStatus() int { return int(s) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// refusedErr dials a loopback port that refuses connections and returns
// the error.
func refusedErr(t *testing.T) error {
	t.Helper()
	conn, err := net.Dial("tcp", testnet.RefusingAddr(t))
	if err == nil {
		conn.Close()
		t.Fatal("a refusing address accepted a connection")
	}
	return err
}

func TestSyncFault(t *testing.T) {
	tests := []struct {
		class     UpstreamFailure
		code      string
		retryable bool
	}{
		{FailureServer, "200", true},
		{FailureTimeout, "200", true},
		{FailureRateLimited, "200", true},
		{FailureBreakerOpen, "206", true},
		{FailureNetwork, "206", true},
		{FailureClient, "300", false},
		{UpstreamFailure(0), "200", true},
	}
	for _, tt := range tests {
		t.Run(tt.class.String(), func(t *testing.T) {
			code, retry := SyncFault(tt.class)
			if code != tt.code || retry != tt.retryable {
				t.Errorf("SyncFault(%s) = %s, %v; want %s, %v", tt.class, code, retry, tt.code, tt.retryable)
			}
		})
	}
}

func TestClassifyUpstream(t *testing.T) {
	breakerOpen := errors.New("upstream circuit breaker open")
	tests := []struct {
		name string
		err  error
		want UpstreamFailure
	}{
		{"breaker open, wrapped as gateway/upstream does", fmt.Errorf("upstream %s: %w (%w)", "$process-message", breakerOpen, gobreaker.ErrOpenState), FailureBreakerOpen},
		{"breaker half-open busy", fmt.Errorf("x: %w", gobreaker.ErrTooManyRequests), FailureBreakerOpen},
		{"5xx status", fmt.Errorf("call: %w", statusErr(503)), FailureServer},
		{"429 status", statusErr(429), FailureRateLimited},
		{"4xx status", fmt.Errorf("call: %w", statusErr(401)), FailureClient},
		{"deadline", fmt.Errorf("gave up: %w", context.DeadlineExceeded), FailureTimeout},
		{"network timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, FailureTimeout},
		{"refused", fmt.Errorf("dial: %w", refusedErr(t)), FailureNetwork},
		{"dns", &net.DNSError{Err: "no such host", Name: "eps.invalid", IsNotFound: true}, FailureNetwork},
		{"retries exhausted on 5xx (no cause)", errors.New("upstream $release (request r): gave up after 3 attempts: last status 502"), FailureServer},
		{"cancelled", context.Canceled, FailureServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyUpstream(tt.err); got != tt.want {
				t.Errorf("ClassifyUpstream(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
	code, retry := SyncFaultCode(fmt.Errorf("op: %w", gobreaker.ErrOpenState))
	if code != SyncCodeRoutingFailure || !retry {
		t.Errorf("SyncFaultCode(breaker open) = %s, %v", code, retry)
	}
}

func TestClassifyUpstreamRealTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	if got := ClassifyUpstream(err); got != FailureTimeout {
		t.Errorf("ClassifyUpstream(%v) = %s, want timeout", err, got)
	}
}

func TestClassifyStatus(t *testing.T) {
	for status, want := range map[int]UpstreamFailure{400: FailureClient, 404: FailureClient, 422: FailureClient, 429: FailureRateLimited, 500: FailureServer, 502: FailureServer, 503: FailureServer, 504: FailureServer} {
		if got := ClassifyStatus(status); got != want {
			t.Errorf("ClassifyStatus(%d) = %s, want %s", status, got, want)
		}
	}
}
