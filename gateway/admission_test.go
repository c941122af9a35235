package gateway

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestAdmissionRefusesBeyondTheBound: with one message in hand and a bound
// of one, the next is refused at once with a retryable fault (HTTP 500,
// TMS code 200, NumBusy) over a real socket; once the first is done,
// messages are taken again.
func TestAdmissionRefusesBeyondTheBound(t *testing.T) {
	var busy atomic.Int64
	a := newAdmission(1, 0, slog.New(slog.DiscardHandler), func(*fiber.Ctx, Transport, string) { busy.Add(1) })
	h := holdOne(t, func(last fiber.Handler) []fiber.Handler { return []fiber.Handler{a.wrap(TransportEbXML, last)} })
	url := "http://" + h.addr + "/x"
	post := func(q string) (int, string) {
		t.Helper()
		resp, err := http.Post(url+q, "text/xml", bytes.NewReader(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post("")
	if code != http.StatusInternalServerError || !strings.Contains(body, ">200<") || !strings.Contains(body, "910010:") {
		t.Fatalf("second message: HTTP %d %s, want 500 with a retryable busy fault", code, body)
	}
	if busy.Load() != 1 {
		t.Fatalf("%d refusals counted, want 1", busy.Load())
	}
	h.release()
	if c := <-h.held; c != http.StatusAccepted {
		t.Fatalf("held message: HTTP %d", c)
	}
	if code, body := post(""); code != http.StatusAccepted {
		t.Fatalf("after the first was done: HTTP %d %s, want 202", code, body)
	}
}

// TestOneSenderCannotTakeEveryDoor: one sender flooding the front doors
// (64 connections from 127.0.0.1 against --max-in-flight 8, Redis store)
// may not take every slot: a second sender (127.0.0.2) sending one
// message at a time meanwhile is taken, bar the odd one. Before, the slots
// went to whoever asked first: the flood held them nearly all the time
// and 57 of the second sender's 100 messages were refused as busy.
func TestOneSenderCannotTakeEveryDoor(t *testing.T) {
	cfg := testConfig()
	cfg.MaxInFlight = 8
	st, _ := redisStore(t)
	g := startGateway(t, cfg, st, true, WithProcessor(newFakeProcessor()))
	from := func(ip string, conns int) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
			Timeout: 10 * time.Second}
	}
	flood, other := from("127.0.0.1", 64), from("127.0.0.2", 1)
	if refused := refusedBesideAFlood(t, g.base, flood, 64, other); refused > 5 {
		t.Errorf("one sender's flood had %d of another sender's 100 messages refused as busy, want at most 5", refused)
	}
}

// TestOneCertificateCannotTakeEveryDoor: under mutual TLS a sender is its
// client certificate, not its address: two MHSs behind one address (a
// load balancer, a NAT) each get their share, so one flooding does not
// keep the other out.
func TestOneCertificateCannotTakeEveryDoor(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	cfg.MaxInFlight = 8
	st, _ := redisStore(t)
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()))
	base := serveOverTLS(t, srv, cfg, false)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	as := func(name string, conns int) *http.Client {
		c, err := tls.X509KeyPair(ca.issue(t, name, false))
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c}}},
			Timeout: 10 * time.Second}
	}
	if refused := refusedBesideAFlood(t, base, as("flooding MHS", 64), 64, as("other MHS", 1)); refused > 5 {
		t.Errorf("one certificate's flood had %d of another certificate's 100 messages (same address) refused as busy, want at most 5", refused)
	}
}

// refusedBesideAFlood has flood post ebXML messages to base from conns
// goroutines until the doors refuse one, then other send 100, one at a
// time, and returns how many of other's were refused.
func refusedBesideAFlood(t *testing.T, base string, flood *http.Client, conns int, other *http.Client) int {
	t.Helper()
	defer flood.CloseIdleConnections()
	defer other.CloseIdleConnections()
	send := func(c *http.Client) bool {
		ct, action, body := newReq(newID(t, 40)).build()
		req, err := http.NewRequest(http.MethodPost, base+PathEbXML, bytes.NewReader(body))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("SOAPAction", `"`+action+`"`)
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusAccepted
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var floodTaken, floodBusy atomic.Int64
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if send(flood) {
					floodTaken.Add(1)
				} else {
					floodBusy.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for floodBusy.Load() == 0 { // the doors are full
		time.Sleep(10 * time.Millisecond)
	}
	refused := 0
	for range 100 {
		if !send(other) {
			refused++
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the other sender: %d of 100 refused; the flood: %d taken, %d refused", refused, floodTaken.Load(), floodBusy.Load())
	return refused
}

// TestPerClientInFlight: the share one sender may hold, as configured.
func TestPerClientInFlight(t *testing.T) {
	tests := []struct{ max, perClient, want int }{
		{128, 0, 96},  // default: three quarters
		{128, 10, 10}, // as given
		{128, -1, 0},  // no bound per sender
		{1, 0, 1},     // at least one
		{0, 10, 0},    // no bound on the doors, none per sender
	}
	for _, tt := range tests {
		cfg := Config{MaxInFlight: tt.max, MaxInFlightPerClient: tt.perClient}
		if got := cfg.PerClientInFlight(); got != tt.want {
			t.Errorf("max %d, per client %d: %d, want %d", tt.max, tt.perClient, got, tt.want)
		}
	}
}

// TestEbXMLDoorNotIntoABacklog: while a message ready for an inbox worker
// has waited longer than --max-queue-wait (the one worker held), a new
// ebXML message is refused with the retryable busy fault (HTTP 500, TMS
// 200, 910010) and not queued, while a duplicate of one taken is still
// acknowledged; once the workers catch up the refused message, sent
// again, is taken and processed once. Messages waiting out an EPS outage
// (deferred, not due until their next try) do not count: the door keeps
// taking messages. Before, the door took every message however far behind
// the workers were: under a closed loop faster than the workers the
// inbox, and each answer's wait, only grew.
func TestEbXMLDoorNotIntoABacklog(t *testing.T) {
	const maxWait = 300 * time.Millisecond
	for name, mk := range onceStores(t) {
		t.Run(name+"/workers behind", func(t *testing.T) {
			newStore := mk(t)
			g8 := newGate()
			first, queued, refused := newReq(newID(t, 60)), newReq(newID(t, 61)), newReq(newID(t, 62))
			proc := newFakeProcessor()
			proc.answer = func(in *Inbound, n int) (*Outcome, error) {
				if in.MessageID == first.messageID {
					g8.hold(n) // the one worker held with the first
				}
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
			}
			cfg := testConfig()
			cfg.InboxWorkers, cfg.MaxQueueWait = 1, maxWait
			g := startGateway(t, cfg, newStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, startMHS(t, "ack").srv.URL, "")))
			t.Cleanup(g8.release) // before the gateway stops (TestEbXMLDuplicatesOnce)
			if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
				t.Fatalf("first: HTTP %d %s", code, body)
			}
			g8.waitEntered(t)
			if code, body := sendEb(t, g.base, queued); code != http.StatusAccepted {
				t.Fatalf("second, queued behind the first: HTTP %d %s", code, body)
			}
			time.Sleep(maxWait + 2*queueWaitFresh) // the second has waited past the bound
			code, body := sendEb(t, g.base, refused)
			if code != http.StatusInternalServerError || !strings.Contains(string(body), ">200<") || !strings.Contains(string(body), "910010:") {
				t.Fatalf("new message while the workers are behind: HTTP %d %s, want 500 with the retryable busy fault", code, body)
			}
			if code, body := sendEb(t, g.base, queued); code != http.StatusAccepted {
				t.Fatalf("duplicate of a message taken, while the workers are behind: HTTP %d %s, want 202", code, body)
			}
			g8.release()
			waitFor(t, "the backlog processed", func() bool { return proc.callsFor(queued.messageID) == 1 })
			waitFor(t, "the refused message taken once the workers caught up", func() bool {
				code, _ := sendEb(t, g.base, refused)
				return code == http.StatusAccepted
			})
			waitFor(t, "the refused message processed", func() bool { return proc.callsFor(refused.messageID) == 1 })
			time.Sleep(100 * time.Millisecond) // a second processing would show now
			for _, r := range []ebReq{first, queued, refused} {
				if n := proc.callsFor(r.messageID); n != 1 {
					t.Errorf("%s processed %d times, want 1", r.messageID, n)
				}
			}
		})
		t.Run(name+"/the gateway's clock", func(t *testing.T) {
			// Due times are of the gateway's clock (WithClock), months
			// behind the wall's here: read against the wall's, every
			// message waiting would seem months late.
			fixed := time.Now().Add(-90 * 24 * time.Hour)
			cfg := testConfig()
			cfg.MaxQueueWait = maxWait
			g := startGateway(t, cfg, mk(t)(), true, WithProcessor(newFakeProcessor()), WithClock(func() time.Time { return fixed }))
			for i := range 3 {
				if code, body := sendEb(t, g.base, newReq(newID(t, 80+i))); code != http.StatusAccepted {
					t.Fatalf("message %d: HTTP %d %s, want 202 (none has waited by the gateway's clock)", i, code, body)
				}
				time.Sleep(2 * queueWaitFresh)
			}
		})
		t.Run(name+"/EPS unavailable", func(t *testing.T) {
			newStore := mk(t)
			proc := newFakeProcessor()
			proc.answer = func(*Inbound, int) (*Outcome, error) { return nil, Deferred(errors.New("EPS unavailable")) }
			cfg := testConfig()
			cfg.InboxWorkers, cfg.MaxQueueWait = 1, maxWait
			g := startGateway(t, cfg, newStore(), false, WithProcessor(proc))
			for i := range 6 {
				r := newReq(newID(t, 70+i))
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("message %d while EPS is unavailable: HTTP %d %s, want 202", i, code, body)
				}
				time.Sleep(maxWait / 2)
			}
			if n := proc.numCalls(); n < 6 {
				t.Fatalf("%d processing attempts, want the messages tried while they waited", n)
			}
		})
	}
}

// heldDoor is a door whose first message holdOne holds.
type heldDoor struct {
	// addr is the door's loopback address; POST /x reaches it.
	addr string
	// handled counts the messages that reached the door's last handler.
	handled atomic.Int64
	// release lets the held message go (also at the test's end); held
	// then has its HTTP status.
	release func()
	held    chan int
}

// holdOne serves on a loopback socket, at POST /x, the handlers doors
// returns for a last handler that answers 202, and holds a first message
// (sent with ?hold=1) in that last handler until released, so that it
// keeps its slot of the doors.
func holdOne(t testing.TB, doors func(last fiber.Handler) []fiber.Handler) *heldDoor {
	t.Helper()
	h := &heldDoor{held: make(chan int, 1)}
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	h.release = sync.OnceFunc(func() { close(release) })
	app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true})
	app.Post("/x", doors(func(c *fiber.Ctx) error {
		h.handled.Add(1)
		if c.Query("hold") != "" {
			entered <- struct{}{}
			<-release
		}
		return c.SendStatus(fiber.StatusAccepted)
	})...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	t.Cleanup(h.release) // before the shutdown, which waits for the held message
	h.addr = ln.Addr().String()
	go func() {
		resp, err := http.Post("http://"+h.addr+"/x?hold=1", "text/xml", bytes.NewReader(nil))
		if err != nil {
			h.held <- 0
			return
		}
		resp.Body.Close()
		h.held <- resp.StatusCode
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first message never reached the handler")
	}
	return h
}
