package gateway

import (
	"context"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startAuthSim runs the simulator requiring tokens signed by key, on the
// clock simNow, and returns a client exchanging its tokens there on cliNow.
func startAuthSim(t *testing.T, key *rsa.PrivateKey, simNow, cliNow func() time.Time, cfg upstream.Config) (*sim.Server, *upstream.Client) {
	t.Helper()
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.Now = "app-key", "k1", key, cliNow
	return startSimWith(t, sim.Options{PublicKey: &key.PublicKey, Now: simNow}, cfg)
}

// TestUpstreamRefusalsUnseenAreNotRejections: EPS refusing a call without
// looking at the message — 429 Too Many Requests, 408 Request Timeout on
// every attempt, or 401 to a token it expired early while the token
// endpoint is down — is not its verdict on the message. An async message
// is deferred (it waits in the store, its attempts unused, nothing
// recorded as EPS's answer), a SOAP one gets a retryable fault, and once
// EPS is well the message is accepted. Before, each of these became an AE
// acknowledgement ("Unable to process message") sent to the prescriber —
// and was recorded, so every replay repeated the false rejection.
func TestUpstreamRefusalsUnseenAreNotRejections(t *testing.T) {
	retry := upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	type setup struct {
		s     *sim.Server
		api   *upstream.Client
		fault func()
	}
	tests := []struct {
		name  string
		start func(t *testing.T) setup
	}{
		{"429 on every attempt", func(t *testing.T) setup {
			s, c := startSimWith(t, sim.Options{}, upstream.Config{Retry: retry})
			return setup{s, c, func() { s.SetFaults(sim.Faults{Force5xx: -1, Status: 429}) }}
		}},
		{"408 on every attempt", func(t *testing.T) setup {
			s, c := startSimWith(t, sim.Options{}, upstream.Config{Retry: retry})
			return setup{s, c, func() { s.SetFaults(sim.Faults{Force5xx: -1, Status: 408}) }}
		}},
		{"token expired early, token endpoint down", func(t *testing.T) setup {
			key, _ := writeKey(t, t.TempDir(), "k.pem")
			start := time.Now()
			simClk, cliClk := &testClock{t: start}, &testClock{t: start}
			s, c := startAuthSim(t, key, simClk.Now, cliClk.Now, upstream.Config{Retry: retry})
			return setup{s, c, func() {
				if _, err := c.Metadata(context.Background()); err != nil { // a token in the cache
					t.Fatal(err)
				}
				cliClk.Add(530 * time.Second) // the client still trusts it
				simClk.Add(600 * time.Second) // EPS has expired it
				s.SetFaults(sim.Faults{Force5xx: -1, Token: true, Ops: []string{"none"}})
			}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			su := tt.start(t)
			st, _ := redisStore(t)
			p := NewEPSProcessor(mapping.NewRegistry(), su.api, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
			ebxmlIn := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription,
				MessageID: "A0000000-0000-4000-8000-000000000001", Payload: payload}
			soapIn := &Inbound{Transport: TransportSOAP, Interaction: v3.ParentPrescription,
				MessageID: "A0000000-0000-4000-8000-000000000002", Payload: payload}
			su.fault()

			wantDeferred(t, p, ebxmlIn)
			out, err := p.Process(context.Background(), soapIn)
			if err != nil || out == nil || out.Fault == nil || !out.Fault.Retryable() {
				t.Fatalf("SOAP: outcome %+v, err %v; want a retryable fault", out, err)
			}

			su.s.SetFaults(sim.Faults{})
			if tc := processedAck(t, p, ebxmlIn); tc != "AA" {
				t.Fatalf("once EPS is well the message answered %s, want AA", tc)
			}
			if n := su.s.State().Len(); n != 1 {
				t.Fatalf("EPS holds %d prescriptions, want 1", n)
			}
		})
	}
}

// wantDeferred processes in and fails the test unless processing is
// deferred (the upstream at fault, the message waiting) with no answer.
func wantDeferred(t *testing.T, p *EPSProcessor, in *Inbound) {
	t.Helper()
	out, err := p.Process(context.Background(), in)
	if err == nil || !IsDeferred(err) || IsPermanent(err) {
		var answers []string
		if out != nil {
			for _, a := range out.Answers {
				tc, _ := ackOf(t, a.Payload)
				answers = append(answers, a.Interaction+" "+tc)
			}
		}
		t.Fatalf("%s: answers %v, err %v; want a deferred error and no answer", in.Interaction, answers, err)
	}
}
