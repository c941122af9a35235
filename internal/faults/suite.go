package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// Config configures a suite run.
type Config struct {
	// Bin is the porxgate binary to run.
	Bin string
	// Dir holds the run's files: logs, Redis data, the routing table.
	Dir string
	// N is how many messages each scenario sends.
	N int
	// Concurrency is how many senders run at once.
	Concurrency int
	// Outage is how long EPS is down in that scenario (the issue asks 30s).
	Outage time.Duration
	// Drain bounds the wait for answers after a scenario's load.
	Drain time.Duration
	// ReleaseTemplate is a legacy Nominated Prescription Release Request
	// (PORX_IN060102UK30) for the release scenario; its pharmacy
	// (releaseTemplatePharmacy) and transmission id are replaced. Nil skips
	// that scenario.
	ReleaseTemplate []byte
	// Logf receives progress lines; nil: none.
	Logf func(format string, args ...any)
}

// Result is one scenario's count.
type Result struct {
	Scenario string
	Sent     int
	// Acknowledged: 202 + eb:Acknowledgment (ebXML) or a reply (SOAP).
	Acknowledged int
	// Answered: acknowledged and answered (an async answer, or the reply).
	Answered int
	// Lost: acknowledged, but EPS does not hold the prescription.
	Lost int
	// AnsweredTwice: two different answers to one request.
	AnsweredTwice int
	// FalseRejections: a valid prescription refused or answered other than AA.
	FalseRejections int
	// AckUnanswered: acknowledged and never answered.
	AckUnanswered int
	// Refused: refused before acknowledgement (expected for hostile payloads).
	Refused int
	// Drain is the time from the fault's end (or the load's end) to the last answer.
	Drain time.Duration
	// Err is a harness failure (a process that would not start...).
	Err error
}

// OK reports whether the scenario passed: nothing lost, no false
// rejection, nothing acknowledged left unanswered, no harness failure.
func (r Result) OK() bool {
	return r.Err == nil && r.Lost == 0 && r.FalseRejections == 0 && r.AckUnanswered == 0
}

// PrintTable writes the results as a table.
func PrintTable(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%-34s %6s %6s %8s %5s %7s %7s %9s %8s %8s  %s\n",
		"scenario", "sent", "acked", "answered", "lost", "twice", "falseRj", "ackNoAns", "refused", "drain", "result")
	for _, r := range rs {
		res := "ok"
		if !r.OK() {
			res = "FAIL"
			if r.Err != nil {
				res += ": " + r.Err.Error()
			}
		}
		fmt.Fprintf(w, "%-34s %6d %6d %8d %5d %7d %7d %9d %8d %8s  %s\n", r.Scenario, r.Sent, r.Acknowledged, r.Answered,
			r.Lost, r.AnsweredTwice, r.FalseRejections, r.AckUnanswered, r.Refused, r.Drain.Round(100*time.Millisecond), res)
	}
}

// Suite holds the processes of a run.
type Suite struct {
	cfg       Config
	redis     *proc
	redisAddr string
	sim       *proc
	simBase   string // e.g. http://127.0.0.1:41234
	mhs       *mhs
	routes    string
	tpl       []byte
	stamp     uint32
	next      atomic.Uint32
	send      *sender
}

func (s *Suite) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// Start starts Redis (AOF), the simulator and the MHS receiver.
func Start(ctx context.Context, cfg Config) (*Suite, error) {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 8
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 90 * time.Second
	}
	tpl, err := prescribe.PrescribeToV3(loadgen.PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		return nil, fmt.Errorf("prescription template: %w", err)
	}
	s := &Suite{cfg: cfg, tpl: tpl, stamp: uint32(time.Now().Unix()) & 0x7F,
		send: &sender{client: &http.Client{Timeout: 70 * time.Second}, retryEvery: 200 * time.Millisecond}}
	if s.redis, s.redisAddr, err = newRedis(cfg.Dir); err != nil {
		return nil, err
	}
	if err := s.startRedis(ctx); err != nil {
		s.Close()
		return nil, err
	}
	addrFile := filepath.Join(cfg.Dir, "sim.addr")
	s.sim = &proc{name: "sim", bin: cfg.Bin, log: filepath.Join(cfg.Dir, "sim.log"),
		args: []string{"sim", "--addr", "127.0.0.1:0", "--addr-file", addrFile, "--log-level", "warn"}}
	bound, err := s.sim.startListening(ctx, addrFile, 20*time.Second)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.simBase = "http://" + bound.Addr
	if err := waitHTTP(ctx, s.simBase+"/_admin/stats", 20*time.Second); err != nil {
		s.Close()
		return nil, err
	}
	if s.mhs, err = startMHS(); err != nil {
		s.Close()
		return nil, err
	}
	s.routes = filepath.Join(cfg.Dir, "routes.json")
	routes := fmt.Sprintf(`{%q: {"url": %q, "cpaId": %q, "retries": 40, "retryInterval": "PT0.5S", "persistDuration": "PT10M"}}`,
		senderParty, s.mhs.url, senderCPA)
	if err := os.WriteFile(s.routes, []byte(routes), 0o644); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops everything the suite started.
func (s *Suite) Close() {
	if s.mhs != nil {
		s.mhs.close()
	}
	if s.sim != nil {
		s.sim.stop(5 * time.Second)
	}
	if s.redis != nil {
		s.redis.stop(5 * time.Second)
	}
}

// gateway is one porxgate serve process.
type gateway struct {
	*proc
	addrFile string

	mu   sync.Mutex
	base string // e.g. http://127.0.0.1:41234, where it listens now
}

// url is the gateway's base URL, where it listens now: each start binds
// a port of its own (port 0), so a restart moves it, as a load
// balancer's target moves, and the senders' next tries follow it.
func (g *gateway) url() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.base
}

// newGateway starts a gateway replica: the default configuration (breaker
// open 5s, 3 half-open probes, retries of messages waiting for EPS paced
// by the breaker's open period) except a 3s lease, so that a killed
// replica's work is taken over in seconds, and a 100ms poll. Its front
// door and its admin listener take ports of the kernel's (port 0): a port
// found free and given to it could be taken by another process first
// (and two replicas on the default admin port cannot both listen; a
// gateway whose admin listener fails stops).
func (s *Suite) newGateway(ctx context.Context, name string) (*gateway, error) {
	g := &gateway{addrFile: filepath.Join(s.cfg.Dir, name+".addr"), proc: &proc{name: name, bin: s.cfg.Bin, log: filepath.Join(s.cfg.Dir, name+".log")}}
	g.args = []string{
		"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--addr-file", g.addrFile,
		"--redis", "redis://" + s.redisAddr + "/0", "--upstream", s.simBase + "/FHIR/R4",
		"--routes", s.routes, "--lease", "3s", "--poll-interval", "100ms",
		"--persist-duration", "10m", "--shutdown-timeout", "5s", "--log-level", "warn",
	}
	if err := g.restart(ctx); err != nil {
		g.kill9()
		return nil, err
	}
	return g, nil
}

// restart starts the gateway's process, learns where it listens (its
// --addr-file) and waits for /healthz there.
func (g *gateway) restart(ctx context.Context) error {
	bound, err := g.startListening(ctx, g.addrFile, 30*time.Second)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.base = "http://" + bound.Addr
	g.mu.Unlock()
	return waitHTTP(ctx, g.url()+"/healthz", 30*time.Second)
}

// simFaults sets the simulator's faults (nil clears them).
func (s *Suite) simFaults(ctx context.Context, f map[string]any) error {
	method, body := http.MethodDelete, []byte(nil)
	if f != nil {
		method = http.MethodPost
		body, _ = json.Marshal(f)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.simBase+"/_admin/faults", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sim faults: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sim faults: HTTP %d", resp.StatusCode)
	}
	return nil
}

// epsHolds asks the simulator's tracker whether EPS holds a prescription.
func (s *Suite) epsHolds(ctx context.Context, shortForm string) (bool, error) {
	b, err := s.tracker(ctx, shortForm)
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte(`"Task"`)), nil
}

// tracker returns the simulator's tracker answer about a prescription.
func (s *Suite) tracker(ctx context.Context, shortForm string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.simBase+"/FHIR/R4/Task?focus:identifier="+url.QueryEscape(shortForm), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tracker %s: HTTP %d", shortForm, resp.StatusCode)
	}
	return b, nil
}

// prescriptions makes n fresh prescription requests.
func (s *Suite) prescriptions(n int, soap bool) ([]*request, error) {
	out := make([]*request, 0, n)
	for range n {
		id := strings.ToUpper(ids.NewUUID())
		k := s.next.Add(1)
		payload, sf, err := loadgen.Prescription(s.tpl, s.stamp<<24|k, id)
		if err != nil {
			return nil, err
		}
		out = append(out, &request{id: id, shortForm: sf, payload: payload, soap: soap})
	}
	return out, nil
}

// hostilePayloads are payloads that cannot be read as HL7 v3.
func hostilePayloads() [][]byte {
	deep := bytes.Repeat([]byte("<a>"), 100000)
	return [][]byte{
		[]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="X">`),
		[]byte(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&c;</PORX_IN020101UK31>`),
		[]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&x;</PORX_IN020101UK31>`),
		append(append([]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">`), deep...), []byte(`</PORX_IN020101UK31>`)...),
		[]byte("<PORX_IN020101UK31 xmlns=\"urn:hl7-org:v3\">\xff\xfe\xfd</PORX_IN020101UK31>"),
		[]byte(`<hello>world</hello>`),
		// Readable HL7 v3, but not a prescription porxgate can map (no
		// transmission id): acknowledged over ebXML, so it must be answered.
		[]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`),
	}
}

// load sends reqs (each to every gateway targets gives it) with the
// configured concurrency; during runs beside it. It returns when every
// request is acknowledged or refused, or ctx ends.
func (s *Suite) load(ctx context.Context, reqs []*request, targets func(*request) []*gateway, during func(context.Context) error) error {
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	derr := make(chan error, 1)
	dctx, cancelDuring := context.WithCancel(ctx)
	defer cancelDuring()
	go func() {
		if during == nil {
			derr <- nil
			return
		}
		derr <- during(dctx)
	}()
	for _, r := range reqs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var tw sync.WaitGroup
			for _, g := range targets(r) {
				tw.Add(1)
				go func() { defer tw.Done(); s.send.send(ctx, g.url, r) }()
			}
			tw.Wait()
		}()
	}
	wg.Wait()
	return <-derr
}

// ackedCount counts acknowledged requests.
func ackedCount(reqs []*request) int {
	n := 0
	for _, r := range reqs {
		if a, _, _ := r.state(); a {
			n++
		}
	}
	return n
}

// settledCount counts requests acknowledged or refused for good.
func settledCount(reqs []*request) int {
	n := 0
	for _, r := range reqs {
		if a, refused, _ := r.state(); a || refused {
			n++
		}
	}
	return n
}

// waitAcked waits until k requests are acknowledged (or ctx ends).
func waitAcked(ctx context.Context, reqs []*request, k int) {
	for ackedCount(reqs) < k && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tally waits for the answers (up to the drain limit) and counts.
func (s *Suite) tally(ctx context.Context, name string, reqs []*request, drainFrom time.Time) Result {
	res := Result{Scenario: name, Sent: len(reqs)}
	deadline := time.Now().Add(s.cfg.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		pending := 0
		for _, r := range reqs {
			if acked, _, _ := r.state(); acked && !r.soap && s.mhs.answerTo(r.id) == nil {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let late duplicates show
	var last time.Time
	for _, r := range reqs {
		acked, refused, reply := r.state()
		if refused {
			res.Refused++
			if !r.hostile {
				res.FalseRejections++
			}
		}
		if !acked {
			continue
		}
		res.Acknowledged++
		var codes []string
		if r.soap {
			if reply != "" {
				codes = []string{reply}
			}
		} else if a := s.mhs.answerTo(r.id); a != nil {
			codes = a.typeCodes
			if a.last.After(last) {
				last = a.last
			}
		}
		holds := false
		if !r.hostile {
			h, err := s.epsHolds(ctx, r.shortForm)
			if err != nil {
				res.Err = err
			}
			if holds = h; !h {
				res.Lost++
			}
		}
		if len(codes) == 0 {
			res.AckUnanswered++
			continue
		}
		res.Answered++
		if len(codes) > 1 {
			res.AnsweredTwice++
		}
		if !holds {
			continue
		}
		for _, c := range codes {
			if c != "AA" {
				res.FalseRejections++
				break
			}
		}
	}
	if !last.IsZero() && last.After(drainFrom) {
		res.Drain = last.Sub(drainFrom)
	}
	return res
}
