package gateway

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAdminListenerFailureEndsTheRun: an admin listener that cannot serve
// (its port taken, its TLS certificate unreadable) used to be logged and
// left behind while the gateway ran on without it, and exited 0 at the
// next stop. Like the front door's failure it now ends the run with the
// error, so that the operator sees it at start and the process is
// restarted rather than living on unmanageable.
func TestAdminListenerFailureEndsTheRun(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	missing := filepath.Join(t.TempDir(), "absent.pem")
	tests := []struct {
		name    string
		set     func(c *Config)
		wantErr string
	}{
		{"port taken", func(c *Config) { c.Admin.Addr = taken.Addr().String() }, "admin listen"},
		{"certificate unreadable", func(c *Config) {
			c.Admin.Addr, c.Admin.TLSCertFile, c.Admin.TLSKeyFile = "127.0.0.1:0", missing, missing
		}, "admin tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.set(&cfg)
			ln, cancel, done := serveAndWork(t, NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics()))
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ServeAndWork = %v, want an error saying %q", err, tt.wantErr)
				}
			case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
				cancel()
				err := <-done
				t.Fatalf("the gateway still served %v after its admin listener failed (then stopped with %v)", cfg.ShutdownTimeout+5*time.Second, err)
			}
			if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
				c.Close()
				t.Fatal("the front door still accepts connections")
			}
		})
	}
}
