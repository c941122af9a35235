// Package deploy holds no Go code: its tests check the deployment files
// beside them (alert rules, dashboard, container image, compose file,
// systemd unit) against the gateway they deploy.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// tool returns the path of an external checker, skipping the test when it
// is missing outside CI and failing it under CI.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: CI must check the deployment files (Debian: apt-get install -y %s)", name, pkg)
		}
		t.Skipf("%s not found (Debian: apt-get install -y %s); skipped outside CI", name, pkg)
	}
	return p
}

// TestAlertRules runs promtool over the rules and their unit tests.
func TestAlertRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

var metricRE = regexp.MustCompile(`porxgate_[a-z_]+`)

// gatewayStrings returns the string literals of the gateway's code (its
// tests left out) that def matches whole, each def's first group.
func gatewayStrings(t *testing.T, def *regexp.Regexp) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join("..", "gateway"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range def.FindAllSubmatch(b, -1) {
			out = append(out, string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gatewayMetrics returns the metric names the gateway's code defines.
func gatewayMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, n := range gatewayStrings(t, regexp.MustCompile(`"(porxgate_[a-z_]+)"`)) {
		names[n] = true
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metric names in ../gateway", len(names))
	}
	return names
}

// TestDashboardAndAlertsUseRealMetrics checks that every porxgate_ metric
// the alert rules and the dashboard query is one the gateway defines, so a
// renamed metric cannot leave a silent alert behind.
func TestDashboardAndAlertsUseRealMetrics(t *testing.T) {
	defined := gatewayMetrics(t)
	raw, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("dashboard has no uid or no panels")
	}
	var exprs []string
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] || len(p.Targets) == 0 {
			t.Errorf("panel %q: duplicate id %d or no query", p.Title, p.ID)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	rules, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exprs = append(exprs, string(rules))
	var unknown []string
	for _, e := range exprs {
		for _, name := range metricRE.FindAllString(e, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && defined[b] {
					base = b
				}
			}
			if !defined[base] {
				unknown = append(unknown, name)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		t.Fatalf("queried but not defined by the gateway: %v", unknown)
	}
	for _, want := range []string{"porxgate_exchanges_total", "porxgate_upstream_request_duration_seconds", "porxgate_queue_depth",
		"porxgate_dead_letters", "porxgate_upstream_breaker_state", "porxgate_cancellation_oldest_age_seconds",
		"porxgate_journal_dropped_total", "porxgate_compare_total", "porxgate_redis_duration_seconds"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("dashboard does not show %s", want)
		}
	}
	for _, want := range []string{"porxgate_journal_dropped_total", "porxgate_compare_total", "porxgate_redis_duration_seconds"} {
		if !strings.Contains(string(rules), want) {
			t.Errorf("no alert rule watches %s", want)
		}
	}
}

// TestImageAndUnitsHardened checks the promises docs/deploy.md makes about
// the image, the compose file and the systemd unit.
func TestImageAndUnitsHardened(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	makefile := read(filepath.Join("..", "Makefile"))
	checks := []struct {
		file  string
		wants []string
	}{
		{"Dockerfile", []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "distroless/static", ":nonroot", "USER 65532:65532", `ENTRYPOINT ["/usr/local/bin/porxgate"]`}},
		{"compose.yaml", []string{"read_only: true", "cap_drop: [ALL]", "no-new-privileges:true", "--appendonly", "--appendfsync", "always", "noeviction", "PORXGATE_REDIS_URL", "sim"}},
		{"porxgate.service", []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "KillSignal=SIGTERM", "TimeoutStopSec="}},
	}
	for _, c := range checks {
		body := read(c.file)
		for _, w := range c.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", c.file, w)
			}
		}
	}
	for _, w := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version="} {
		if !strings.Contains(makefile, w) {
			t.Errorf("make build lacks %q, which the image build uses: CI would smoke-test another binary", w)
		}
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify over the unit, with
// the binary path pointed at one that exists on this machine.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found; the unit is checked by TestImageAndUnitsHardened only")
	}
	b, err := os.ReadFile("porxgate.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "porxgate.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/porxgate", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitFollowedFilesAreNotCredentials: the files porxgate follows so
// that a change needs no restart, and that change often (the client CA
// bundle, the client CRLs), are not handed over as systemd credentials,
// which systemd copies at start and never updates. Before, the unit passed
// client-ca.pem as a credential: a CA added to /etc/porxgate/client-ca.pem
// was never seen by the running gateway, whatever the README promised.
func TestUnitFollowedFilesAreNotCredentials(t *testing.T) {
	b, err := os.ReadFile("porxgate.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		for _, env := range []string{"PORXGATE_TLS_CLIENT_CA=", "PORXGATE_TLS_CLIENT_CRL="} {
			if _, v, ok := strings.Cut(line, env); ok && (strings.HasPrefix(v, "%d/") || strings.Contains(v, "/run/credentials/")) {
				t.Errorf("%s is a systemd credential (%s): it would never be followed", strings.TrimSuffix(env, "="), v)
			}
		}
		if strings.HasPrefix(line, "LoadCredential=") && (strings.Contains(line, "client-ca") || strings.Contains(line, ".crl")) {
			t.Errorf("%s: the client CAs and CRLs change while the gateway runs; a credential is copied once", line)
		}
	}
}
