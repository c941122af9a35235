package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// compareHangupIgnored is written to stderr for each SIGHUP a replay
// receives.
const compareHangupIgnored = "porxgate compare: SIGHUP ignored: the replay goes on (SIGINT or SIGTERM interrupts it)"

// compareCmd replays a folder of recorded legacy exchanges (request and
// Spine's answer) against the FHIR path and reports how the answers
// compare; exit status 0 when all match, 1 when any differ or fail or the
// replay was interrupted (a signal) before every exchange was compared.
func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("compare", "--dir DIR [--upstream URL] [--redis URL] [--json]", `Replays recorded legacy exchanges (NAME.request.xml with Spine's answer
NAME.answer.xml) against the FHIR path and compares the answers after the
documented normalisation (docs/compare.md). With --redis each exchange, its
FHIR call and the comparison go into that Redis's exchange journal, where a
gateway's admin page on the same Redis shows them. Exits 1 on any difference,
or when interrupted (SIGINT, SIGTERM) before every exchange was compared,
saying how far it got.`)
	dir := fs.String("dir", "", "folder of NAME.request.xml + NAME.answer.xml recorded exchanges")
	upstreamURL := fs.String("upstream", "", "EPS FHIR base URL of the FHIR path; empty: the built-in simulator. Never the environment the recorded prescriptions were issued in")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	redisURL := fs.String("redis", getenv("PORXGATE_REDIS_URL"), "Redis whose exchange journal receives the replayed exchanges and comparisons (a gateway's, for its admin page); empty: report only (env PORXGATE_REDIS_URL)")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: porxgate compare --dir DIR [--upstream URL] [--redis URL] [--json]")
		return 2
	}
	defer ignoreHangup(ctx, func() { fmt.Fprintln(stderr, compareHangupIgnored) })()
	recs, err := compare.LoadRecorded(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate compare: %v\n", err)
		return 1
	}
	// setupFailed reports a step of the start that failed: when a signal
	// cut it short, as an interruption before any exchange was compared.
	setupFailed := func(what string, err error) int {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "porxgate compare: %s\n", compare.Report{Total: len(recs), Interrupted: true}.Progress())
			return 1
		}
		fmt.Fprintf(stderr, "porxgate compare: %s%v\n", what, err)
		return 1
	}
	cfg := gateway.DefaultConfig()
	cfg.UpstreamURL = *upstreamURL
	cfg.Upstream.APIKey = getenv("PORXGATE_UPSTREAM_API_KEY")
	cfg.Upstream.PrivateKeyFile = getenv("PORXGATE_UPSTREAM_PRIVATE_KEY")
	cfg.Upstream.Kid = getenv("PORXGATE_UPSTREAM_KID")
	cfg.Upstream.TokenURL = getenv("PORXGATE_UPSTREAM_TOKEN_URL")
	log := newLogger(stderr, slog.LevelWarn)
	metrics := gateway.NewMetrics()
	var jr *journal.Journal
	if *redisURL != "" {
		cfg.RedisURL = *redisURL
		st, err := gateway.OpenStore(ctx, cfg)
		if err != nil {
			return setupFailed("journal store: ", err)
		}
		defer st.Close()
		if jr = gateway.OpenJournal(cfg, st, metrics, log); jr != nil {
			jctx, stopJournal := context.WithCancel(context.WithoutCancel(ctx))
			done := make(chan struct{})
			go func() { defer close(done); jr.Run(jctx) }()
			defer func() {
				wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := jr.Wait(wctx); err != nil {
					fmt.Fprintf(stderr, "porxgate compare: journal: %v\n", err)
				}
				stopJournal()
				<-done
			}()
		}
	}
	up, stopUp, err := gateway.OpenUpstream(ctx, cfg, log, metrics, jr.Tap)
	if err != nil {
		return setupFailed("upstream: ", err)
	}
	defer stopUp()
	proc, stopProc, err := gateway.OpenProcessor(ctx, cfg, up, log, nil, nil)
	if err != nil {
		return setupFailed("", err)
	}
	defer stopProc()
	// The journal has each replay as comparison mode with the legacy path
	// primary: Spine's recorded answer is the exchange's answer (its
	// outcome, the "primary" side of the page's diff), the FHIR path's
	// the shadow answer.
	type replayed struct {
		id string
		at time.Time
	}
	var exchanges []replayed // the journal exchange of each recorded request, in replay order
	run := func(ctx context.Context, interaction string, rec compare.Recorded) ([]byte, *ebxml.SOAPFault, error) {
		_, fam, _ := v3.Canonical(interaction)
		request := rec.Request
		in := &gateway.Inbound{Transport: gateway.TransportEbXML, Interaction: interaction, Family: fam, Service: "urn:nhs:names:services:mm",
			MessageID: strings.ToUpper(ids.NewUUID()), ReceivedAt: time.Now(), Payload: request}
		if rec.SOAP { // as its sender sent it: the answer, or a SOAP fault, in the HTTP response
			in.Transport = gateway.TransportSOAP
		}
		exchanges = append(exchanges, replayed{id: in.MessageID, at: in.ReceivedAt})
		jr.Record(journal.Event{Exchange: in.MessageID, At: in.ReceivedAt, Interaction: interaction, Transport: "replay",
			Step: &journal.Step{Kind: journal.StepLegacyRequest, Interaction: interaction, Title: "recorded legacy request (porxgate compare)",
				ContentType: "application/xml", Body: string(request)}})
		ctx = journal.WithExchange(ctx, in.MessageID)
		if !proc.Supports(interaction) {
			return nil, nil, fmt.Errorf("interaction %q is not supported by the FHIR path", interaction)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		out, err := proc.Process(cctx, in)
		if err != nil && ctx.Err() != nil {
			return nil, nil, err // cut short by the stop
		}
		// What the sender would get, as comparison mode takes it online.
		answer, refusal, err := gateway.FHIRPathResult(in, out, err)
		if err != nil {
			return nil, nil, err
		}
		jr.Record(journal.Event{Exchange: in.MessageID, Step: gateway.ShadowStep("FHIR path (shadow) answer", answer, refusal)})
		return answer, refusal, nil
	}
	rep := compare.Replay(ctx, recs, run)
	for i, res := range rep.Results {
		if i >= len(exchanges) {
			break
		}
		x := exchanges[i]
		c := &journal.Comparison{Primary: "legacy", Result: res.Result, Differences: res.Differences, Error: res.Error}
		if res.Result == compare.ResultInterrupted {
			// Cut short by the stop: not compared.
			c.Result, c.Error = "skipped", "porxgate compare was interrupted: "+res.Error
		}
		// Spine answered the request when it was made: its answer takes
		// its place in the timeline right after the request.
		jr.Record(journal.Event{Exchange: x.id, Comparison: c, Step: &journal.Step{At: x.at, Kind: journal.StepV3Answer,
			Title: "Spine's recorded answer (" + res.Name + ")", ContentType: "application/xml", Body: string(recs[i].Answer)}})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "porxgate compare: %v\n", err)
		return 1
	}
	if p := rep.Progress(); p != "" {
		// Stopped part way: never a pass, whatever was compared so far.
		fmt.Fprintf(stderr, "porxgate compare: %s\n", p)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}
