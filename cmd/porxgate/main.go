// Command porxgate is the one porxgate binary: `serve` runs the gateway,
// `sim` the EPS FHIR simulator, `convert` the offline translator,
// `conformance` the corpus checks, `load` a bounded loopback load run,
// `compare` the offline replay of recorded exchanges against the FHIR path
// and `version` prints the version and build. It only reads flags and
// environment and wires the packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	os.Exit(runIn(os.Args[1:], cmdIO{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ()}))
}

// cmdIO is what a command reads from and writes to.
type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// environ is the process's environment (KEY=value), for the checks
	// that look at every variable set (serve refuses unknown PORXGATE_*
	// ones); nil skips them.
	environ []string
}

// command is one entry of the dispatch table.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io cmdIO) int
	// once marks a command that does not watch its context (it runs to
	// the end): SIGINT and SIGTERM keep their default action and end it
	// at once, rather than being caught for a graceful stop it never makes.
	once bool
}

// commands is the dispatch table, in the order `porxgate help` lists it. A
// new sub-command adds one line here and its own file.
func commands() []command {
	return []command{
		{"serve", "run the gateway", func(ctx context.Context, args []string, c cmdIO) int {
			return serve(ctx, args, c.stdout, c.stderr, c.getenv, c.environ)
		}, false},
		{"sim", "run the EPS FHIR simulator on its own", func(ctx context.Context, args []string, c cmdIO) int {
			return simCmd(ctx, args, c.stdout, c.stderr, c.getenv)
		}, false},
		{"convert", "translate one message: --from v3|fhir --to fhir|v3 FILE|-", func(_ context.Context, args []string, c cmdIO) int {
			return convert(args, c.stdin, c.stdout, c.stderr)
		}, true},
		{"conformance", "check the mappings against the corpus: --corpus DIR [--kind K1,K2]", func(_ context.Context, args []string, c cmdIO) int {
			return conformanceCmd(args, c.stdout, c.stderr)
		}, true},
		{"load", "a bounded ebXML load on loopback: [--target URL] [--n N] [--concurrency C]", func(ctx context.Context, args []string, c cmdIO) int {
			return loadCmd(ctx, args, c.stdout, c.stderr)
		}, false},
		{"compare", "replay recorded legacy exchanges against the FHIR path: --dir DIR [--upstream URL]", func(ctx context.Context, args []string, c cmdIO) int {
			return compareCmd(ctx, args, c.stdout, c.stderr, c.getenv)
		}, false},
		{"deadletters", "list, show and resend dead letters through the admin listener: list|show ID|resend (ID|--party P)", func(ctx context.Context, args []string, c cmdIO) int {
			return deadLettersCmd(ctx, args, c.stdout, c.stderr, c.getenv)
		}, false},
		{"version", "print the version and build information", func(_ context.Context, args []string, c cmdIO) int {
			return versionCmd(args, c.stdout, c.stderr)
		}, true},
	}
}

// writeUsage lists the commands.
func writeUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: porxgate <command> [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString("  help         this list\n\n")
	b.WriteString("Run 'porxgate <command> -h' for a command's flags and arguments.\n")
	b.WriteString("Flags given without a command are serve's: 'porxgate --addr :8080' runs the gateway.\n")
	_, _ = io.WriteString(w, b.String())
}

// run dispatches a command and returns the process exit status: 0 done,
// 1 failed, 2 bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return runIn(args, cmdIO{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv})
}

// runIn is run over c.
func runIn(args []string, c cmdIO) int {
	stdout, stderr := c.stdout, c.stderr
	if len(args) == 0 {
		writeUsage(stdout)
		return 0
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 2 && name == "help" && !strings.HasPrefix(args[1], "-") {
			// "porxgate help serve" is "porxgate serve -h".
			return runIn([]string{args[1], "-h"}, c)
		}
		writeUsage(stdout)
		return 0
	case "--version", "-version":
		// What an operator types first; serve has no such flag.
		return runIn(append([]string{"version"}, args[1:]...), c)
	}
	if strings.HasPrefix(name, "-") {
		name = "serve"
	} else {
		args = args[1:]
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		if cmd.once {
			return cmd.run(context.Background(), args, c)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		// The first signal stops the command gracefully; a second one takes
		// the signal's default action and ends the process at once, as an
		// operator who sends it means, instead of waiting for the drain.
		context.AfterFunc(ctx, stop)
		return cmd.run(ctx, args, c)
	}
	fmt.Fprintf(stderr, "porxgate: unknown command %q\n\n", name)
	writeUsage(stderr)
	return 2
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
