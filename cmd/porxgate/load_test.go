package main

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/loadgen"
)

// TestPrintLoadCPU checks the load generator's own CPU line: per message
// and share of a core, counted with the gateway's when it ran in-process,
// and a warning when the generator itself was near a full core.
func TestPrintLoadCPU(t *testing.T) {
	base := loadgen.Result{Mode: "open-loop", Sent: 1000, Accepted: 1000, Drained: true,
		AcceptElapsed: 10 * time.Second, DrainElapsed: 10 * time.Second}
	for _, tc := range []struct {
		name      string
		cpu       time.Duration
		inProcess bool
		want      []string
		not       []string
	}{
		{"external gateway, quiet generator", 3 * time.Second, false,
			[]string{"load generator CPU: 3000 µs per message sent, 0.30 of a core"}, []string{"warning", "in-process"}},
		{"external gateway, busy generator", 9 * time.Second, false,
			[]string{"load generator CPU: 9000 µs per message sent, 0.90 of a core", "warning: the load generator kept 90% of a core busy"}, nil},
		{"in-process gateway", 9 * time.Second, true,
			[]string{"this process's CPU (load generator and in-process gateway): 9000 µs per message sent, 0.90 of a core"}, []string{"warning"}},
		{"not measured", 0, false, nil, []string{"CPU"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := base
			res.CPU = tc.cpu
			var out strings.Builder
			printLoad(&out, "http://127.0.0.1:1", res, 0, 100, tc.inProcess)
			checkOutput(t, out.String(), tc.want, tc.not)
		})
	}
}

// TestPrintLoadSendLag checks that an open-loop run prints the load
// generator's own send lag and a closed-loop run, which has none, does not.
func TestPrintLoadSendLag(t *testing.T) {
	lag := loadgen.Latencies{N: 3, P50: time.Millisecond, P99: 2 * time.Millisecond, P999: 2 * time.Millisecond, Max: 2 * time.Millisecond}
	for _, tc := range []struct {
		name string
		res  loadgen.Result
		want bool
	}{
		{"open loop", loadgen.Result{Mode: "open-loop", Sent: 3, Accepted: 3, Drained: true, SendLag: lag}, true},
		{"closed loop", loadgen.Result{Mode: "closed-loop", Sent: 3, Accepted: 3, Drained: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			printLoad(&out, "http://127.0.0.1:1", tc.res, 1, 100, false)
			got := strings.Contains(out.String(), "send lag (due time, or a free connection, to the generator's send; inside both latencies): n=3 p50=1.00ms p99=2.00ms")
			if got != tc.want {
				t.Errorf("send lag printed %v, want %v:\n%s", got, tc.want, out.String())
			}
		})
	}
}

// TestLoadTimeoutLeavesRoomForDuration: a --duration run is not cut short
// by the default --timeout (2 minutes), which bounded a 10-minute soak to
// its first two minutes and reported them as the run; an explicit
// --timeout that ends the run before --duration has passed is refused.
func TestLoadTimeoutLeavesRoomForDuration(t *testing.T) {
	for _, tc := range []struct {
		name              string
		duration, timeout time.Duration
		given             bool
		want              time.Duration
		wantErr           bool
	}{
		{"no duration, default timeout", 0, 2 * time.Minute, false, 2 * time.Minute, false},
		{"no duration, given timeout", 0, 30 * time.Second, true, 30 * time.Second, false},
		{"duration past the default timeout", 10 * time.Minute, 2 * time.Minute, false, 12 * time.Minute, false},
		{"short duration, default timeout", time.Second, 2 * time.Minute, false, time.Second + 2*time.Minute, false},
		{"given timeout beyond the duration", 10 * time.Minute, 15 * time.Minute, true, 15 * time.Minute, false},
		{"given timeout within the duration", 10 * time.Minute, 5 * time.Minute, true, 0, true},
		{"given timeout equal to the duration", time.Minute, time.Minute, true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runBound(tc.duration, tc.timeout, tc.given)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("runBound(%s, %s, %v) = %s, %v; want %s, error %v", tc.duration, tc.timeout, tc.given, got, err, tc.want, tc.wantErr)
			}
		})
	}
	var out, errOut strings.Builder
	code := loadCmd(t.Context(), []string{"--rate", "10", "--duration", "10m", "--timeout", "5m"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "--timeout 5m0s ends the run before --duration 10m0s") {
		t.Fatalf("exit %d, stderr %q; want 2 and the --timeout refused", code, errOut.String())
	}
}

// TestPrintLoadConnections checks the open loop's connection lines: the
// bound, how many messages waited for a connection and the longest wait,
// the messages never sent, and each client's counts in a run of several.
func TestPrintLoadConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  loadgen.Result
		want []string
		not  []string
	}{
		{"none waited", loadgen.Result{Mode: "open-loop", Sent: 10, Accepted: 10, Drained: true, Connections: 64},
			[]string{"(100 msgs/s scheduled, at most 64 connections): 10 sent", "waited for a free connection: none"}, []string{"not sent", "client 127"}},
		{"some waited, some never sent", loadgen.Result{Mode: "open-loop", Sent: 10, Accepted: 10, Drained: true, Connections: 4, Unsent: 3,
			ConnWait: loadgen.Latencies{N: 6, P50: time.Millisecond, P99: 40 * time.Millisecond, P999: 40 * time.Millisecond, Max: 41250 * time.Microsecond}},
			[]string{"waited for a free connection (all busy when due; inside both latencies): 6 of 10 messages, longest 41.25ms",
				"not sent: 3 messages fell due but were never sent"}, nil},
		{"several clients", loadgen.Result{Mode: "open-loop", Sent: 4, Accepted: 3, Refused: 1, Drained: true, Connections: 2,
			ByClient: []loadgen.ClientCounts{{Addr: "127.0.0.1", Sent: 2, Accepted: 2}, {Addr: "127.0.0.2", Sent: 2, Accepted: 1, Refused: 1}}},
			[]string{"at most 2 connections a client, 2 clients): 4 sent", "client 127.0.0.1: 2 sent, 2 accepted, 0 refused", "client 127.0.0.2: 2 sent, 1 accepted, 1 refused"}, nil},
		{"closed loop", loadgen.Result{Mode: "closed-loop", Sent: 4, Accepted: 4, Drained: true,
			ByClient: []loadgen.ClientCounts{{Addr: "127.0.0.1", Sent: 3, Accepted: 3}, {Addr: "127.0.0.2", Sent: 1, Accepted: 1}}},
			[]string{"(concurrency 2, 2 clients): 4 sent"}, []string{"waited for a free connection", "connections"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			printLoad(&out, "http://127.0.0.1:1", tc.res, 2, 100, false)
			checkOutput(t, out.String(), tc.want, tc.not)
		})
	}
}

// TestLoadFromSeveralClients runs `porxgate load` in the open loop from
// two clients with two connections each against its in-process gateway:
// every message is accepted and answered, half from each client's
// address, and the report says the bound. --connections without --rate
// is refused: the closed loop has a connection per sender.
func TestLoadFromSeveralClients(t *testing.T) {
	var out, errOut strings.Builder
	code := loadCmd(t.Context(), []string{"--rate", "100", "--n", "40", "--connections", "2", "--clients", "2"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	checkOutput(t, out.String(), []string{"(100 msgs/s scheduled, at most 2 connections a client, 2 clients): 40 sent, 40 accepted, 0 refused",
		"client 127.0.0.1: 20 sent, 20 accepted, 0 refused", "client 127.0.0.2: 20 sent, 20 accepted, 0 refused", "answers: AA=40"}, nil)
	out.Reset()
	errOut.Reset()
	if code := loadCmd(t.Context(), []string{"--concurrency", "4", "--connections", "2"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "--connections bounds the open loop") {
		t.Fatalf("closed loop with --connections: exit %d, stderr %q; want 2 and the flag refused", code, errOut.String())
	}
}

// checkOutput fails t for each of want that out lacks and each of not
// that it has.
func checkOutput(t *testing.T, out string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, n := range not {
		if strings.Contains(out, n) {
			t.Errorf("output has %q:\n%s", n, out)
		}
	}
}

// TestLoadRefusesBadSettingsFirst checks that bad settings are refused
// once, without a doubled prefix, before the receiver listens: its address
// is taken, so a receiver started first would fail with "address in use"
// instead.
func TestLoadRefusesBadSettingsFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	recv := []string{"--receiver", taken.Addr().String()}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "-1", "--n", "5"}, "porxgate load: rate must not be negative\n"},
		{[]string{"--concurrency", "0", "--n", "5"}, "porxgate load: concurrency must be positive\n"},
		{[]string{"--rate", "10", "--n", "5", "--connections", "-1"}, "porxgate load: connections must not be negative\n"},
		{[]string{"--concurrency", "1", "--n", "5", "--clients", "2"}, "porxgate load: 2 clients with 1 concurrent senders: a closed loop needs a sender for each client at least\n"},
	} {
		var out, errOut strings.Builder
		code := loadCmd(t.Context(), append(slices.Clone(recv), tc.args...), &out, &errOut)
		if code != 2 || errOut.String() != tc.want {
			t.Errorf("load %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}
