package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// adminPathRE finds an admin listener path in text.
var adminPathRE = regexp.MustCompile(`/admin/[A-Za-z0-9_/.-]*[A-Za-z0-9_/]`)

// adminPaths returns the admin listener's paths as the gateway's code
// spells them (string constants starting /admin/), a route such as
// "/admin/ui/" standing for what is under it.
func adminPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, p := range gatewayStrings(t, regexp.MustCompile(`"(/admin/[A-Za-z0-9_/.-]*)"`)) {
		if p != "/admin/" { // the whole listener: no route of its own
			paths = append(paths, p)
		}
	}
	if len(paths) < 5 {
		t.Fatalf("found only %d admin paths in ../gateway", len(paths))
	}
	return paths
}

// TestAlertsAndDashboardNameRealAdminPaths: every admin listener path an
// alert or a dashboard panel sends an operator to is one the gateway
// serves. Two alerts and a panel sent them to /admin/journal, which the
// admin listener never had (the journal is /admin/ui/ and
// /admin/api/exchanges): a 404 in the middle of an incident.
func TestAlertsAndDashboardNameRealAdminPaths(t *testing.T) {
	served := adminPaths(t)
	for _, file := range []string{"alerts.yaml", "alerts_test.yaml", "grafana-dashboard.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range adminPathRE.FindAllString(string(b), -1) {
			ok := false
			for _, s := range served {
				ok = ok || p == s || strings.TrimSuffix(p, "/") == strings.TrimSuffix(s, "/") ||
					strings.HasSuffix(s, "/") && strings.HasPrefix(p, s)
			}
			if !ok {
				t.Errorf("%s sends operators to %s, which the admin listener does not serve", file, p)
			}
		}
	}
}
