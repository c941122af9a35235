package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// loadCmd sends a bounded load of legacy Parent Prescriptions over ebXML to
// a gateway on this machine (or to one it starts in-process with the
// embedded defaults) and prints the accept and processing rates.
func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("load", "[--target URL] [--n N] [--concurrency C] [--timeout D]", `Sends a bounded load of Parent Prescriptions over ebXML to a gateway on
this machine (loopback only), or to one it starts in-process with the
embedded defaults, and prints the accept and processing rates. Exits 1
when a message was refused or the inbox did not drain in time.`)
	target := fs.String("target", "", "gateway base URL on loopback; empty starts one in-process with the embedded defaults")
	n := fs.Int("n", 1000, "prescriptions to send")
	conc := fs.Int("concurrency", 8, "concurrent senders")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the whole run")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	tpl, err := mapping.PrescribeToV3(loadgen.PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		fmt.Fprintf(stderr, "porxgate load: template: %v\n", err)
		return 1
	}
	base := *target
	if base == "" {
		var stop func()
		base, stop, err = startGateway(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "porxgate load: %v\n", err)
			return 1
		}
		defer stop()
	}
	res, err := loadgen.Run(ctx, loadgen.Options{Target: base, Messages: *n, Concurrency: *conc, Timeout: *timeout, Template: tpl})
	if err != nil {
		fmt.Fprintf(stderr, "porxgate load: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "target %s: %d sent, %d accepted, %d refused, concurrency %d\n", base, res.Sent, res.Accepted, res.Refused, *conc)
	fmt.Fprintf(stdout, "accepted (202 + eb:Acknowledgment): %.0f msgs/s over %s\n", res.AcceptRate(), res.AcceptElapsed.Round(time.Millisecond))
	if res.Drained {
		fmt.Fprintf(stdout, "processed (mapped, sent to EPS FHIR, answered): %.0f msgs/s, inbox empty after %s\n", res.ProcessRate(), res.DrainElapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintf(stdout, "inbox not empty within %s\n", *timeout)
	}
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "first refusal: %s\n", res.FirstError)
	}
	if res.Refused > 0 || !res.Drained {
		return 1
	}
	return 0
}

// startGateway runs a gateway with the embedded defaults (built-in EPS
// simulator, in-memory store) on a free loopback port.
func startGateway(ctx context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("finding a port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := gateway.DefaultConfig()
	cfg.Addr = addr
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- gateway.Run(gctx, cfg, slog.New(slog.DiscardHandler)) }()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			return "", nil, fmt.Errorf("in-process gateway did not answer /healthz: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() { cancel(); <-done }, nil
}
