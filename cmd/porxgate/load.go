package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// loadCmd sends a bounded load of legacy Parent Prescriptions over ebXML to
// a gateway on this machine (or to one it starts in-process), takes the
// answers as the legacy MHS, and prints the accept and processing rates and
// the acknowledgement and answer latencies.
func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("load", "[--target URL] [--n N] [--concurrency C | --rate R [--connections K]] [--clients M] [--duration D] [--timeout D]", `Sends a bounded load of Parent Prescriptions over ebXML to a gateway on
this machine (loopback only), or to one it starts in-process, and plays the
legacy MHS that takes the answers. Closed loop (--concurrency senders, each
waiting for its 202) or open loop (--rate messages a second on schedule over
at most --connections connections, latencies counted from each message's
due time, any wait for a connection included), from one client address or
--clients. Prints the accept and processing rates, the acknowledgement and
answer latencies (p50, p99, p99.9, max) and, in the open loop, how many
messages waited for a connection and the longest wait. Exits 1 when a
message was refused, not sent or not processed in time.
SIGINT or SIGTERM interrupts the run (its figures so far, exit 1); SIGHUP
(a closed terminal) is said on stderr and ignored: the run goes on.`)
	target := fs.String("target", "", "gateway base URL on loopback; empty starts one in-process")
	admin := fs.String("admin", "", "gateway admin listener base URL for the inbox drain check when --receiver is empty")
	adminToken := fs.String("admin-token", "", "bearer token of the admin listener, for --admin")
	upstream := fs.String("upstream", "", "in-process gateway only: EPS FHIR base URL on loopback (e.g. a separate `porxgate sim`); empty: the built-in simulator")
	redisURL := fs.String("redis", "", "in-process gateway only: Redis URL; empty: the in-memory store")
	maxQueueWait := fs.Duration("max-queue-wait", gateway.DefaultConfig().MaxQueueWait, "in-process gateway only: how far behind its inbox workers it still takes new messages (refused as busy past it); 0: no bound, to measure acceptance alone")
	receiver := fs.String("receiver", "127.0.0.1:0", "loopback address of the legacy MHS that takes the answers; empty: no receiver, drain measured from /admin/queues")
	n := fs.Int("n", 1000, "prescriptions to send; with --duration and no --n: open loop --rate × --duration, closed loop as many as fit in --duration")
	conc := fs.Int("concurrency", 8, "closed loop: concurrent senders")
	rateFlag := fs.Float64("rate", 0, "open loop: messages a second, sent on schedule whatever the answers; 0: closed loop")
	connections := fs.Int("connections", loadgen.DefaultConnections, "open loop: connections per client; a message due while all are busy waits for the first free one (counted, and inside its latencies)")
	clients := fs.Int("clients", 1, "clients the load comes from, each from its own loopback address (127.0.0.1, 127.0.0.2, ...), as the gateway tells senders apart (each its own --max-in-flight-per-client share); more than 1 needs an IPv4 loopback --target")
	duration := fs.Duration("duration", 0, "how long to send, when --n is not given")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the whole run; with --duration and no --timeout, --duration plus "+answerWait.String()+" for the answers")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *duration > 0 && !flagSet(fs, "n") {
		*n = 0
	}
	if *rateFlag == 0 && flagSet(fs, "connections") {
		fmt.Fprintln(stderr, "porxgate load: --connections bounds the open loop (--rate); the closed loop has one connection per --concurrency sender")
		return 2
	}
	if *rateFlag == 0 {
		*connections = 0
	}
	defer ignoreHangup(ctx, func() { fmt.Fprintln(stderr, loadHangupIgnored) })()
	var err error
	if *timeout, err = runBound(*duration, *timeout, flagSet(fs, "timeout")); err != nil {
		fmt.Fprintf(stderr, "porxgate load: %v\n", err)
		return 2
	}
	tpl, err := prescribe.PrescribeToV3(loadgen.PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		fmt.Fprintf(stderr, "porxgate load: template: %v\n", err)
		return 1
	}
	opts := loadgen.Options{Target: *target, AdminToken: *adminToken, Messages: *n, Concurrency: *conc,
		Rate: *rateFlag, Connections: *connections, Clients: *clients, Duration: *duration, Timeout: *timeout, Template: tpl}
	// Bad settings are refused before a receiver or a gateway starts.
	if err := opts.CheckSettings(); err != nil {
		fmt.Fprintf(stderr, "porxgate load: %v\n", err)
		return 2
	}
	var recv *loadgen.Receiver
	if *receiver != "" {
		if recv, err = loadgen.StartReceiver(*receiver); err != nil {
			fmt.Fprintf(stderr, "porxgate load: %v\n", err)
			return 1
		}
		defer recv.Close()
		// On stderr, so that a harness that gave --receiver port 0 learns
		// where it listens without parsing the report.
		fmt.Fprintf(stderr, "porxgate load: receiver listening on %s\n", recv.Addr())
	}
	base := *target
	if base == "" {
		gw := inProcessGateway{Upstream: *upstream, RedisURL: *redisURL, MaxQueueWait: *maxQueueWait}
		if recv != nil {
			gw.ReceiverURL = recv.URL()
		}
		var stop func()
		base, *admin, stop, err = gw.start(ctx)
		if err != nil && ctx.Err() != nil {
			fmt.Fprintln(stderr, "porxgate load: interrupted before sending")
			return 1
		}
		if err != nil {
			fmt.Fprintf(stderr, "porxgate load: %v\n", err)
			return 1
		}
		defer stop()
	} else if recv != nil {
		fmt.Fprintf(stdout, "answers expected at %s: the gateway's routing table must route party %s there\n", recv.URL(), loadgen.LoadgenParty)
	}
	opts.Target, opts.AdminURL, opts.Receiver = base, *admin, recv
	res, err := loadgen.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate load: %v\n", err)
		return 2
	}
	printLoad(stdout, base, res, *conc, *rateFlag, *target == "")
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "first refusal: %s\n", res.FirstError)
	}
	if ctx.Err() != nil {
		// Stopped by SIGINT or SIGTERM: the figures are of a part of the
		// run, which did not pass.
		fmt.Fprintf(stderr, "porxgate load: interrupted after %d messages sent\n", res.Sent)
		return 1
	}
	if res.Refused > 0 || res.Unsent > 0 || !res.Drained {
		return 1
	}
	return 0
}

// loadHangupIgnored is written to stderr for each SIGHUP a run receives.
const loadHangupIgnored = "porxgate load: SIGHUP ignored: the run goes on (SIGINT or SIGTERM interrupts it)"

// answerWait is how long a --duration run waits for the answers after its
// last send, when --timeout is not given.
const answerWait = 2 * time.Minute

// runBound returns the bound on a whole run: timeout as given (given), or
// for a --duration run without one, duration plus answerWait. A run
// bounded before its duration is up would send for less than was asked
// and report the part as the whole, so a given timeout not beyond the
// duration is an error.
func runBound(duration, timeout time.Duration, given bool) (time.Duration, error) {
	switch {
	case duration <= 0:
		return timeout, nil
	case !given:
		return duration + answerWait, nil
	case timeout <= duration:
		return 0, fmt.Errorf("--timeout %s ends the run before --duration %s has passed; give it room for the answers too (or leave it out: --duration plus %s)", timeout, duration, answerWait)
	}
	return timeout, nil
}

// busyGenerator is the share of one core above which the load generator
// warns that it may be what limits the run.
const busyGenerator = 0.8

// printLoad writes a run's figures; inProcess says the gateway ran in this
// process (so its CPU is counted with the load generator's).
func printLoad(w io.Writer, base string, res loadgen.Result, conc int, rate float64, inProcess bool) {
	shape := fmt.Sprintf("concurrency %d", conc)
	if res.Mode == "open-loop" {
		shape = fmt.Sprintf("%.0f msgs/s scheduled, at most %d connections", rate, res.Connections)
		if len(res.ByClient) > 1 {
			shape += " a client"
		}
	}
	if len(res.ByClient) > 1 {
		shape += fmt.Sprintf(", %d clients", len(res.ByClient))
	}
	fmt.Fprintf(w, "target %s, %s (%s): %d sent, %d accepted, %d refused\n", base, res.Mode, shape, res.Sent, res.Accepted, res.Refused)
	for _, c := range res.ByClient {
		fmt.Fprintf(w, "client %s: %d sent, %d accepted, %d refused\n", c.Addr, c.Sent, c.Accepted, c.Refused)
	}
	if res.Unsent > 0 {
		fmt.Fprintf(w, "not sent: %d messages fell due but were never sent (the run's timeout or an interruption came while they waited for a connection)\n", res.Unsent)
	}
	fmt.Fprintf(w, "accepted (202 + eb:Acknowledgment): %.0f msgs/s over %s\n", res.AcceptRate(), res.AcceptElapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "acknowledgement latency: %s\n", res.Ack)
	if res.Mode == "open-loop" {
		if res.ConnWait.N > 0 {
			fmt.Fprintf(w, "waited for a free connection (all busy when due; inside both latencies): %d of %d messages, longest %.2fms\n",
				res.ConnWait.N, res.Sent, float64(res.ConnWait.Max)/float64(time.Millisecond))
		} else {
			fmt.Fprintln(w, "waited for a free connection: none")
		}
	}
	if res.SendLag.N > 0 {
		fmt.Fprintf(w, "send lag (due time, or a free connection, to the generator's send; inside both latencies): %s\n", res.SendLag)
	}
	switch {
	case !res.Drained && res.Answer.N > 0:
		fmt.Fprintf(w, "only %d of %d accepted messages answered by the timeout\n", res.Answered, res.Accepted)
	case !res.Drained:
		fmt.Fprintf(w, "not processed by the timeout\n")
	case res.Answer.N > 0:
		fmt.Fprintf(w, "processed (mapped, sent to EPS FHIR, answer delivered): %.0f msgs/s, last answer after %s\n", res.ProcessRate(), res.DrainElapsed.Round(time.Millisecond))
	default:
		fmt.Fprintf(w, "processed (mapped, sent to EPS FHIR, answered): %.0f msgs/s, inbox empty after %s\n", res.ProcessRate(), res.DrainElapsed.Round(time.Millisecond))
	}
	if res.Answer.N > 0 {
		fmt.Fprintf(w, "answer latency: %s\n", res.Answer)
		codes := make([]string, 0, len(res.Codes))
		for c, k := range res.Codes {
			codes = append(codes, fmt.Sprintf("%s=%d", c, k))
		}
		slices.Sort(codes)
		fmt.Fprintf(w, "answers: %s; answered twice: %d\n", strings.Join(codes, " "), res.AnsweredTwice)
	}
	if res.CPU > 0 {
		who := "load generator CPU"
		if inProcess {
			who = "this process's CPU (load generator and in-process gateway)"
		}
		fmt.Fprintf(w, "%s: %d µs per message sent, %.2f of a core\n", who, res.CPUPerMessage().Microseconds(), res.CPUShare())
		if !inProcess && res.CPUShare() > busyGenerator {
			fmt.Fprintf(w, "warning: the load generator kept %.0f%% of a core busy; its latencies include its own queueing\n", 100*res.CPUShare())
		}
	}
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// inProcessGateway is a gateway the load command runs itself: the
// embedded defaults unless an upstream or Redis is named, with a routing
// table that sends the load's answers to the receiver.
type inProcessGateway struct {
	Upstream, RedisURL, ReceiverURL string
	// MaxQueueWait is the gateway's Config.MaxQueueWait.
	MaxQueueWait time.Duration
}

// start runs the gateway on a free loopback port until stop is called; its
// admin listener (for the inbox drain check) is on another, without
// authentication, as only this process knows of it.
func (g inProcessGateway) start(ctx context.Context) (base, admin string, stop func(), err error) {
	cfg := gateway.DefaultConfig()
	// Port 0 on both: Run says which ports it took (OnListening), so no
	// other process can take them between choosing and binding.
	cfg.Addr = "127.0.0.1:0"
	cfg.Admin.Addr, cfg.Admin.NoAuth = "127.0.0.1:0", true
	listening := make(chan gateway.Listening, 1)
	cfg.OnListening = func(l gateway.Listening) { listening <- l }
	cfg.UpstreamURL = g.Upstream
	cfg.RedisURL = g.RedisURL
	cfg.MaxQueueWait = g.MaxQueueWait
	cleanup := func() {}
	if g.ReceiverURL != "" {
		dir, err := os.MkdirTemp("", "porxgate-load-")
		if err != nil {
			return "", "", nil, fmt.Errorf("routing table: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		routes, _ := json.Marshal(map[string]any{loadgen.LoadgenParty: map[string]any{"url": g.ReceiverURL}})
		cfg.RoutesFile = filepath.Join(dir, "routes.json")
		if err := os.WriteFile(cfg.RoutesFile, routes, 0o600); err != nil {
			cleanup()
			return "", "", nil, fmt.Errorf("routing table: %w", err)
		}
	}
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- gateway.Run(gctx, cfg, slog.New(slog.DiscardHandler)) }()
	fail := func(err error) (string, string, func(), error) {
		cancel()
		<-done
		cleanup()
		return "", "", nil, err
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	var bound gateway.Listening
	select {
	case bound = <-listening:
	case rerr := <-done: // it stopped before it listened: say why
		done <- rerr
		if rerr == nil {
			rerr = errors.New("stopped as it started")
		}
		return fail(fmt.Errorf("in-process gateway: %w", rerr))
	case <-deadline.C:
		return fail(errors.New("in-process gateway did not start listening in 10s"))
	}
	base = "http://" + bound.Addr
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case rerr := <-done: // it will not answer: say why
			done <- rerr
			if rerr == nil {
				rerr = errors.New("stopped as it started")
			}
			return fail(fmt.Errorf("in-process gateway: %w", rerr))
		case <-deadline.C:
			return fail(fmt.Errorf("in-process gateway did not answer /healthz: %w", err))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return base, "http://" + bound.AdminAddr, func() { cancel(); <-done; cleanup() }, nil
}
