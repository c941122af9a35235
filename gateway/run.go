package gateway

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// OpenStore opens the store the configuration names: Redis when RedisURL,
// Sentinel or Cluster addresses are set (checked with a PING now, so a wrong
// address fails at start), otherwise the in-memory store.
func OpenStore(ctx context.Context, cfg Config) (store.Store, error) {
	if !cfg.UsesRedis() {
		return store.NewMemory(nil), nil
	}
	r, err := store.OpenRedis(cfg.RedisOptions(), store.DefaultPrefix)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pingUntilDone(pctx, r); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("redis at %s: %w", cfg.redisDescription(), err)
	}
	return r, nil
}

// CheckStoreDurability refuses a Redis that evicts keys when full (an
// acknowledged message could vanish before it is processed) and warns of
// persistence settings under which a crash of Redis may lose acknowledged
// messages, and of a clock out of step with Redis's; a Sentinel group's
// replicas are checked as its master is. A Redis that will not say (INFO
// refused) is used with a warning. The in-memory store has nothing to
// check.
func CheckStoreDurability(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) error {
	r, ok := st.(*store.Redis)
	if !ok {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ds, err := r.CheckDurability(cctx)
	if err != nil {
		log.Warn("could not read Redis's eviction and persistence settings; make sure of maxmemory-policy noeviction, appendonly yes and appendfsync always (docs/deploy.md)", "err", err)
		return nil
	}
	for _, d := range ds {
		if d.Evicts() {
			return d.EvictionError()
		}
		for _, w := range d.Warnings() {
			log.Warn(w)
		}
	}
	if skew, err := r.ClockSkew(cctx); err == nil && skew.Abs() > maxClockSkew {
		log.Warn("this replica's clock differs from Redis's: keep every replica's clock in step (NTP), or replicas whose clocks differ by more than --lease may take each other's work",
			"skew", skew.Round(time.Millisecond).String(), "lease", cfg.Lease.String())
	}
	return nil
}

// maxClockSkew is the difference between this replica's clock and Redis's
// that CheckStoreDurability warns of: far above what NTP leaves, far below
// a lease.
const maxClockSkew = 2 * time.Second

// pingUntilDone pings r, giving up as soon as ctx is done: the Redis
// client does not cut a read it is blocked in when its context is
// cancelled, so a Redis that accepts connections but answers nothing
// would hold the start, and a stop during it, for the client's own read
// timeout and retries. Giving up closes r, which ends that read.
func pingUntilDone(ctx context.Context, r *store.Redis) error {
	errc := make(chan error, 1)
	go func() { errc <- r.Ping(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		_ = r.Close()
		<-errc
		return fmt.Errorf("redis ping: %w", context.Cause(ctx))
	}
}

// OpenRoutes reads the routing table the configuration names; nil when
// none is configured. A route that binds its party to client certificates
// (certNames) needs the listener to ask for them (--tls-client-ca): without
// it every message of the party would be refused.
func OpenRoutes(cfg Config) (*outbox.Routes, error) {
	if cfg.RoutesFile == "" {
		return nil, nil
	}
	r, err := outbox.LoadRoutes(cfg.RoutesFile, cfg.DeliveryPolicy())
	if err != nil {
		return nil, err
	}
	if p := r.CertBound(); p != "" && cfg.TLSClientCAFile == "" {
		return nil, fmt.Errorf("routes file %s: party %s has certNames, which need mutual TLS (--tls-client-ca)", cfg.RoutesFile, p)
	}
	return r, nil
}

// Run starts the gateway as configured and serves until ctx is done; then it
// drains in-flight requests, lets the workers finish the work in hand and
// closes what it opened. Work not finished stays in the store. A stop
// while it starts (ctx done before it serves) is a clean stop, not a
// failure of the step it cut short.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log = logctx.Wrap(log) // correlation fields from the context, each key once per line
	routes, err := OpenRoutes(cfg)
	if err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	if err := CheckIdentityBindings(cfg, routes, log); err != nil {
		return fmt.Errorf("upstream identities: %w", err)
	}
	frontTLS, err := ServerTLS(cfg, log)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	client, deliveryCAs, err := deliveryClient(cfg, log)
	if err != nil {
		return fmt.Errorf("delivery client: %w", err)
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return startFailed(ctx, log, "store", err)
	}
	defer st.Close()
	if err := CheckStoreDurability(ctx, cfg, st, log); err != nil {
		return startFailed(ctx, log, "store", err)
	}
	jst, closeJournalStore, err := OpenJournalStore(ctx, cfg, st, log)
	if err != nil {
		return startFailed(ctx, log, "journal store", err)
	}
	defer closeJournalStore()
	metrics := NewMetrics()
	if err := InstrumentRedis(metrics.Registry, st, jst); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if frontTLS != nil {
		if err := metrics.Registry.Register(frontTLS); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	if deliveryCAs != nil {
		if _, err := registerExpiry(metrics.Registry, poolExpiry("delivery_ca", deliveryCAs)); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	jr := OpenJournal(cfg, jst, metrics, log)
	up, stopUp, err := OpenUpstream(ctx, cfg, log, metrics, jr.Tap)
	if err != nil {
		return startFailed(ctx, log, "upstream", err)
	}
	defer stopUp()
	cancellations := OpenCancellations(cfg, st, up, log)
	proc, stopProc, err := OpenProcessor(ctx, cfg, up, log, cancellations, st)
	if err != nil {
		return startFailed(ctx, log, "processor", err)
	}
	defer stopProc()
	// Before comparison mode wraps it: under the wrapper its counters were
	// never registered (absent from /metrics in comparison mode).
	if ep, ok := proc.(*EPSProcessor); ok {
		if err := ep.RegisterMetrics(metrics.Registry); err != nil {
			return fmt.Errorf("processor: %w", err)
		}
	}
	proc = OpenCompare(cfg, proc, jr, metrics, log)
	proc = TraceProcessor(PartyScoped(proc), cfg.TracerProvider)
	srv := NewServer(cfg, st, up, log, metrics,
		WithProcessor(proc), WithRoutes(routes), WithDeliveryClient(client), WithJournal(jr))
	srv.EnableCancellations(cancellations)
	// A stop during the steps before (one that gave up a check of EPS,
	// as it should) ends the start here: nothing listens, nothing works.
	if ctx.Err() != nil {
		return startFailed(ctx, log, "listen", context.Cause(ctx))
	}
	// The admin listener first: its configuration found wrong fails the
	// start before the front door takes any message.
	if err := srv.openAdmin(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		srv.closeAdmin()
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	var tlsCfg *tls.Config
	if frontTLS != nil {
		tlsCfg = frontTLS.Config
		ln = frontTLS.Listener(ln, cfg.MaxHandshakesPerClient, log)
	} else {
		ln = PlainListener(ln, cfg.MaxHandshakesPerClient, metrics.connectionRefused(listenerFrontDoor), log, listenerFrontDoor)
	}
	upName := "none"
	if up != nil {
		upName = up.Describe()
	}
	bound := srv.listening(ln)
	removeAddrFile, err := WriteAddrFile(cfg.AddrFile, bound)
	if err != nil {
		_ = ln.Close()
		srv.closeAdmin()
		return err
	}
	defer removeAddrFile()
	log.Info("porxgate listening", "addr", bound.Addr, "admin_addr", cmp.Or(bound.AdminAddr, "off"), "tls", tlsCfg != nil,
		"mutual_tls", tlsCfg != nil && tlsCfg.ClientAuth == tls.RequireAndVerifyClientCert,
		"upstream", upName, "store", st.Kind(), "routes", routes.Len())
	if cfg.OnListening != nil {
		cfg.OnListening(bound)
	}
	return srv.ServeAndWork(ctx, ln)
}

// listening is where the front door (ln) and the admin listener (when
// openAdmin bound it) are bound.
func (s *Server) listening(ln net.Listener) Listening {
	l := Listening{Addr: ln.Addr().String()}
	if s.adminOpen != nil {
		l.AdminAddr = s.adminOpen.ln.Addr().String()
	}
	return l
}

// startFailed is Run's error for a start-up step (what) that failed: nil
// when the run was stopped meanwhile, since the stop, not the step, is
// what ended it (logged as such).
func startFailed(ctx context.Context, log *slog.Logger, what string, err error) error {
	if ctx.Err() != nil {
		log.Info("stopped while starting", "step", what, "err", err)
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ServeAndWork serves on ln and runs the workers (and the pending-
// cancellation poller, when EnableCancellations was called) until ctx is
// done, or until serving on ln fails; then it drains in-flight requests,
// stops the workers (letting work in hand finish, for at most the shutdown
// timeout) and returns, with the error of serving if it failed. The
// journal's writer stops last, once nothing else can record: what the
// drained requests and the finished work recorded is written (or counted
// dropped) before it returns.
func (s *Server) ServeAndWork(ctx context.Context, ln net.Listener) error {
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	jctx, stopJournal := context.WithCancel(context.WithoutCancel(ctx))
	journalDone := make(chan struct{})
	go func() {
		defer close(journalDone)
		if j := s.msg.journal; j != nil {
			j.Run(jctx)
		}
	}()
	defer func() { stopJournal(); <-journalDone }()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.RunWorkers(wctx) }()
	if s.cancels != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.cancels.Run(wctx) }()
	}
	// The admin listener serves while the front door does: a front door
	// that stops on its own (its listener failed) ends the run, so that
	// the process exits and is restarted rather than living on without it.
	// The admin listener failing ends the run the same way.
	sctx, stopServing := context.WithCancelCause(ctx)
	defer stopServing(nil)
	s.startSide(sctx, wctx, &wg, stopServing)
	err := s.Serve(sctx, ln)
	stopServing(nil)
	s.drainMemory()
	stopWorkers()
	wg.Wait()
	s.reportMemoryLoss()
	if cause := context.Cause(sctx); err == nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
		err = cause // a side's failure ended the run
	}
	return err
}

// queued counts the acknowledged work in the store (leased or not):
// accepted messages not yet processed, answers not yet delivered.
func (s *Server) queued(ctx context.Context) (inbox, out int, err error) {
	if inbox, err = s.store.QueueLen(ctx, inboxQueue); err != nil {
		return 0, 0, err
	}
	out, err = s.store.QueueLen(ctx, outbox.Queue)
	return inbox, out, err
}

// drainMemory, with the in-memory store, lets the workers empty the inbox
// and the outbox before they stop, for at most the shutdown timeout: what
// that store holds is lost with the process, so work left "in the store"
// would not be taken up again. With Redis it returns at once.
func (s *Server) drainMemory() {
	if s.store.Kind() != "memory" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	tick := time.NewTicker(max(s.cfg.PollInterval, 10*time.Millisecond))
	defer tick.Stop()
	for {
		if in, out, err := s.queued(ctx); err != nil || in+out == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// reportMemoryLoss, with the in-memory store, logs at ERROR what the stop
// leaves undone, since it is lost with the process: messages and answers
// still queued, and cancellations still tracked (their prescribers wait
// for a Subsequent Cancel Response that will not come).
func (s *Server) reportMemoryLoss() {
	if s.store.Kind() != "memory" {
		return
	}
	ctx := context.Background()
	in, out, err := s.queued(ctx)
	if err != nil {
		return
	}
	tracked := 0
	if s.cancels != nil {
		if st, err := s.cancels.Stats(ctx); err == nil {
			tracked = st.Tracked
		}
	}
	if in+out+tracked == 0 {
		return
	}
	s.log.Error("stopping with acknowledged work undone: the in-memory store loses it (use --redis to keep it across restarts)",
		"messages_not_processed", in, "answers_not_delivered", out, "cancellations_tracked", tracked)
}
