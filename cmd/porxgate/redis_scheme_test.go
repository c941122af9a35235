package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestServeNamesRedisSchemeMismatch: `porxgate serve --redis rediss://…`
// at a plain-text Redis ended with "redis ping: context deadline
// exceeded", which sends the on-call operator looking for a network
// fault. The start now fails (exit 1) saying the server speaks plain text
// while the URL asks for TLS, and what to change.
func TestServeNamesRedisSchemeMismatch(t *testing.T) {
	rs := redistest.Start(t)
	p := startGatewayProcess(t, "--addr", "127.0.0.1:0", "--admin-addr", "off", "--redis", "rediss://"+rs.Addr+"/0")
	err := p.waitExit(t, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("serve with rediss:// at a plain-text Redis: %v, want exit status 1\n%s", err, p.logText())
	}
	if want := "the URL's rediss:// scheme asks for TLS: use redis://"; !strings.Contains(p.logText(), want) {
		t.Fatalf("the log does not say %q:\n%s", want, p.logText())
	}
}
