package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// OpenStore opens the store the configuration names: Redis when RedisURL is
// set (checked with a PING now, so a wrong URL fails at start), otherwise
// the in-memory store.
func OpenStore(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.RedisURL == "" {
		return store.NewMemory(nil), nil
	}
	r, err := store.NewRedis(cfg.RedisURL, store.DefaultPrefix)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.Ping(pctx); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("redis at %s: %w", cfg.RedisURL, err)
	}
	return r, nil
}

// Run starts the gateway as configured and serves until ctx is done; then it
// drains in-flight requests and closes what it opened.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()
	up, stopUp, err := OpenUpstream(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	defer stopUp()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	srv := NewServer(cfg, st, up, log, NewMetrics())
	upName := "none"
	if up != nil {
		upName = up.Describe()
	}
	log.Info("porxgate listening", "addr", ln.Addr().String(), "upstream", upName, "store", st.Kind())
	return srv.Serve(ctx, ln)
}
