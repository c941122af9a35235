package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/deadline"
)

// Upstream is what the server needs to know of the EPS FHIR side for
// readiness.
type Upstream interface {
	// Ping checks that the upstream answers.
	Ping(ctx context.Context) error
	// BreakerStates returns each circuit breaker's state by operation.
	BreakerStates() map[string]string
	// Describe names the upstream for logs and /readyz (its base URL, or
	// "built-in simulator at ...").
	Describe() string
}

// Server is the gateway's HTTP face.
type Server struct {
	cfg      Config
	app      *fiber.App
	store    store.Store
	upstream Upstream
	log      *slog.Logger
	metrics  *Metrics
	msg      *messaging
	// doors bounds the messages the front doors take (admission.go).
	doors *admission
	// cancels handles pending cancellations (EnableCancellations); nil: none.
	cancels *cancels.Service
	// adminLn is the admin listener's address once it listens (admin_wiring.go).
	adminLn adminListener
	// adminOpen is the admin listener bound before serving (openAdmin); nil
	// until then.
	adminOpen *openedAdmin
	// adminTokenFile is the one-off admin token's file (adminAuth),
	// removed when the admin listener stops; "" when none was written.
	adminTokenFile string
}

// NewServer builds the Fiber app with its routes: health, readiness and
// metrics; the legacy front doors (PathEbXML, PathSOAP); the Tracker API.
// The admin views (PathDeadLetters, PathQueues, the page and the journal
// API) are on the admin listener (AdminServer, admin_wiring.go). upstream
// may be nil while none is configured. opts set the Processor, the routing
// table and the like;
// RunWorkers runs the workers that process and deliver.
func NewServer(cfg Config, st store.Store, up Upstream, log *slog.Logger, m *Metrics, opts ...Option) *Server {
	log = logctx.Wrap(log) // correlation fields from the context, each key once per line
	s := &Server{cfg: cfg, store: st, upstream: up, log: log, metrics: m, adminLn: adminListener{ready: make(chan struct{})}}
	s.msg = newMessaging(cfg, st, log, m, opts)
	useStoreMemory(s.msg.proc, st)
	registerCollector(m.Registry, newStoreDepthCollector(st))
	s.app = fiber.New(fiber.Config{
		AppName:               "porxgate",
		BodyLimit:             cfg.MaxBodyBytes,
		DisableStartupMessage: true,
		// A body is read as it arrives (readFrontBody), within --max-body:
		// read by the server before any handler, it cost the whole
		// Content-Length as soon as the headers came, whatever arrived.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               headerLimit(cfg), // the request line and headers, read whole (--max-header; more: catchHeadErrors)
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ErrorHandler:                 s.errorHandler,
	})
	s.catchHeadErrors()
	s.app.Use(m.middleware)
	s.app.Use(s.recoverPanics)
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})))
	am := newAdmissionMetrics(m.Registry)
	doors := newAdmission(cfg.MaxInFlight, cfg.PerClientInFlight(), log, func(c *fiber.Ctx, t Transport, reason string) {
		s.msg.received(c, t, "busy")
		am.refusals.WithLabelValues(string(t), reason).Inc()
	})
	doors.queue = newQueueBound(cfg.MaxQueueWait, st, s.msg.now, log, am.queueWait)
	doors.gc = newGCPressure(cfg.MaxGCCPUPercent, log)
	registerCollector(m.Registry, doors.gc)
	s.doors = doors
	// Busy refusals that need no body come first (doors.early), then the
	// body is read, then the doors' slots are taken (doors.wrap).
	s.app.Post(PathEbXML, doors.early(TransportEbXML), readFrontBody(cfg.MaxBodyBytes), doors.wrap(TransportEbXML, s.ebxmlRequest))
	s.app.Post(PathSOAP, doors.early(TransportSOAP), readFrontBody(cfg.MaxBodyBytes), doors.wrap(TransportSOAP, s.soapRequest))
	s.app.Use("/mm", s.trackerAccess)
	s.registerTrackerAPI()
	return s
}

// App returns the Fiber app, for rooms that add routes.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until ctx is done, then stops taking new
// connections and drains in-flight requests for at most the configured
// shutdown timeout. A request refused before its body was read is
// answered in full before its connection closes (refusalListener).
//
// SOAP requests still waiting on EPS when three quarters of the shutdown
// timeout have passed are cut short (syncCut): each is answered with a
// retryable fault in the time left, rather than cut off unanswered when
// the process exits, and what its EPS call may have released is noted
// owed (oweUnknown).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cut := s.msg.syncCut.open()
	defer cut()
	return serveClosingSilent(ctx, s.app, ln, s.cfg.ShutdownTimeout, func() {
		s.log.Info("shutting down: draining in-flight requests", "timeout_ms", s.cfg.ShutdownTimeout.Milliseconds())
		time.AfterFunc(s.cfg.ShutdownTimeout*3/4, cut)
	})
}

// serveClosingSilent is serveApp on ln wrapped in a refusalListener, whose
// connections that never sent a byte (they carry no request to drain) are
// closed when the stop begins: fasthttp would wait five seconds for each,
// past a shorter shutdown timeout. A request still arriving when the stop
// begins gets half the shutdown timeout to arrive (a stalled sender would
// otherwise hold the drain for the read timeout); the other half is for
// answering it.
func serveClosingSilent(ctx context.Context, app *fiber.App, ln net.Listener, timeout time.Duration, stopping func()) error {
	rl := newRefusalListener(ln)
	stopped := make(chan struct{})
	defer close(stopped)
	return serveApp(ctx, app, rl, timeout, func() {
		stopping()
		rl.cutReads(time.Now().Add(timeout / 2))
		go rl.closeSilentUntil(stopped)
	})
}

// serveApp serves app on ln until ctx is done, then shuts it down (calling
// stopping first), letting requests in flight finish for at most timeout.
// It returns once app no longer serves, whenever ctx is done: fasthttp's
// Shutdown does nothing for a listener its Serve has not taken yet (a stop
// as the gateway starts), and such a Serve would then serve for ever, so
// serveApp closes ln itself after the shutdown, and a Serve that had not
// started returns at once. When serving stops on its own (the listener
// fails or is closed under it), the requests in flight are drained the
// same way and the error says why serving stopped.
func serveApp(ctx context.Context, app *fiber.App, ln net.Listener, timeout time.Duration, stopping func()) error {
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		if err == nil {
			err = errListenerClosed // fasthttp's Serve returns nil for a listener closed under it
		}
		stopping()
		if shutErr := app.ShutdownWithTimeout(timeout); shutErr != nil && !errors.Is(shutErr, net.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("shutdown: %w", shutErr))
		}
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	stopping()
	shutErr := app.ShutdownWithTimeout(timeout)
	_ = ln.Close() // closed already when the shutdown took it
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	if shutErr != nil {
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	return nil
}

// errListenerClosed says serving stopped because the listener was closed
// while the gateway was not stopping.
var errListenerClosed = errors.New("the listener was closed")

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "up"})
}

// readyTimeout bounds each of /readyz's checks.
const readyTimeout = 2 * time.Second

// readyz reports whether the gateway can take messages: 503 when the
// store does not answer, refuses writes (full at its memory limit, or
// read-only), or lacks the replicas its writes wait for. It
// reports EPS's state and the circuit breakers' too; with
// Config.ReadyzUpstream an EPS that does not answer, or an open
// breaker, makes it 503 as well (by default not: the gateway
// takes and keeps messages while EPS is down). An upstream not configured
// is 503 always. The two checks run side by side, each within its own
// readyTimeout: a hung store must not use up the upstream's time and have
// EPS reported unreachable too.
func (s *Server) readyz(c *fiber.Ctx) error {
	var storeStatus, upStatus fiber.Map
	var storeOK, upOK bool
	ctx := c.UserContext()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); storeStatus, storeOK = s.storeReady(ctx) }()
	go func() { defer wg.Done(); upStatus, upOK = s.upstreamReady(ctx) }()
	wg.Wait()
	if s.upstream != nil && !s.cfg.ReadyzUpstream {
		upOK = true // reported, not counted (Config.ReadyzUpstream)
	}
	code := fiber.StatusOK
	status := "ready"
	if !storeOK || !upOK {
		code, status = fiber.StatusServiceUnavailable, "not ready"
	}
	return c.Status(code).JSON(fiber.Map{"status": status, "store": storeStatus, "upstream": upStatus})
}

// storeReady is /readyz's store check: it answers, it takes a write, and
// with --redis-wait-replicas, its replicas are online.
func (s *Server) storeReady(parent context.Context) (fiber.Map, bool) {
	ctx, cancel := context.WithTimeout(parent, readyTimeout)
	defer cancel()
	st := fiber.Map{"kind": s.store.Kind(), "status": "ok"}
	if err := withinDeadline(ctx, s.store.Ping); err != nil {
		st["status"] = "unreachable"
		st["error"] = err.Error()
		return st, false
	}
	if wc, ok := s.store.(interface{ CheckWritable(context.Context) error }); ok {
		// PING answers while Redis refuses every write (full, read-only,
		// no permission): every message would be refused.
		if err := withinDeadline(ctx, wc.CheckWritable); err != nil {
			st["status"] = "refusing writes"
			if errors.Is(err, store.ErrFull) {
				st["status"] = "full"
			}
			st["error"] = err.Error()
			return st, false
		}
	}
	if rs, ok := s.store.(interface {
		Replicas(context.Context) (store.ReplicaCount, error)
	}); ok {
		// --redis-wait-replicas: without the replicas every write fails;
		// with more online than it waits for, a failover may lose writes.
		var count store.ReplicaCount
		err := withinDeadline(ctx, func(ctx context.Context) error {
			c, err := rs.Replicas(ctx)
			if err == nil {
				err = c.Missing()
			}
			count = c
			return err
		})
		if err != nil {
			st["status"] = "replicas missing"
			st["error"] = err.Error()
			return st, false
		}
		if w := count.Unwaited(); w != "" {
			st["warning"] = w
		}
	}
	return st, true
}

// withinDeadline runs check and returns its error, or an error as soon as
// ctx's deadline passes, so that /readyz answers within readyTimeout
// even from a check that does not give up at its context's deadline. A
// check cut short finishes in the background. A check that fails as the
// deadline passes (a hung Redis's read, whose connection has ctx's
// deadline, fails with "i/o timeout" at that instant) is reported as not
// answering within it, whichever of the two comes first: before, the
// check's error alone when it did, as it could on a loaded machine.
func withinDeadline(ctx context.Context, check func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- check(ctx) }()
	select {
	case err := <-done:
		if err != nil && deadline.Passed(ctx) {
			return fmt.Errorf("no answer within %v: %w", readyTimeout, err)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %v: %w", readyTimeout, ctx.Err())
	}
}

// upstreamReady is /readyz's upstream check: configured, answering, and no
// breaker open (a half-open one is reported only).
func (s *Server) upstreamReady(parent context.Context) (fiber.Map, bool) {
	if s.upstream == nil {
		return fiber.Map{"status": "not configured"}, false
	}
	ctx, cancel := context.WithTimeout(parent, readyTimeout)
	defer cancel()
	ready := true
	breakers := s.upstream.BreakerStates()
	st := fiber.Map{"status": "ok", "target": s.upstream.Describe(), "breakers": breakers}
	if trouble := breakerTrouble(breakers); trouble != "" {
		// An open breaker means EPS is failing: not ready, whatever one
		// ping says. A half-open one is reported but not counted: it
		// closes only on a call of its operation, which a replica taken
		// out of its load balancer would never get.
		ready = trouble != "breaker open"
		st["status"] = trouble
	}
	if err := s.upstream.Ping(ctx); err != nil {
		ready = false
		st["status"] = "unreachable"
		st["error"] = err.Error()
	}
	return st, ready
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	if c.Method() == fiber.MethodPost && code != fiber.StatusInternalServerError {
		if handled, herr := s.transportError(c, code, err); handled {
			return herr
		}
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(code).JSON(fiber.Map{"error": err.Error()})
}
