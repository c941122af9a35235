package gateway

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/pprof"
)

// PathProfiles is where the admin listener serves Go's runtime profiles
// (net/http/pprof: CPU, heap, allocations, goroutines, mutex, block,
// execution trace), behind the admin listener's authentication with the
// admin role (admin.PathDebug: the command line may hold a password). A
// profile holds no message payloads; it is how an operator finds where a
// busy gateway spends its time, e.g.
// `go tool pprof -http=: 'http://127.0.0.1:8081/admin/debug/pprof/profile?seconds=20'`
// with the bearer token in the Authorization header.
const PathProfiles = "/admin/debug/pprof/"

// registerProfiles serves the runtime profiles on r, the /admin group.
func registerProfiles(r fiber.Router) {
	r.Use("/debug/pprof", pprof.New(pprof.Config{Prefix: "/admin"}))
}
