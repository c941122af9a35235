// Command porxgate is the one porxgate binary: `serve` (the default) runs the
// gateway, `sim` the EPS FHIR simulator, `convert` the offline translator,
// `conformance` the corpus checks and `load` a bounded loopback load run.
// It only reads flags and environment and wires the packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const usage = `usage: porxgate [command] [flags]

commands:
  serve        run the gateway (default)
  sim          run the EPS FHIR simulator
  convert      translate one message: --from v3|fhir --to fhir|v3 FILE|-
  conformance  check the mappings against the corpus: --corpus DIR [--kind K1,K2]
  load         a bounded ebXML load on loopback: [--target URL] [--n N] [--concurrency C]

Run 'porxgate <command> -h' for a command's flags.
`

// run dispatches a command and returns the process exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr, getenv)
	case "sim":
		return simCmd(ctx, args, stderr, getenv)
	case "convert":
		return convert(args, stdin, stdout, stderr)
	case "conformance":
		return conformanceCmd(args, stdout, stderr)
	case "load":
		return loadCmd(ctx, args, stdout, stderr)
	case "deadletters":
		return deadLettersCmd(ctx, args, stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "porxgate: unknown command %q\n%s", cmd, usage)
		return 2
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
