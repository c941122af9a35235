package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/sim"
)

// simHangupIgnored is logged for each SIGHUP the simulator receives.
const simHangupIgnored = "SIGHUP ignored: the simulator reloads nothing on a signal and keeps what it holds; SIGINT or SIGTERM stops it"

// simCmd runs the EPS FHIR simulator on its own (--addr, PORXGATE_SIM_ADDR;
// default 127.0.0.1:9000), with its FHIR endpoints under /FHIR/R4.
func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("sim", "[flags]", `Runs the EPS FHIR simulator on its own, its FHIR endpoints under /FHIR/R4.
It keeps prescriptions, tasks and claims in memory as EPS does; with
--public-key it verifies the signed-JWT client assertion and issues tokens
as the NHS England OAuth2 endpoint does. SIGINT or SIGTERM stops it;
SIGHUP is logged and ignored, as serve's is.`)
	addr := "127.0.0.1:9000"
	if v := getenv("PORXGATE_SIM_ADDR"); v != "" {
		addr = v
	}
	fs.StringVar(&addr, "addr", addr, "listen address; port 0: a port the kernel gives, logged (EPS simulator listening, addr) and written to --addr-file (env PORXGATE_SIM_ADDR)")
	addrFile := fs.String("addr-file", "", `file written once listening, naming the address as bound as JSON ({"addr":...}), removed at stop; empty: none`)
	pubKey := fs.String("public-key", getenv("PORXGATE_SIM_PUBLIC_KEY"), "PEM public key (or certificate) that verifies client JWTs; empty: FHIR endpoints open (env PORXGATE_SIM_PUBLIC_KEY)")
	apiKey := fs.String("api-key", getenv("PORXGATE_SIM_API_KEY"), "expected JWT iss/sub; empty accepts any (env PORXGATE_SIM_API_KEY)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	maxRx := fs.Int("max-prescriptions", 0, "prescriptions kept, least recently used forgotten first; 0: the default (5000), negative: no cap")
	pageSize := fs.Int("tracker-page-size", 0, "pages tracker (GET Task) answers of more Tasks than this, linked by Bundle.link next; 0: one Bundle, as EPS answers")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "porxgate sim: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *pageSize < 0 {
		fmt.Fprintf(stderr, "porxgate sim: --tracker-page-size %d: must not be negative (0: one Bundle)\n", *pageSize)
		return 2
	}
	lvl, err := gateway.ParseLogLevel(*level)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate sim: %v\n", err)
		return 2
	}
	log := newLogger(stderr, lvl)
	opts := gateway.SimulatorOptions(log)
	opts.APIKey = *apiKey
	opts.MaxPrescriptions = *maxRx
	opts.TrackerPageSize = *pageSize
	if *pubKey != "" {
		k, err := sim.LoadPublicKey(*pubKey)
		if err != nil {
			fmt.Fprintf(stderr, "porxgate sim: %v\n", err)
			return 2
		}
		opts.PublicKey = k
	}
	// The simulator logs "EPS simulator listening" with the address once it
	// listens; before, only what it starts with.
	log.Info("EPS FHIR simulator starting", "addr", addr, "auth", opts.PublicKey != nil)
	defer ignoreHangup(ctx, func() { log.Warn(simHangupIgnored) })()
	if addr == "" {
		addr = sim.DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		log.Error("simulator stopped", "err", fmt.Errorf("sim: listen %s: %w", addr, err))
		return 1
	}
	removeAddrFile, err := gateway.WriteAddrFile(*addrFile, gateway.Listening{Addr: ln.Addr().String()})
	if err != nil {
		_ = ln.Close()
		log.Error("simulator stopped", "err", err)
		return 1
	}
	defer removeAddrFile()
	if err := sim.New(opts).Serve(ctx, ln); err != nil {
		log.Error("simulator stopped", "err", err)
		return 1
	}
	return 0
}
