package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// EPSClient is the upstream EPS FHIR client as the gateway uses it, with a
// description for logs and /readyz.
type EPSClient struct {
	*upstream.Client
	desc string
}

// Describe implements Upstream.
func (c *EPSClient) Describe() string { return c.desc }

// OpenUpstream builds the upstream the configuration names: the EPS FHIR
// client on UpstreamURL, or, when that is empty, the built-in EPS simulator
// started in-process on a free loopback port with the client pointed at it.
// The returned stop function closes the client and stops the simulator.
func OpenUpstream(ctx context.Context, cfg Config, log *slog.Logger) (*EPSClient, func(), error) {
	ucfg := upstream.Config{
		BaseURL:        cfg.UpstreamURL,
		TokenURL:       cfg.Upstream.TokenURL,
		APIKey:         cfg.Upstream.APIKey,
		Kid:            cfg.Upstream.Kid,
		PrivateKeyPath: cfg.Upstream.PrivateKeyFile,
		TLS: upstream.TLSConfig{
			CertFile: cfg.Upstream.ClientCertFile,
			KeyFile:  cfg.Upstream.ClientKeyFile,
			CAFile:   cfg.Upstream.CAFile,
		},
	}
	desc := cfg.UpstreamURL
	stopSim := func() {}
	if cfg.UpstreamURL == "" {
		base, stop, err := startSimulator(ctx, log)
		if err != nil {
			return nil, nil, err
		}
		ucfg.BaseURL, stopSim = base, stop
		desc = "built-in EPS simulator at " + base
	}
	client, err := upstream.New(ucfg, log.With("component", "upstream"))
	if err != nil {
		stopSim()
		return nil, nil, fmt.Errorf("EPS client: %w", err)
	}
	stop := func() {
		_ = client.Close()
		stopSim()
	}
	return &EPSClient{Client: client, desc: desc}, stop, nil
}

// startSimulator runs the EPS simulator on a free loopback port until the
// returned stop function is called; it returns the simulator's FHIR base URL.
func startSimulator(ctx context.Context, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("built-in simulator: listen: %w", err)
	}
	s := sim.New(sim.Options{Logger: log})
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("built-in simulator stopped with an error", "err", err)
			}
		case <-time.After(5 * time.Second):
			log.Warn("built-in simulator did not stop within 5s")
		}
	}
	return "http://" + ln.Addr().String() + "/FHIR/R4", stop, nil
}
