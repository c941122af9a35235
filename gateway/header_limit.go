package gateway

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Bounds of a request's head (its request line and HTTP headers), which
// the HTTP server reads whole into a per-connection buffer before any
// handler runs (Config.MaxHeaderBytes).
const (
	// DefaultMaxHeaderBytes is --max-header's default: four times the
	// HTTP server's own 4 KiB, which a legacy MHS's long SOAPAction and
	// Content-Type and a few proxies' headers can pass; twice a single
	// header line Apache or nginx take by default (8 KiB).
	DefaultMaxHeaderBytes = 16 << 10
	// serverHeaderBytes is the HTTP server's (fasthttp's) read buffer
	// when none is set: the bound while --max-header is 0.
	serverHeaderBytes = 4 << 10
	// minHeaderBytes and maxHeaderBytes bound --max-header: below 1 KiB
	// not even a legacy request line and its Content-Type fit; above
	// 1 MiB (Go's net/http default) each connection's buffer would cost
	// more than a whole message.
	minHeaderBytes = 1 << 10
	maxHeaderBytes = 1 << 20
)

// NumHeadersTooLarge: the request's head (request line and HTTP headers
// together) is larger than --max-header, so the request was refused
// before any door ran.
const NumHeadersTooLarge = 910026

// headerLimit is the bound of a request's head under cfg.
func headerLimit(cfg Config) int {
	if cfg.MaxHeaderBytes <= 0 {
		return serverHeaderBytes
	}
	return cfg.MaxHeaderBytes
}

// catchHeadErrors has the server's errors for a request head it cannot
// read (headers it cannot parse, or more of them than --max-header)
// answered by unreadableHeaders, in the shape of the door the request
// line names, before Fiber turns them into bare status codes: Fiber maps
// a head over the read buffer to 431 without the request line (so
// without the door it named), and any error whose text holds "timeout"
// (the request's own bytes, "Keep-Alive: timeout=5" say) to 408, losing
// both (TestHeadTooLarge, TestUnreadableHTTPHeaders). Other errors go to
// Fiber as before.
func (s *Server) catchHeadErrors() {
	srv := s.app.Server()
	next := srv.ErrorHandler
	srv.ErrorHandler = func(fctx *fasthttp.RequestCtx, err error) {
		var small *fasthttp.ErrSmallBuffer
		tooLarge := errors.As(err, &small)
		h, ok := readUnreadableHeaders(err)
		if !ok && !tooLarge {
			next(fctx, err)
			return
		}
		h.tooLarge = tooLarge
		c := s.app.AcquireCtx(fctx)
		defer s.app.ReleaseCtx(c)
		if err := s.unreadableHeaders(c, h); err != nil {
			s.log.Error("refusing a request whose head could not be read", "err", err)
			fctx.Error(fasthttp.StatusMessage(fiber.StatusInternalServerError), fiber.StatusInternalServerError)
		}
	}
}
