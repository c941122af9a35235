package faults

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFaultSuite runs the fault suite against real processes. It runs when
// PORXGATE_FAULTS=1 or CI is set (CI runs the short version as part of
// make test), else it skips. PORXGATE_FAULTS_N sets the messages per
// scenario (default 20: the short version, about a minute and a half);
// PORXGATE_FAULTS_OUTAGE the EPS outage (default 5s; make faults uses 30s);
// PORXGATE_FAULTS_BIN a porxgate binary to run instead of building one;
// PORXGATE_FAULTS_DIR where logs and data go (default a temporary dir).
func TestFaultSuite(t *testing.T) {
	if os.Getenv("PORXGATE_FAULTS") != "1" && os.Getenv("CI") == "" {
		t.Skip("fault suite: set PORXGATE_FAULTS=1 (or CI) to run it; make faults runs the full one")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("fault suite needs redis-server on PATH")
	}
	n := envInt(t, "PORXGATE_FAULTS_N", 20)
	outage := 5 * time.Second
	if v := os.Getenv("PORXGATE_FAULTS_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PORXGATE_FAULTS_OUTAGE: %v", err)
		}
		outage = d
	}
	dir := t.TempDir()
	if keep := os.Getenv("PORXGATE_FAULTS_DIR"); keep != "" {
		dir = keep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := os.Getenv("PORXGATE_FAULTS_BIN") // a binary built beforehand (make faults), or built here
	if bin == "" {
		bin = filepath.Join(dir, "porxgate")
		build := exec.Command("go", "build", "-o", bin, "github.com/porxgate/porxgate/cmd/porxgate")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building porxgate: %v\n%s", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*time.Second+15*time.Minute)
	defer cancel()
	release, err := os.ReadFile("../../testdata/release/nominated-release-request-060102.xml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(ctx, Config{Bin: bin, Dir: dir, N: n, Outage: outage, ReleaseTemplate: release, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	results := s.Run(ctx)
	var b strings.Builder
	PrintTable(&b, results)
	t.Logf("fault suite, %d messages per scenario (logs in %s):\n%s", n, dir, b.String())
	for _, r := range results {
		if !r.OK() {
			t.Errorf("scenario %q failed: lost %d, false rejections %d, acknowledged but unanswered %d, err %v",
				r.Scenario, r.Lost, r.FalseRejections, r.AckUnanswered, r.Err)
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive whole number", name, v)
	}
	return n
}
