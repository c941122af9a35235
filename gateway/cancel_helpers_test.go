package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// The parties and fixture values of the cancellation flow tests.
const (
	dispenserParty = "FCG71-807342"
	dispenserCPA   = "S3024519A3110999"
	// rxFixture is the FHIR prescription the flow starts from; its
	// prescription id, line item and nominated pharmacy follow.
	rxFixture  = cancelstest.RxFixture
	rxID       = cancelstest.RxID
	rxLineItem = cancelstest.RxLineItem
	rxPharmacy = cancelstest.RxPharmacy
)

// legacyCancel makes a UK-family Cancel Request (PORX_IN030101UK32) for
// the fixture prescription's only line item (cancelstest.LegacyCancel).
func legacyCancel(t *testing.T, fixture string) []byte {
	t.Helper()
	return cancelstest.LegacyCancel(t, fixture, v3.FamilyUK)
}

// legacyCancelIn is legacyCancel in interaction family fam.
func legacyCancelIn(t *testing.T, fixture string, fam v3.Family) []byte {
	t.Helper()
	return cancelstest.LegacyCancel(t, fixture, fam)
}

// legacyReturn makes a Dispense Proposal Return of prescriptionID from
// pharmacy FCG71 (cancelstest.LegacyReturn).
func legacyReturn(t *testing.T, prescriptionID string) []byte {
	t.Helper()
	return cancelstest.LegacyReturn(t, prescriptionID)
}

// legacyNotDispensed makes a Dispense Notification from pharmacy FCG71
// saying the fixture prescription's item was not dispensed
// (cancelstest.LegacyNotDispensed).
func legacyNotDispensed(t *testing.T) []byte {
	t.Helper()
	return cancelstest.LegacyNotDispensed(t)
}

// flowRoutes routes the prescriber's messages to one MHS and the
// dispenser's to another.
func flowRoutes(t *testing.T, prescriberURL, dispenserURL string) *outbox.Routes {
	t.Helper()
	r, err := outbox.ParseRoutes([]byte(`{
	"`+senderParty+`": {"url": "`+prescriberURL+`", "cpaId": "`+senderCPA+`", "retries": 5, "retryInterval": "30ms", "persistDuration": "1m"},
	"`+dispenserParty+`": {"url": "`+dispenserURL+`", "cpaId": "`+dispenserCPA+`", "retries": 5, "retryInterval": "30ms", "persistDuration": "1m"}
}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cancelTestOptions are quick cancellation settings: polls every 20ms,
// first look after backoff, leases of lease.
func cancelTestOptions(backoff, lease time.Duration) cancels.Config {
	return cancels.Config{PollInterval: 20 * time.Millisecond, Backoff: backoff, MaxBackoff: 4 * backoff,
		MaxAge: time.Hour, Rate: 50, Lease: lease}
}

// flow is one gateway wired for cancellations, with its simulator and the
// two legacy MHSs.
type flow struct {
	sim        *sim.Server
	client     *upstream.Client
	prescriber *fakeMHS
	dispenser  *fakeMHS
	gw         *gw
	cancels    *cancels.Service
}

// startFlowGateway starts a gateway on st wired for cancellations with the
// given options; api answers the poller's tracker queries (nil: client).
func startFlowGateway(t *testing.T, f *flow, st store.Store, opts cancels.Config, api cancels.TrackerAPI, more ...Option) (*gw, *cancels.Service) {
	t.Helper()
	if api == nil {
		api = f.client
	}
	c := cancels.NewService(cancels.ServiceOptions{Tracker: cancels.OpenTracker(st, opts), EPS: api, Config: opts, Log: quietLog()})
	proc := NewEPSProcessor(mapping.NewRegistry(), f.client, nil, nil, quietLog()).WithCancellations(c)
	cfg := testConfig()
	cfg.Lease = opts.Lease
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(),
		append([]Option{WithProcessor(proc), WithRoutes(flowRoutes(t, f.prescriber.srv.URL, f.dispenser.srv.URL))}, more...)...)
	srv.EnableCancellations(c)
	return serveGateway(t, srv), c
}

// serveGateway serves srv with its workers on a loopback socket until the
// test ends or stop is called; a stop that takes much longer than the
// shutdown timeouts fails the test.
func serveGateway(t *testing.T, srv *Server) *gw {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeAndWork(ctx, ln) }()
	var once sync.Once
	limit := 3*srv.cfg.ShutdownTimeout + 10*time.Second // front door, memory drain, workers; and a margin
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(limit):
				t.Errorf("ServeAndWork still running %v after the stop", limit)
			}
		})
	}
	t.Cleanup(stop)
	return &gw{base: "http://" + ln.Addr().String(), srv: srv, stop: stop}
}

// newFlow starts the simulator and the two MHSs.
func newFlow(t *testing.T) *flow {
	t.Helper()
	s, client := startSim(t)
	return &flow{sim: s, client: client, prescriber: startMHS(t, "ack"), dispenser: startMHS(t, "ack")}
}

// byAction returns the multipart messages an MHS received with eb:Action action.
func byAction(m *fakeMHS, action string) []received {
	var out []received
	for _, r := range m.messages() {
		if r.msg != nil && r.msg.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// send posts a legacy message from party over ebXML and returns its request.
func (f *flow) send(t *testing.T, g *gw, n int, party, cpa, action string, payload []byte) ebReq {
	t.Helper()
	r := newReq(newID(t, n))
	r.from, r.cpa, r.action, r.payload = party, cpa, action, payload
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("%s POST = %d\n%s", action, code, body)
	}
	return r
}

// prescribeReleaseCancel runs the start of the flow through gateway g:
// the prescription (MCCI AA), its release to the nominated pharmacy (on
// the simulator's state: the release translator is not wired yet) and
// the cancel request, answered pending (PORX_IN050101UK31 with 0002). It
// returns the cancel request.
func (f *flow) prescribeReleaseCancel(t *testing.T, g *gw) ebReq {
	t.Helper()
	return f.prescribeReleaseCancelWith(t, g, legacyCancel(t, rxFixture))
}

// prescribeReleaseCancelWith is prescribeReleaseCancel with the Cancel
// Request cancelPayload (of the fixture prescription's line item).
func (f *flow) prescribeReleaseCancelWith(t *testing.T, g *gw, cancelPayload []byte) ebReq {
	t.Helper()
	payload, _ := legacyPrescription(t, rxFixture)
	f.send(t, g, 1, senderParty, senderCPA, prescribe, payload)
	waitFor(t, "the prescription's MCCI answer", func() bool { return len(byAction(f.prescriber, mcciAck)) == 1 })
	if tc, _ := ackOf(t, byAction(f.prescriber, mcciAck)[0].msg.Payload.Body); tc != "AA" {
		t.Fatalf("prescription answered %s, want AA", tc)
	}
	agent := sim.DispensingAgent{OrgName: "PORXGATE TEST PHARMACY", RoleProfile: "700099900011",
		PersonCode: "700012312312", PersonName: "Pat Dispenser", Telecom: "tel:01130000009"}
	if _, err := f.sim.State().Release(sim.ReleaseRequest{Owner: rxPharmacy, ShortFormID: rxID, Agent: agent}, time.Now()); err != nil {
		t.Fatalf("release: %v", err)
	}
	cancel := f.send(t, g, 2, senderParty, senderCPA, v3.CancelRequest, cancelPayload)
	waitFor(t, "the Cancel Response", func() bool { return len(byAction(f.prescriber, v3.CancelResponse)) == 1 })
	got := byAction(f.prescriber, v3.CancelResponse)[0]
	if code := cancelCodeOf(t, got.msg.Payload.Body); code != "0002" {
		t.Fatalf("Cancel Response code %s, want 0002 (pending with dispenser)\n%s", code, got.msg.Payload.Body)
	}
	// The dispenser holding it, as EPS names it (its code an SDS user id,
	// which EPS gives no system of its own): back under the SDS user id root.
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got.msg.Payload.Body); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"//CancellationResponse/performer/AgentPerson/id":                                              "700099900011",
		"//CancellationResponse/performer/AgentPerson/agentPerson/id[@root='1.2.826.0.1285.0.2.0.65']": "700012312312",
		"//CancellationResponse/performer/AgentPerson/representedOrganization/id":                      rxPharmacy,
	} {
		if el := doc.FindElement(path); el == nil || el.SelectAttrValue("extension", "") != want {
			t.Errorf("Cancel Response %s: %v, want %s\n%s", path, el, want, got.msg.Payload.Body)
		}
	}
	if got.msg.RefToMessageID != cancel.messageID || got.msg.ConversationID != cancel.conversationID {
		t.Errorf("Cancel Response RefToMessageId %s ConversationId %s; want %s %s",
			got.msg.RefToMessageID, got.msg.ConversationID, cancel.messageID, cancel.conversationID)
	}
	return cancel
}

// cancelCodeOf reads the …17.19 response code of a (Subsequent) Cancel Response.
func cancelCodeOf(t *testing.T, payload []byte) string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(payload); err != nil {
		t.Fatalf("cancel response not XML: %v", err)
	}
	e := doc.FindElement("//CancellationResponse/pertinentInformation3/pertinentResponse/value")
	if e == nil {
		t.Fatalf("no pertinentResponse value in\n%s", payload)
	}
	return e.SelectAttrValue("code", "")
}

// checkSubsequent checks the one Subsequent Cancel Response the prescriber
// got: its conversation, reference and code.
func checkSubsequent(t *testing.T, f *flow, cancel ebReq, wantCode string) received {
	t.Helper()
	subs := byAction(f.prescriber, v3.SubsequentCancelResponse)
	if len(subs) != 1 {
		t.Fatalf("prescriber got %d Subsequent Cancel Responses, want exactly 1", len(subs))
	}
	m := subs[0].msg
	if m.ConversationID != cancel.conversationID || m.RefToMessageID != cancel.messageID {
		t.Errorf("subsequent response ConversationId %s RefToMessageId %s; want %s %s",
			m.ConversationID, m.RefToMessageID, cancel.conversationID, cancel.messageID)
	}
	if m.FromPartyID != spineParty || m.ToPartyID != senderParty || m.CPAID != senderCPA {
		t.Errorf("subsequent response From %s To %s CPA %s; want %s %s %s", m.FromPartyID, m.ToPartyID, m.CPAID, spineParty, senderParty, senderCPA)
	}
	if code := cancelCodeOf(t, m.Payload.Body); code != wantCode {
		t.Errorf("subsequent response code %s, want %s\n%s", code, wantCode, m.Payload.Body)
	}
	return subs[0]
}

// adminCancellations fetches GET /admin/cancellations.
func adminCancellations(t *testing.T, g *gw) (count int, list []cancels.AdminEntry, expired []cancels.AdminEntry) {
	t.Helper()
	resp, err := http.Get(g.adminBase(t) + cancels.PathAdmin)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d\n%s", cancels.PathAdmin, resp.StatusCode, b)
	}
	var v struct {
		Count         int                  `json:"count"`
		Cancellations []cancels.AdminEntry `json:"cancellations"`
		Expired       []cancels.AdminEntry `json:"expired"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("admin view: %v\n%s", err, b)
	}
	return v.Count, v.Cancellations, v.Expired
}

// metricsText fetches /metrics.
func metricsText(t *testing.T, g *gw) string {
	t.Helper()
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// holdingTracker is a cancels.TrackerAPI that blocks every query until its
// context is done, telling polling when one starts: a replica stuck (and
// then killed) in the middle of a poll.
type holdingTracker struct{ polling chan string }

func (h *holdingTracker) TrackerGet(ctx context.Context, q url.Values) (*upstream.Response, error) {
	select {
	case h.polling <- q.Get("focus:identifier"):
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// trackedRecord reads the fixture prescription's tracked cancellation.
func trackedRecord(t *testing.T, tr cancels.Tracker) (cancels.Record, error) {
	t.Helper()
	return tr.Get(context.Background(), rxID, rxLineItem)
}
