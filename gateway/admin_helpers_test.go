package gateway

import (
	"context"
	"net"
	"testing"
)

// adminBase returns the base URL of g's admin listener, starting the
// admin app on a free loopback port the first time (testConfig turns the
// listener off and authentication with it, so each test gets its own).
func (g *gw) adminBase(t *testing.T) string {
	t.Helper()
	g.adminOnce.Do(func() {
		as, err := g.srv.AdminServer()
		if err != nil {
			t.Fatalf("admin server: %v", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = as.App().Listener(ln) }()
		t.Cleanup(func() { _ = as.App().ShutdownWithContext(context.Background()) })
		g.admin = "http://" + ln.Addr().String()
	})
	if g.admin == "" {
		t.Fatal("admin listener did not start")
	}
	return g.admin
}
