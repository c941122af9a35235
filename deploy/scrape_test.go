package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/spinesim"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/testlog"
	"github.com/porxgate/porxgate/internal/testpki"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// scraped is what one /metrics scrape offers: each metric family's label
// names and the values seen per label, and its HELP text.
type scraped struct {
	labels map[string]map[string]map[string]bool // family -> label -> values
	help   map[string]string
}

// sampleRE reads one sample line of the Prometheus text format.
var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)

// labelPairRE reads the label pairs of a sample.
var labelPairRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// parseScrape reads a /metrics answer in the Prometheus text format.
func parseScrape(t *testing.T, body []byte) scraped {
	t.Helper()
	s := scraped{labels: map[string]map[string]map[string]bool{}, help: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			s.help[name] = help
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name, ok := s.family(m[1]) // a histogram's series are its family's
		if !ok {
			name = m[1]
		}
		if s.labels[name] == nil {
			s.labels[name] = map[string]map[string]bool{}
		}
		for _, p := range labelPairRE.FindAllStringSubmatch(m[2], -1) {
			if s.labels[name][p[1]] == nil {
				s.labels[name][p[1]] = map[string]bool{}
			}
			s.labels[name][p[1]][p[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// family returns the family a queried series belongs to: a histogram's
// _bucket, _count and _sum series are its family's.
func (s scraped) family(series string) (string, bool) {
	if _, ok := s.help[series]; ok {
		return series, true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if b, ok := strings.CutSuffix(series, suffix); ok {
			if _, ok := s.help[b]; ok {
				return b, true
			}
		}
	}
	return "", false
}

// alertExprs returns the expr of every rule in an alert rules file, inline
// or as a block scalar.
func alertExprs(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(string(raw), "\n")
	alert := ""
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if a, ok := strings.CutPrefix(trimmed, "- alert:"); ok {
			alert = strings.TrimSpace(a)
			continue
		}
		e, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		e = strings.TrimSpace(e)
		if e == "|" || e == ">" {
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			var b strings.Builder
			for i+1 < len(lines) {
				next := lines[i+1]
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				b.WriteString(next + "\n")
				i++
			}
			e = b.String()
		}
		out[alert] = e
	}
	if len(out) == 0 {
		t.Fatal("no expr in the alert rules")
	}
	return out
}

// dashboardExprs returns every query of a Grafana dashboard, keyed by its
// panel's title.
func dashboardExprs(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			out[p.Title+"#"+string(rune('A'+i))] = tg.Expr
		}
	}
	return out
}

var (
	// selectorRE finds a porxgate series and its matchers.
	selectorRE = regexp.MustCompile(`(porxgate_[a-z_]+)\s*(\{[^}]*\})?`)
	// matcherRE reads one label matcher.
	matcherRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	// groupingRE reads a by (...) or without (...) clause.
	groupingRE = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	// regexMeta says a regex alternative is a pattern, not a literal value.
	regexMeta = regexp.MustCompile(`[.*+?\[\](){}^$\\]`)
)

// scrapeLabels are added by Prometheus (job, instance) or are a
// histogram's own (le): not the gateway's to export.
var scrapeLabels = map[string]bool{"job": true, "instance": true}

// checkQuery checks one query against a scrape: every porxgate series it
// reads is exported; every label it matches on or groups by is one the
// series has; every literal value it matches is one the scrape shows or
// the metric's HELP names.
func checkQuery(s scraped, what, expr string) []string {
	var problems []string
	var families []string
	for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
		fam, ok := s.family(m[1])
		if !ok {
			problems = append(problems, what+": "+m[1]+" is not in the scrape")
			continue
		}
		families = append(families, fam)
		for _, mt := range matcherRE.FindAllStringSubmatch(m[2], -1) {
			label, op, val := mt[1], mt[2], mt[3]
			if scrapeLabels[label] {
				continue
			}
			values, ok := s.labels[fam][label]
			if !ok {
				problems = append(problems, what+": "+fam+" has no label "+label)
				continue
			}
			alts := []string{val}
			if op == "=~" || op == "!~" {
				alts = strings.Split(val, "|")
			}
			for _, v := range alts {
				if regexMeta.MatchString(v) || values[v] {
					continue
				}
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(v) + `\b`).MatchString(s.help[fam]) {
					problems = append(problems, what+": "+fam+"{"+label+"} never "+v+" (not in the scrape, not in its HELP: "+s.help[fam]+")")
				}
			}
		}
	}
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for _, label := range strings.Split(g[1], ",") {
			label = strings.TrimSpace(label)
			if label == "" || scrapeLabels[label] {
				continue
			}
			for _, fam := range families {
				if _, ok := s.labels[fam][label]; !ok {
					problems = append(problems, what+": grouped by "+label+", which "+fam+" has not")
				}
			}
		}
	}
	return problems
}

// runGateway runs the gateway as `porxgate serve` does (gateway.Run) with
// Redis, the built-in EPS simulator, a routing table to mhsURL and
// comparison mode against legacyURL, and returns its base URL.
func runGateway(t *testing.T, redisURL, mhsURL, legacyURL string) (string, *http.Client) {
	t.Helper()
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.json")
	if err := os.WriteFile(routes, []byte(`{"FQ2KM-807341": {"url": "`+mhsURL+`", "cpaId": "S3024519A3110234"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := gateway.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.RedisURL = redisURL
	cfg.RoutesFile = routes
	cfg.Compare.LegacyURL = legacyURL
	cfg.Admin.Addr = "off"
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	// Mutual TLS with a client CRL, as on HSCN.
	ca := testpki.NewCA(t, "HSCN test CA")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srvCert, srvKey := ca.Issue(t, testpki.Cert{Name: "porxgate", Server: true})
	cfg.TLSCertFile, cfg.TLSKeyFile = write("tls.crt", srvCert), write("tls.key", srvKey)
	cfg.TLSClientCAFile = write("client-ca.pem", ca.PEM)
	cfg.TrackerASIDs = gateway.TrackerAnyASID
	cfg.TLSClientCRLFiles = write("clients.crl", ca.CRL(t, testpki.CRL{Revoked: []int64{99}}))
	cliCert, cliKey := ca.Issue(t, testpki.Cert{Name: "supplier MHS"})
	pair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(client.CloseIdleConnections)
	logs := &testlog.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gateway.Run(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("gateway: %v", err)
		}
	})
	addrRE := regexp.MustCompile(`"msg":"porxgate listening","addr":"([^"]+)"`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			return "https://" + m[1], client
		}
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for it
			t.Fatalf("gateway stopped: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("gateway did not start\n%s", logs.String())
	return "", nil
}

// sendPrescription posts a legacy prescription to the gateway's ebXML door.
func sendPrescription(t *testing.T, client *http.Client, base string) {
	t.Helper()
	body, err := os.ReadFile("../testdata/prescribe/acute-nurse-controlled-drug-unsigned.json")
	if err != nil {
		t.Fatal(err)
	}
	payload, err := prescribe.PrescribeToV3(body, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToUpper(ids.NewUUID())
	ct, msg, err := ebxml.BuildMessage(ebxml.OutboundMessage{FromPartyID: "FQ2KM-807341", ToPartyID: "YES-0000806", CPAID: "S3024519A3110234",
		ConversationID: id, Action: v3.ParentPrescription, MessageID: id, Timestamp: time.Now().UTC(),
		AckRequested: true, SyncReply: true, DuplicateElimination: true, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+gateway.PathEbXML, bytes.NewReader(msg))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", ebxml.ServiceMM+"/"+v3.ParentPrescription)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", resp.StatusCode, b)
	}
}

// TestQueriesAgainstScrape runs the gateway as deployed (gateway.Run with
// Redis, the built-in EPS simulator, a routing table and comparison mode),
// sends a prescription through it, scrapes /metrics and checks every query
// of deploy/alerts.yaml and deploy/grafana-dashboard.json against that
// scrape: the series exist, the labels matched or grouped by exist on
// them, and each label value matched is one the gateway exports (seen in
// the scrape or named by the metric's HELP). A renamed metric, label or
// value would otherwise leave an alert that never fires.
func TestQueriesAgainstScrape(t *testing.T) {
	redis := redistest.Start(t)
	mhs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(mhs.Close)
	legacy := httptest.NewServer(spinesim.New(spinesim.Options{Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(legacy.Close)
	base, client := runGateway(t, redis.URL(), mhs.URL, legacy.URL)
	sendPrescription(t, client, base)

	scrape := func() scraped {
		t.Helper()
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: HTTP %d %v", resp.StatusCode, err)
		}
		return parseScrape(t, b)
	}
	var s scraped
	deadline := time.Now().Add(15 * time.Second)
	for {
		s = scrape()
		if s.labels["porxgate_exchanges_total"] != nil && s.labels["porxgate_deliveries_total"] != nil && s.labels["porxgate_compare_total"] != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the prescription was not processed, delivered and compared; families %v", keys(s.labels))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The EPS processor's own counters are exported in comparison mode too
	// (before, its wrapper hid them from the registration: absent).
	for _, name := range []string{"porxgate_signature_guard_refusals_total", "porxgate_release_unwritten_total"} {
		if _, ok := s.help[name]; !ok {
			t.Errorf("%s is not in the scrape of a gateway in comparison mode", name)
		}
	}

	rules, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	queries := 0
	for name, e := range alertExprs(t, rules) {
		problems = append(problems, checkQuery(s, "alert "+name, e)...)
		queries++
	}
	for name, e := range dashboardExprs(t, dash) {
		problems = append(problems, checkQuery(s, "panel "+name, e)...)
		queries++
	}
	if queries < 20 {
		t.Fatalf("only %d queries found", queries)
	}
	for _, p := range problems {
		t.Error(p)
	}
	// Every porxgate metric the gateway exports is named in the README's
	// /metrics entry, where the on-call operator looks it up.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := documentedMetrics(string(readme))
	for name := range s.help {
		if strings.HasPrefix(name, "porxgate_") && !documented[name] {
			t.Errorf("%s is exported but the README does not name it", name)
		}
	}
}

// documentedMetrics returns the porxgate metric names a text names,
// reading porxgate_x_{a,b}_total as porxgate_x_a_total and
// porxgate_x_b_total.
func documentedMetrics(text string) map[string]bool {
	out := map[string]bool{}
	re := regexp.MustCompile(`porxgate_[a-z_]*(?:\{[a-z_,]+\}_[a-z_]+)?`)
	for _, m := range re.FindAllString(text, -1) {
		head, rest, ok := strings.Cut(m, "{")
		if !ok {
			out[m] = true
			continue
		}
		alts, tail, _ := strings.Cut(rest, "}")
		for _, a := range strings.Split(alts, ",") {
			out[head+a+tail] = true
		}
	}
	return out
}

// keys lists a map's keys.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
