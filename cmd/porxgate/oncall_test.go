package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testnet"
)

// TestHelpNamesACommand: "porxgate help serve" documents serve, as
// "porxgate serve -h" does, instead of listing the commands again; an
// unknown one is bad usage.
func TestHelpNamesACommand(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCmd(t, "", "help", c.name)
			if code != 0 || stderr != "" || !strings.Contains(out, "usage: porxgate "+c.name) {
				t.Fatalf("code %d stdout %q stderr %q", code, out, stderr)
			}
		})
	}
	if code, _, stderr := runCmd(t, "", "help", "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("help frobnicate: code %d stderr %q", code, stderr)
	}
}

// TestServeRefusesUnknownEnvironment: a misspelt PORXGATE_* variable used
// to be ignored in silence (PORXGATE_LEASSE=5m left the lease at 30s);
// serve now refuses to start, exit 2, naming it and the setting it most
// likely means. Variables of porxgate's other commands are not typos.
func TestServeRefusesUnknownEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string // "": starts
	}{
		{"typo", []string{"PORXGATE_LEASSE=5m"}, []string{"PORXGATE_LEASSE: not a setting (did you mean PORXGATE_LEASE?)"}},
		{"nothing close", []string{"PORXGATE_FROBNICATE=1"}, []string{"PORXGATE_FROBNICATE: not a setting (see porxgate serve -h)"}},
		{"two at once", []string{"PORXGATE_REDIS=redis://h/0", "PORXGATE_ADMIN_TOKNE=x"},
			[]string{"PORXGATE_REDIS: not a setting (did you mean PORXGATE_REDIS_URL?)", "PORXGATE_ADMIN_TOKNE: not a setting (did you mean PORXGATE_ADMIN_TOKEN?)"}},
		{"with a config error too", []string{"PORXGATE_LEASSE=5m", "PORXGATE_MAX_BODY=lots"}, []string{"PORXGATE_LEASSE", "PORXGATE_MAX_BODY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for _, kv := range tt.environ {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			var out, errb bytes.Buffer
			code := runIn([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off"}, cmdIO{
				stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				getenv: func(k string) string { return env[k] }, environ: tt.environ})
			if code != 2 || !strings.HasPrefix(errb.String(), "porxgate serve: ") {
				t.Fatalf("code %d stderr %q; want 2 and the problem", code, errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
		})
	}
}

// TestServeKnowsItsEnvironment: every variable serve documents, and the
// other commands' and tests' variables, start the gateway (here it stops
// at once: its context is already done).
func TestServeKnowsItsEnvironment(t *testing.T) {
	environ := []string{"PORXGATE_LEASE=5s", "PORXGATE_ADMIN_TOKEN=x", "PORXGATE_PERSIST_DURATIONS=", "PORXGATE_SIM_ADDR=127.0.0.1:0",
		"PORXGATE_CORPUS=/nowhere", "PORXGATE_UPSTREAM_KID=", "PORXGATE_COMPARE_WORKERS=2", "HOME=/root", "PORXGATE=1", "PORXGATE_FAULTS_SEED=7", "PORXGATE_TEST_ANYTHING=1"}
	if err := unknownEnvError(environ); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errb bytes.Buffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--admin-addr", "off"}, io.Discard, &errb, func(string) string { return "" }, environ)
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, errb.String())
	}
}

// TestSimRefusesNegativePageSize: a negative --tracker-page-size was taken
// as 0 (no paging) in silence.
func TestSimRefusesNegativePageSize(t *testing.T) {
	code, _, stderr := runCmd(t, "", "sim", "--tracker-page-size", "-5")
	if code != 2 || !strings.Contains(stderr, "--tracker-page-size -5: must not be negative") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

// TestSimSaysListeningOnlyOnceListening: `porxgate sim` logged "EPS FHIR
// simulator listening" before it tried to listen, so an address it could
// not take still read as listening before the failure.
func TestSimSaysListeningOnlyOnceListening(t *testing.T) {
	code, _, stderr := runCmd(t, "", "sim", "--addr", "nowhere")
	if code != 1 || !strings.Contains(stderr, "missing port in address") {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	if strings.Contains(stderr, "listening") {
		t.Fatalf("a simulator that could not listen logged that it listens:\n%s", stderr)
	}
}

// TestSignalEndsOneShotCommand: commands that run to their end (convert,
// conformance, version) used to have SIGINT and SIGTERM caught for a
// graceful stop they never made: `porxgate convert -` waiting on its input
// ignored the first SIGTERM. They now end at the first signal.
func TestSignalEndsOneShotCommand(t *testing.T) {
	cmd := exec.Command(porxgateBinary(t), "convert", "--from", "v3", "--to", "fhir", "-")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	in, err := cmd.StdinPipe() // held open: convert waits for its input
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(300 * time.Millisecond) // let it start reading
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("convert exited 0 after SIGTERM, without its input")
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("convert still running 5s after SIGTERM")
	}
}

// TestServeLogsOnlyJSON: with Redis unreachable, the Redis client's own
// lines ("redis: 2026/… pool.go:…: failed to dial") came out as plain
// text among the JSON log lines, which a log pipeline cannot read. Every
// line serve writes to stderr is now JSON, these included; and the start
// fails with exit 1.
func TestServeLogsOnlyJSON(t *testing.T) {
	dead := testnet.RefusingAddr(t)
	p := startGatewayProcess(t, "--addr", "127.0.0.1:0", "--admin-addr", "off", "--redis", "redis://"+dead+"/0")
	err := p.waitExit(t, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("serve with Redis unreachable: %v, want exit status 1\n%s", err, p.logText())
	}
	redisLines := 0
	for _, line := range strings.Split(p.logText(), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("not a JSON log line: %q", line)
			continue
		}
		if v["msg"] == "redis client" {
			redisLines++
		}
	}
	if redisLines == 0 {
		t.Errorf("no line of the Redis client's own in\n%s", p.logText())
	}
}

// TestDeadLettersMisuseSaysWhy: a bad action printed the whole usage
// without saying what was wrong; the first line now says it.
func TestDeadLettersMisuseSaysWhy(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"deadletters"}, "porxgate deadletters: say what to do"},
		{[]string{"deadletters", "frobnicate"}, "porxgate deadletters: frobnicate: unknown action"},
		{[]string{"deadletters", "resend"}, "porxgate deadletters: resend: resend takes one dead letter ID, or --party P"},
		{[]string{"deadletters", "resend", "--party", "P1", "ID1"}, "resend takes an ID or --party, not both"},
		{[]string{"deadletters", "show"}, "show takes one dead letter ID"},
		{[]string{"deadletters", "list", "x"}, "list takes no argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := runCmd(t, "", tt.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != 2 || out != "" || !strings.Contains(first, tt.want) {
				t.Fatalf("code %d, first line of stderr %q; want 2 and %q", code, first, tt.want)
			}
		})
	}
}

// TestConvertFamily: --family XX wrote a PORX_IN020101XX31 (and "sm" a
// PORX_IN020101sm31) and exited 0; any family but UK or SM (either case)
// is now bad usage, naming the flag.
func TestConvertFamily(t *testing.T) {
	fixture := "../../testdata/prescribe/repeat-dispensing-pharmacist-endorsed.json"
	code, out, _ := runCmd(t, "", "convert", "--from", "fhir", "--to", "v3", "--family", "sm", fixture)
	if code != 0 || !strings.Contains(out, "<PORX_IN020101SM31") {
		t.Fatalf("--family sm: code %d\n%.200s", code, out)
	}
	for _, f := range []string{"XX", "", "UK31"} {
		code, out, stderr := runCmd(t, "", "convert", "--from", "fhir", "--to", "v3", "--family", f, fixture)
		if code != 2 || out != "" || !strings.Contains(stderr, `--family "`+f+`": want UK or SM`) {
			t.Errorf("--family %q: code %d stderr %q stdout %.100q", f, code, stderr, out)
		}
	}
}

// TestLoadInterruptedFails: a load run stopped by SIGINT or SIGTERM
// printed the figures of what it had sent and exited 0, as a run that
// passed; it now says it was interrupted and exits 1.
func TestLoadInterruptedFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(1500*time.Millisecond, cancel) // the signal
	var out, errb bytes.Buffer
	code := loadCmd(ctx, []string{"--rate", "5", "--n", "1000"}, &out, &errb)
	// (On a slow machine the signal may come while the in-process gateway
	// still starts: "interrupted before sending".)
	if code != 1 || !strings.Contains(errb.String(), "porxgate load: interrupted ") {
		t.Fatalf("code %d stderr %q stdout %s", code, errb.String(), out.String())
	}
}

// TestVersionFlag: "porxgate --version" was taken as a serve flag and
// refused (flag provided but not defined, exit 2); it prints the version.
func TestVersionFlag(t *testing.T) {
	for _, f := range []string{"--version", "-version"} {
		code, out, stderr := runCmd(t, "", f)
		if code != 0 || stderr != "" || !strings.HasPrefix(out, "porxgate ") {
			t.Errorf("%s: code %d stdout %q stderr %q", f, code, out, stderr)
		}
	}
}
