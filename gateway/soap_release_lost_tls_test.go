package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSOAPReleaseLostToSenderTimeoutOverTLS is
// TestSOAPReleaseLostToSenderTimeout's new-wsa:MessageID case over the
// front door's mutual TLS, as docs/deploy.md deploys it: the pharmacy
// gives up on its nominated release before EPS answers, and its next
// release, under a new wsa:MessageID, gets the prescription EPS released
// to the first. Before, the sender's departure was not seen through the
// front door's TLS connection (peerGone read only a bare socket), so the
// answer was taken as handed over, and the prescription was stranded.
func TestSOAPReleaseLostToSenderTimeoutOverTLS(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, proc, "F4000000-0000-4000-8000-0000000010A1")

	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	ft, err := ServerTLS(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	log, sink := jsonLogger(slog.LevelInfo)
	srv := NewServer(cfg, st, fakeUpstream{}, log, NewMetrics(), WithProcessor(PartyScoped(proc)), WithJournal(newTestJournal(t)))
	base := trackerServe(t, func(ctx context.Context, ln net.Listener) error {
		return srv.ServeAndWork(ctx, ft.Listener(ln, cfg.MaxHandshakesPerClient, quietLog()))
	})
	base = "https://" + strings.TrimPrefix(base, "http://")
	cliTLS := dispenserTLS(t, ca)
	tr := func() *http.Transport { return &http.Transport{TLSClientConfig: cliTLS.Clone()} }
	send := func(c *http.Client, id string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+PathSOAP,
			bytes.NewReader(soapEnvelope(id, v3.NominatedReleaseRequest, soapReleaseFCG71(t))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes(), nil
	}

	s.SetFaults(sim.Faults{LatencyMs: 1500, Ops: []string{"release"}})
	impatient := &http.Client{Timeout: 500 * time.Millisecond, Transport: tr()}
	if code, _, err := send(impatient, "F4000000-0000-4000-8000-0000000010B1"); err == nil {
		t.Fatalf("the impatient sender got an answer (%d) before its timeout: the test needs EPS slower", code)
	}
	waitAnswered(t, sink)
	if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
	}
	s.SetFaults(sim.Faults{})

	patient := &http.Client{Timeout: time.Minute, Transport: tr()}
	code, body, err := send(patient, "F4000000-0000-4000-8000-0000000010B2")
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), rxID) {
		t.Fatalf("the pharmacy's release sent again = %d (%v) without %s, released to it in the answer it never got: stranded\n%.600s", code, err, rxID, body)
	}
	code, body, _ = send(patient, "F4000000-0000-4000-8000-0000000010C1")
	if strings.Contains(string(body), rxID) {
		t.Fatalf("the pharmacy's next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
	}
}
