package outbox

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newLoopbackServer serves h on a loopback socket until the test ends and
// returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
