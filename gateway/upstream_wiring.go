package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSClient is the upstream EPS FHIR client as the gateway uses it, with a
// description for logs and /readyz.
type EPSClient struct {
	*upstream.Client
	desc    string
	parties *partyClients // nil without per-party identities
}

// Describe implements Upstream.
func (c *EPSClient) Describe() string { return c.desc }

// BreakerStates implements Upstream: every operation's breaker state under
// the default identity, keyed by operation, and under each per-party
// identity, keyed "party/operation".
func (c *EPSClient) BreakerStates() map[string]string {
	states := c.Client.BreakerStates()
	if c.parties != nil {
		for party, ps := range c.parties.breakerStates() {
			for op, st := range ps {
				states[party+"/"+op] = st
			}
		}
	}
	return states
}

// OpenUpstream builds the upstream the configuration names: the EPS FHIR
// client on UpstreamURL, or, when that is empty, the built-in EPS simulator
// started in-process on a free loopback port with the client pointed at it.
// The returned stop function closes the client and stops the simulator.
// Breaker state changes are logged by the client and recorded in m. A tap,
// when given, wraps each EPS call's attempt (upstream.Config.Tap), e.g. the
// journal's.
func OpenUpstream(ctx context.Context, cfg Config, log *slog.Logger, m *Metrics, tap ...func(http.RoundTripper) http.RoundTripper) (*EPSClient, func(), error) {
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
		Breaker: upstream.BreakerConfig{
			Timeout: cfg.BreakerOpen, MaxRequestsHalfOpen: uint32(max(cfg.BreakerHalfOpenProbes, 0)),
		},
		OnBreakerStateChange: func(op, _, to string) { m.SetBreakerState(defaultIdentity, op, to) },
		// The default identity's attempts are labelled "default" whoever
		// sent the message: a sender's own party key would be a label value
		// from untrusted input (any eb:PartyId without a routing table, any
		// SOAP ASID), one set of series per sender.
		ObserveAttempt: func(op, status, _ string, d time.Duration) { m.ObserveUpstream(op, status, defaultIdentity, d) },
		TracerProvider: cfg.TracerProvider,
	}
	if len(tap) > 0 {
		ucfg.Tap = tap[0]
	}
	for _, op := range upstream.Operations() {
		m.SetBreakerState(defaultIdentity, op, "closed")
	}
	desc := cfg.UpstreamURL
	stopSim := func() {}
	if cfg.UpstreamURL == "" {
		base, stop, err := startSimulator(ctx, log, cfg.SimMaxPrescriptions)
		if err != nil {
			return nil, nil, err
		}
		ucfg.BaseURL, stopSim = base, stop
		desc = "built-in EPS simulator at " + base
	}
	client, err := upstream.New(ucfg, log) // New adds component=upstream itself
	if err != nil {
		stopSim()
		return nil, nil, fmt.Errorf("EPS client: %w", err)
	}
	if err := checkServerCertificate(ctx, client, "EPS client", log); err != nil {
		_ = client.Close()
		stopSim()
		return nil, nil, err
	}
	parties, closeParties, err := openPartyClients(ctx, cfg, ucfg, client, log, m)
	if err != nil {
		_ = client.Close()
		stopSim()
		return nil, nil, err
	}
	unregister, err := registerExpiry(m.Registry, upstreamExpiry(append([]*upstream.Client{client}, parties.clients()...))...)
	if err != nil {
		closeParties()
		_ = client.Close()
		stopSim()
		return nil, nil, fmt.Errorf("EPS client: %w", err)
	}
	stop := func() {
		unregister()
		closeParties()
		_ = client.Close()
		stopSim()
	}
	return &EPSClient{Client: client, desc: desc, parties: parties}, stop, nil
}

// upstreamCheckTimeout bounds the start-up check of EPS's certificate.
const upstreamCheckTimeout = 5 * time.Second

// checkServerCertificate fails the start when EPS's certificate is not
// trusted, or when EPS refuses porxgate's TLS handshake (it demands a
// client certificate porxgate has not got, or does not take the one it
// has): every message would otherwise wait in the store behind an error
// no retry cures. who names the client in the error (the default's, or a
// party's). EPS not reachable at start is only logged: the messages wait
// for it, as they would for any outage.
func checkServerCertificate(ctx context.Context, client *upstream.Client, who string, log *slog.Logger) error {
	cctx, cancel := context.WithTimeout(ctx, upstreamCheckTimeout)
	defer cancel()
	err := client.CheckServerCertificate(cctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, upstream.ErrServerCertificate), errors.Is(err, upstream.ErrHandshakeRefused):
		return fmt.Errorf("%s: %w", who, err)
	case ctx.Err() != nil:
		return nil // stopping: not EPS's fault
	}
	log.Warn("EPS not reachable at start; its certificate is checked on the first call", "err", err)
	return nil
}

// startSimulator runs the EPS simulator on a free loopback port until the
// returned stop function is called; it returns the simulator's FHIR base URL.
// maxRx caps the prescriptions it keeps (sim.Options.MaxPrescriptions).
func startSimulator(ctx context.Context, log *slog.Logger, maxRx int) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("built-in simulator: listen: %w", err)
	}
	opts := SimulatorOptions(log)
	opts.MaxPrescriptions = maxRx
	s := sim.New(opts)
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

// SimulatorOptions are the EPS simulator's options as porxgate runs it:
// with $prepare answered by the prescribing mapping and the signature
// fragments digest (SHA-256), exactly as EPS computes it, its trees built
// in memory kept from one $prepare to the next (a Scratch of its own).
func SimulatorOptions(log *slog.Logger) sim.Options {
	sc := v3.NewScratch()
	return sim.Options{Logger: log, Digest: func(ctx context.Context, bundle []byte, now time.Time) (sim.PrepareResult, error) {
		return simPrepare(ctx, sc, bundle, now)
	}}
}

func simPrepare(_ context.Context, sc *v3.Scratch, bundle []byte, now time.Time) (sim.PrepareResult, error) {
	r, err := prescribemap.PrepareIn(sc, bundle, now, v3.DigestSHA256)
	if err != nil {
		return sim.PrepareResult{}, err
	}
	return sim.PrepareResult{Digest: r.Digest, Algorithm: r.Algorithm, Timestamp: r.Timestamp}, nil
}
