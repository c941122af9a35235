package gateway

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// Parties and ids of the test messages.
const (
	senderParty = "FQ2KM-807341"
	spineParty  = "YES-0000806"
	senderCPA   = "S3024519A3110234"
	prescribe   = "PORX_IN020101UK31"
	mcciAck     = "MCCI_IN010000UK13"
)

// testPayload is an HL7 payload with multi-byte UTF-8 that must survive untouched.
func testPayload(id string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">
  <id root="` + id + `"/>
  <note>Zoë Łukasiewicz-Ó Briain: 250 µg — twice daily; £4·50 ✓ 🙂</note>
</PORX_IN020101UK31>`)
}

// testPayloadOf is testPayload with interaction as its root element: the
// payload a request of that eb:Action carries.
func testPayloadOf(id, interaction string) []byte {
	return bytes.ReplaceAll(testPayload(id), []byte(prescribe), []byte(interaction))
}

// ebReq describes a test ebXML request.
type ebReq struct {
	messageID, conversationID, action, from, cpa string
	syncReply, ackRequested                      bool
	payload                                      []byte
	// timeToLive, when set, is written as eb:TimeToLive.
	timeToLive time.Time
	// ackActor is eb:AckRequested's SOAP actor; ebxml.ActorToPartyMSH
	// when empty.
	ackActor string
	// to is eb:To/eb:PartyId; spineParty when empty.
	to string
}

// newReq returns a prescription request from the test sender with
// SyncReply and AckRequested.
func newReq(messageID string) ebReq {
	return ebReq{
		messageID: messageID, conversationID: messageID, action: prescribe, from: senderParty, cpa: senderCPA,
		syncReply: true, ackRequested: true, payload: testPayload(messageID),
	}
}

// build writes r as legacy MHSs do: LF line ends and an unquoted
// Content-Type. It returns the Content-Type, the SOAPAction and the body.
func (r ebReq) build() (string, string, []byte) {
	var hdr strings.Builder
	fmt.Fprintf(&hdr, `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:eb="http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:hl7ebxml="urn:hl7-org:transport/ebXML/DSTUv1.0">
<SOAP-ENV:Header>
<eb:MessageHeader SOAP-ENV:mustUnderstand="1" eb:version="2.0">
<eb:From><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">%s</eb:PartyId></eb:From>
<eb:To><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">%s</eb:PartyId></eb:To>
<eb:CPAId>%s</eb:CPAId>
<eb:ConversationId>%s</eb:ConversationId>
<eb:Service>urn:nhs:names:services:mm</eb:Service>
<eb:Action>%s</eb:Action>
<eb:MessageData>
<eb:MessageId>%s</eb:MessageId>
<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>%s
</eb:MessageData>
<eb:DuplicateElimination/>
</eb:MessageHeader>
`, r.from, cmp.Or(r.to, spineParty), r.cpa, r.conversationID, r.action, r.messageID, r.timeToLiveElement())
	if r.ackRequested {
		actor := r.ackActor
		if actor == "" {
			actor = ebxml.ActorToPartyMSH
		}
		hdr.WriteString(`<eb:AckRequested SOAP-ENV:mustUnderstand="1" eb:version="2.0" SOAP-ENV:actor="` + actor + `" eb:signed="false"/>` + "\n")
	}
	if r.syncReply {
		hdr.WriteString(`<eb:SyncReply SOAP-ENV:mustUnderstand="1" eb:version="2.0" SOAP-ENV:actor="http://schemas.xmlsoap.org/soap/actor/next"/>` + "\n")
	}
	fmt.Fprintf(&hdr, `</SOAP-ENV:Header>
<SOAP-ENV:Body>
<eb:Manifest SOAP-ENV:mustUnderstand="1" eb:version="2.0">
<eb:Reference xlink:href="cid:%s@porx.example.nhs.uk">
<hl7ebxml:Payload style="HL7" encoding="XML" version="3.0"/>
</eb:Reference>
</eb:Manifest>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`, r.messageID)
	const boundary = "MIME_boundary_test"
	var b bytes.Buffer
	b.WriteString("--" + boundary + "\nContent-Id: <ebXMLHeader@spine.nhs.uk>\nContent-Type: text/xml; charset=UTF-8\n\n")
	b.WriteString(hdr.String())
	b.WriteString("\n--" + boundary + "\nContent-Id: <" + r.messageID + "@porx.example.nhs.uk>\nContent-Type: application/xml; charset=UTF-8\n\n")
	b.Write(r.payload)
	b.WriteString("\n--" + boundary + "--\n")
	ct := "multipart/related; boundary=" + boundary + "; type=text/xml; start=ebXMLHeader@spine.nhs.uk"
	return ct, "urn:nhs:names:services:mm/" + r.action, b.Bytes()
}

// timeToLiveElement is r's eb:TimeToLive element, "" when it has none.
func (r ebReq) timeToLiveElement() string {
	if r.timeToLive.IsZero() {
		return ""
	}
	return "<eb:TimeToLive>" + r.timeToLive.UTC().Format(time.RFC3339Nano) + "</eb:TimeToLive>"
}

// post sends body to url and returns status and body.
func post(t *testing.T, client *http.Client, url, ct, soapAction string, body []byte) (int, []byte) {
	t.Helper()
	code, _, b := postWith(t, client, url, ct, soapAction, body)
	return code, b
}

// postHeaders sends body to url with the default client and returns
// status, headers and body.
func postHeaders(t *testing.T, url, ct, soapAction string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	return postWith(t, http.DefaultClient, url, ct, soapAction, body)
}

// postWith sends body to url with client and returns status, headers and body.
func postWith(t *testing.T, client *http.Client, url, ct, soapAction string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if soapAction != "" {
		req.Header.Set("SOAPAction", `"`+soapAction+`"`)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// sendEb posts an ebXML request to a gateway.
func sendEb(t *testing.T, base string, r ebReq) (int, []byte) {
	t.Helper()
	ct, action, body := r.build()
	return post(t, http.DefaultClient, base+PathEbXML, ct, action, body)
}

// call records one Process call.
type call struct {
	in Inbound
}

// fakeProcessor supports the interactions in supports and answers each
// message with the outcome of answer (default: one MCCI ack echoing the
// message id). It counts calls per MessageId.
type fakeProcessor struct {
	supports map[string]bool
	answer   func(in *Inbound, n int) (*Outcome, error)

	mu    sync.Mutex
	calls []call
	count map[string]int
}

func newFakeProcessor() *fakeProcessor {
	return &fakeProcessor{supports: map[string]bool{prescribe: true, "PORX_IN020101SM31": true}, count: map[string]int{}}
}

func (f *fakeProcessor) Supports(interaction string) bool { return f.supports[interaction] }

func (f *fakeProcessor) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	f.mu.Lock()
	f.count[in.MessageID]++
	n := f.count[in.MessageID]
	f.calls = append(f.calls, call{in: *in})
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		return answer(in, n)
	}
	return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
}

// newEPSDownProcessor returns a fakeProcessor that defers every message
// (EPS unavailable) while down is set, and answers each with an MCCI
// acknowledgement once it is not; down starts set.
func newEPSDownProcessor() (proc *fakeProcessor, down *atomic.Bool) {
	down = new(atomic.Bool)
	down.Store(true)
	proc = newFakeProcessor()
	proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
		if down.Load() {
			return nil, Deferred(errors.New("EPS unavailable"))
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	return proc, down
}

// callsFor returns how many times id was processed.
func (f *fakeProcessor) callsFor(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[id]
}

// numCalls returns how many Process calls there were.
func (f *fakeProcessor) numCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// lastCall returns the last Inbound processed.
func (f *fakeProcessor) lastCall(t *testing.T) Inbound {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("processor never called")
	}
	return f.calls[len(f.calls)-1].in
}

// mcciPayload is an application acknowledgement of id.
func mcciPayload(id string) []byte {
	return []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"><messageRef><id root="` + id + `"/></messageRef></acknowledgement><note>✓ café</note></MCCI_IN010000UK13>`)
}

// testConfig is a configuration with short timings for tests.
func testConfig() Config {
	cfg := DefaultConfig()
	// Port 0: a test that runs the gateway (startRun) learns the port it
	// took; the default, 8080, is the port a developer's make run holds.
	cfg.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.PollInterval = 20 * time.Millisecond
	cfg.Lease = 2 * time.Second
	cfg.ProcessRetryInterval = 30 * time.Millisecond
	cfg.DeliveryTimeout = 2 * time.Second
	cfg.InboxWorkers = 2
	cfg.DeliveryWorkers = 2
	cfg.Admin.Addr, cfg.Admin.NoAuth = "off", true // tests start the admin app on demand (gw.adminBase)
	// Many tests queue messages with no workers to look at them: the
	// bound on how far behind the workers may be is tested on its own
	// (TestEbXMLDoorNotIntoABacklog).
	cfg.MaxQueueWait = 0
	// Likewise the collector's share near the memory limit
	// (TestGCPressureRefusesUnread sets a limit of its own).
	cfg.MaxGCCPUPercent = 0
	return cfg
}

// gw is a gateway running on a real loopback socket.
type gw struct {
	base string
	srv  *Server
	// admin is the admin listener's base URL once adminBase started it.
	admin     string
	adminOnce sync.Once
	stop      func() // stops serving and the workers, and waits
}

// quietLog discards logs unless PORXGATE_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("PORXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startGateway serves cfg on a loopback socket with workers running
// (unless noWorkers) until the test ends or stop is called.
func startGateway(t *testing.T, cfg Config, st store.Store, noWorkers bool, opts ...Option) *gw {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startGatewayOn(t, ln, cfg, st, noWorkers, opts...)
}

// startGatewayOn is startGateway on the listener ln.
func startGatewayOn(t *testing.T, ln net.Listener, cfg Config, st store.Store, noWorkers bool, opts ...Option) *gw {
	t.Helper()
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		if noWorkers {
			done <- srv.Serve(ctx, ln)
			return
		}
		done <- srv.ServeAndWork(ctx, ln)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &gw{base: "http://" + ln.Addr().String(), srv: srv, stop: stop}
}

// redisStore starts a redis-server and returns a store on it; more
// stores on the same server come from newStore.
func redisStore(t *testing.T) (store.Store, func() store.Store) {
	t.Helper()
	srv := redistest.Start(t)
	newStore := func() store.Store { return redisStoreOn(t, srv) }
	return newStore(), newStore
}

// redisServerStore starts a redis-server and returns it (to pause, kill
// or measure) and a store on it.
func redisServerStore(t *testing.T) (*redistest.Server, *store.Redis) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, redisStoreOn(t, srv)
}

// redisStoreOn returns a store (key prefix gw:) on srv, closed when the
// test ends.
func redisStoreOn(t *testing.T, srv *redistest.Server) *store.Redis {
	t.Helper()
	r, err := store.NewRedis(srv.URL(), "gw:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// received is one message the fake MHS got.
type received struct {
	contentType string
	soapAction  string
	body        []byte
	msg         *ebxml.Message // parsed multipart message, nil for a text/xml signal
	ackRef      string         // RefToMessageId of a text/xml acknowledgment
	traceparent string         // the W3C traceparent header, when sent
}

// fakeMHS is a legacy MHS endpoint: it records every message and answers
// as mode says: "ack" (HTTP 200 with an eb:Acknowledgment), "accept"
// (HTTP 202), "empty" (HTTP 200, empty), "fail" (HTTP 503), "refuse"
// (HTTP 500 with a ValueNotRecognized eb:MessageError).
type fakeMHS struct {
	srv *httptest.Server

	mu   sync.Mutex
	mode string
	got  []received
	// before, when set, runs on each message before it is answered.
	before func(rec received)
}

// setBefore makes f run on each message before the MHS answers it.
func (m *fakeMHS) setBefore(f func(rec received)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.before = f
}

func startMHS(t *testing.T, mode string) *fakeMHS {
	t.Helper()
	m := &fakeMHS{mode: mode}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMHS) setMode(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode = mode
}

func (m *fakeMHS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{contentType: r.Header.Get("Content-Type"), soapAction: r.Header.Get("SOAPAction"), body: body,
		traceparent: r.Header.Get("traceparent")}
	if isTextXML(rec.contentType) {
		rec.ackRef, _ = ebxml.ParseAcknowledgment(body)
	} else {
		rec.msg, _ = ebxml.ParseRequest(rec.contentType, rec.soapAction, body)
	}
	m.mu.Lock()
	m.got = append(m.got, rec)
	mode, before := m.mode, m.before
	m.mu.Unlock()
	if before != nil {
		before(rec)
	}
	now := time.Now()
	switch {
	case mode == "fail":
		w.WriteHeader(http.StatusServiceUnavailable)
	case mode == "accept":
		w.WriteHeader(http.StatusAccepted)
	case mode == "empty" || rec.msg == nil:
		w.WriteHeader(http.StatusOK)
	case mode == "refuse":
		b, _ := ebxml.BuildMessageError(rec.msg, "F0000000-0000-4000-8000-000000000001", now,
			ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId"))
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
	default:
		b, _ := ebxml.BuildAcknowledgment(rec.msg, "A0000000-0000-4000-8000-000000000001", now)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(b)
	}
}

// messages returns what the MHS received so far.
func (m *fakeMHS) messages() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.got...)
}

// answersTo counts the MCCI answers the MHS got to the message id (in
// either letter case).
func (m *fakeMHS) answersTo(id string) int {
	n := 0
	for _, r := range m.messages() {
		if r.msg != nil && r.msg.Action == mcciAck && strings.EqualFold(r.msg.RefToMessageID, id) {
			n++
		}
	}
	return n
}

// routesTo returns a routing table sending the test sender's messages to url.
func routesTo(t *testing.T, url string, extra string) *outbox.Routes {
	t.Helper()
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+url+`", "cpaId": "`+senderCPA+`", "retries": 5, "retryInterval": "30ms", "persistDuration": "1m"`+extra+`}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ebErrorOf parses an eb:MessageError envelope and returns its first
// error's code and description.
func ebErrorOf(t *testing.T, body []byte) (string, string) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatalf("MessageError not XML: %v\n%s", err, body)
	}
	e := doc.FindElement("//Envelope/Header/ErrorList/Error")
	if e == nil {
		t.Fatalf("no eb:ErrorList/eb:Error in\n%s", body)
	}
	d := e.FindElement("Description")
	if d == nil {
		t.Fatalf("eb:Error without eb:Description in\n%s", body)
	}
	return e.SelectAttrValue("eb:errorCode", ""), d.Text()
}

// newID returns a fresh upper-case message id for a test message.
func newID(t *testing.T, n int) string {
	t.Helper()
	return fmt.Sprintf("%08X-0000-4000-8000-%012X", n, time.Now().UnixNano()&0xFFFFFFFFFFFF)
}

// newMemoryStore returns an in-memory store.
func newMemoryStore() store.Store { return store.NewMemory(nil) }
