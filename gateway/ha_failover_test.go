package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSentinelFailoverThroughTheGateway runs the whole gateway (Run, as
// porxgate serve does) on a real Redis Sentinel group (a master, two
// replicas) with --redis-wait-replicas 2, every replica, as docs/deploy.md
// asks, EPS being the simulator. It kills the master while 200
// prescriptions are being sent, accepted, processed and answered, and
// restarts it once the sentinels have promoted a replica, as a supervisor
// would, so that it rejoins as a replica. It holds the gateway to what it
// promises across a failover:
//
//   - nothing refused for good: the front door answers 202 or a fault an
//     MHS retries (TMS 200), and every message is accepted in the end;
//   - nothing lost: every accepted prescription reaches EPS and its
//     sender gets an answer;
//   - nothing done twice, nothing falsely rejected: EPS holds each
//     prescription once, and each message gets one answer (one MessageId;
//     a redelivery of it is allowed), an acceptance (AA), not a duplicate
//     refusal of its own replay;
//   - the queues drain (leases taken over, the outbox delivered);
//   - a pending cancellation tracked before the failover is still tracked;
//   - /readyz says not ready during the outage and ready after.
func TestSentinelFailoverThroughTheGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("a Redis Sentinel group and 200 messages through a failover; skipped with -short")
	}
	group := redistest.StartSentinel(t)
	eps, epsRoot := serveSim(t, sim.Options{})
	prescriber, dispenser := startMHS(t, "ack"), startMHS(t, "ack")
	routes := filepath.Join(t.TempDir(), "routes.json")
	route := func(party, url, cpa string) string {
		return fmt.Sprintf(`%q: {"url": %q, "cpaId": %q, "retries": 50, "retryInterval": "100ms", "persistDuration": "5m"}`, party, url, cpa)
	}
	if err := os.WriteFile(routes, []byte("{"+route(senderParty, prescriber.srv.URL, senderCPA)+", "+
		route(dispenserParty, dispenser.srv.URL, dispenserCPA)+"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.UpstreamURL, cfg.RoutesFile = epsRoot+"/FHIR/R4", routes
	cfg.RedisSentinelAddrs, cfg.RedisMasterName = strings.Join(group.SentinelAddrs(), ","), redistest.MasterName
	// Every replica: waiting for fewer leaves a window in which the
	// sentinels promote a replica without the write, the record of an
	// attempt say, whose replay EPS then refuses as a message it took
	// already (202) with nothing to tell porxgate it was its own. With 1,
	// one run in about 25 had one message of its 200 answered AR 202, as
	// that window would.
	cfg.RedisWaitReplicas = 2
	cfg.InboxWorkers, cfg.DeliveryWorkers = 8, 8
	cfg.ProcessRetryInterval = 100 * time.Millisecond
	// The cancellation stays pending through the test: its first look at
	// the EPS tracker is an hour away.
	cfg.CancelBackoff, cfg.CancelMaxBackoff = time.Hour, 2*time.Hour

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := startRun(t, cfg, quietLog())
	base := "http://" + run.Addr
	readyz := func() int {
		c := http.Client{Timeout: 3 * time.Second}
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the gateway ready", func() bool {
		if ended, err := run.ended(); ended {
			t.Fatalf("Run ended before serving: %v", err)
		}
		return readyz() == http.StatusOK
	})
	g := &gw{base: base}

	// A cancellation left pending with the dispenser, tracked in Redis.
	f := &flow{sim: eps, prescriber: prescriber, dispenser: dispenser}
	f.prescribeReleaseCancel(t, g)
	const pendingMetric = "porxgate_cancellations_pending 1"
	if m := metricsText(t, g); !strings.Contains(m, pendingMetric) {
		t.Fatalf("before the failover: no %q in\n%s", pendingMetric, grepLines(m, "cancellation"))
	}

	// /readyz watched throughout.
	var watch sync.WaitGroup
	stopWatch := make(chan struct{})
	var notReady atomic.Int64
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if readyz() != http.StatusOK {
				notReady.Add(1)
			}
		}
	}()

	// 200 prescriptions from four senders that retry as an MHS does.
	payload0, err := prescribemap.PrescribeToV3(loadgen.PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	const messages, senders = 200, 4
	var (
		mu        sync.Mutex
		refusals  []string
		retried   atomic.Int64
		accepted  atomic.Int64
		messageID = make([]string, messages)
	)
	sendCtx, stopSending := context.WithTimeout(ctx, 60*time.Second)
	defer stopSending()
	var send sync.WaitGroup
	for s := range senders {
		send.Add(1)
		go func() {
			defer send.Done()
			for i := s; i < messages; i += senders {
				id := strings.ToUpper(ids.NewUUID())
				payload, _, err := loadgen.Prescription(payload0, uint32(0x300000+i), id)
				if err != nil {
					t.Error(err)
					return
				}
				r := newReq(id)
				r.payload = payload
				messageID[i] = id
				ct, action, body := r.build()
				for sendCtx.Err() == nil {
					code, answer, err := postOnce(sendCtx, base+PathEbXML, ct, action, body)
					if err == nil && code == http.StatusAccepted {
						accepted.Add(1)
						break
					}
					if err == nil && !retryableAnswer(code, answer) {
						mu.Lock()
						refusals = append(refusals, fmt.Sprintf("%s: HTTP %d %.300s", id, code, answer))
						mu.Unlock()
						break
					}
					retried.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}

	for accepted.Load() < messages/3 && sendCtx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	old := group.Master.Addr
	group.Master.Kill(t)
	killed := time.Now()
	promoted := group.WaitFailover(t, old, 20*time.Second)
	t.Logf("master %s killed at %d accepted; %s promoted after %s", old, accepted.Load(), promoted, time.Since(killed).Round(time.Millisecond))
	group.Rejoin(t, group.Master, promoted)
	t.Logf("old master rejoined as a replica %s after the kill", time.Since(killed).Round(time.Millisecond))
	send.Wait()
	if sendCtx.Err() != nil {
		t.Fatalf("senders still sending after 60s: %d of %d accepted", accepted.Load(), messages)
	}
	if len(refusals) > 0 {
		t.Fatalf("%d messages refused for good during the failover, e.g. %s", len(refusals), refusals[0])
	}
	t.Logf("all %d accepted %s after the kill; %d sends retried", messages, time.Since(killed).Round(time.Millisecond), retried.Load())

	// Every message answered; then a moment for any second answer.
	answers := func() map[string]map[string][]byte {
		out := map[string]map[string][]byte{} // RefToMessageId -> answer MessageId -> payload
		for _, m := range byAction(prescriber, mcciAck) {
			ref := m.msg.RefToMessageID
			if out[ref] == nil {
				out[ref] = map[string][]byte{}
			}
			out[ref][m.msg.MessageID] = m.msg.Payload.Body
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := answers()
		n := 0
		for _, id := range messageID {
			if len(a[id]) > 0 {
				n++
			}
		}
		if n == messages {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages answered 60s after the last was accepted", n, messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all answered %s after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(time.Second)
	a := answers()
	for _, id := range messageID {
		if len(a[id]) != 1 {
			t.Errorf("message %s has %d different answers, want 1", id, len(a[id]))
		}
		for _, p := range a[id] {
			if tc, _ := ackOf(t, p); tc != "AA" {
				t.Errorf("message %s answered %s, want AA (a replay refused as its own duplicate?)\n%.600s", id, tc, p)
			}
		}
	}
	if n := eps.State().Len(); n != messages+1 {
		t.Errorf("EPS holds %d prescriptions, want %d (the 200 and the cancelled one)", n, messages+1)
	}

	// The queues drain on the new master.
	r, err := store.OpenRedis(cfg.RedisOptions(), store.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, "the inbox and the outbox empty", func() bool {
		in, err1 := r.QueueLen(ctx, inboxQueue)
		out, err2 := r.QueueLen(ctx, outbox.Queue)
		return err1 == nil && err2 == nil && in == 0 && out == 0
	})
	dead, err := r.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 0 {
		t.Errorf("%d dead letters (err %v), want none; first %.400s", len(dead), err, firstOf(dead))
	}
	if m := metricsText(t, g); !strings.Contains(m, pendingMetric) {
		t.Errorf("after the failover the pending cancellation is gone: no %q in\n%s", pendingMetric, grepLines(m, "cancellation"))
	}

	// /readyz saw the outage and is ready again: once both replicas, the
	// old master among them, have synchronised with the new master
	// (--redis-wait-replicas 2), which on a loaded machine can take more
	// than the usual 10 s wait.
	for deadline := time.Now().Add(30 * time.Second); readyz() != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			_, body := get(t, base+"/readyz")
			t.Fatalf("/readyz not ready 30 s after the failover: %s", body)
		}
	}
	close(stopWatch)
	watch.Wait()
	if notReady.Load() == 0 {
		t.Error("/readyz never said not ready while the master was down")
	}

	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// postOnce posts one ebXML request and returns the status and the answer.
func postOnce(ctx context.Context, url, ct, soapAction string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", soapAction)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// faultCodeRE finds the TMS codes of a SOAP fault.
var faultCodeRE = regexp.MustCompile(`<(?:\w+:)?errorCode>\s*(\d+)\s*<`)

// retryableAnswer reports whether an MHS sends a message again after this
// answer: a SOAP fault whose every TMS code it retries, or a 5xx with no
// Spine body; an eb:MessageError or any other fault is final.
func retryableAnswer(code int, body []byte) bool {
	if code < 500 {
		return false
	}
	codes := faultCodeRE.FindAllSubmatch(body, -1)
	if len(codes) == 0 {
		return !strings.Contains(string(body), "ErrorList")
	}
	for _, m := range codes {
		if !ebxml.IsRetryableFaultCode(string(m[1])) {
			return false
		}
	}
	return true
}

// firstOf returns the first of bs, or nothing.
func firstOf(bs [][]byte) []byte {
	if len(bs) == 0 {
		return nil
	}
	return bs[0]
}
