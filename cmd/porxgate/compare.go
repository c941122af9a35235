package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/v3"
)

// compareCmd replays a folder of recorded legacy exchanges (request and
// Spine's answer) against the FHIR path and reports how the answers
// compare; exit status 0 when all match, 1 when any differ or fail.
func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("compare", "--dir DIR [--upstream URL] [--json]", `Replays recorded legacy exchanges (NAME.request.xml with Spine's answer
NAME.answer.xml) against the FHIR path and compares the answers after the
documented normalisation (docs/compare.md). Exits 1 on any difference.`)
	dir := fs.String("dir", "", "folder of NAME.request.xml + NAME.answer.xml recorded exchanges")
	upstreamURL := fs.String("upstream", "", "EPS FHIR base URL of the FHIR path; empty: the built-in simulator. Never the environment the recorded prescriptions were issued in")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: porxgate compare --dir DIR [--upstream URL] [--json]")
		return 2
	}
	recs, err := compare.LoadRecorded(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate compare: %v\n", err)
		return 1
	}
	cfg := gateway.DefaultConfig()
	cfg.UpstreamURL = *upstreamURL
	cfg.Upstream.APIKey = getenv("PORXGATE_UPSTREAM_API_KEY")
	cfg.Upstream.PrivateKeyFile = getenv("PORXGATE_UPSTREAM_PRIVATE_KEY")
	cfg.Upstream.Kid = getenv("PORXGATE_UPSTREAM_KID")
	cfg.Upstream.TokenURL = getenv("PORXGATE_UPSTREAM_TOKEN_URL")
	log := newLogger(stderr, slog.LevelWarn)
	up, stopUp, err := gateway.OpenUpstream(ctx, cfg, log, gateway.NewMetrics())
	if err != nil {
		fmt.Fprintf(stderr, "porxgate compare: upstream: %v\n", err)
		return 1
	}
	defer stopUp()
	proc, stopProc, err := gateway.OpenProcessor(ctx, cfg, up, log, nil, nil)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate compare: %v\n", err)
		return 1
	}
	defer stopProc()
	run := func(ctx context.Context, interaction string, request []byte) ([]byte, error) {
		_, fam, _ := v3.Canonical(interaction)
		in := &gateway.Inbound{Transport: gateway.TransportEbXML, Interaction: interaction, Family: fam, Service: "urn:nhs:names:services:mm",
			MessageID: strings.ToUpper(ids.NewUUID()), ReceivedAt: time.Now(), Payload: request}
		if !proc.Supports(interaction) {
			return nil, fmt.Errorf("interaction %q is not supported by the FHIR path", interaction)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		out, err := proc.Process(cctx, in)
		if err != nil {
			return nil, err
		}
		switch {
		case out.Reply != nil:
			return out.Reply.Payload, nil
		case len(out.Answers) > 0:
			return out.Answers[0].Payload, nil
		case out.MessageError != nil:
			return nil, fmt.Errorf("refused: %s", out.MessageError.Description())
		}
		return nil, fmt.Errorf("the FHIR path gave no answer")
	}
	rep := compare.Replay(ctx, recs, run)
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
	if !rep.OK() {
		return 1
	}
	return 0
}
