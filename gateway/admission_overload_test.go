package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/testlog"
)

// checkBusyFault fails t unless code and body are the front doors'
// retryable busy refusal as Spine shapes it: HTTP 500, a SOAP:Server
// fault whose TMS error (urn:nhs:names:error:tms) has code 200, the one
// senders send again on, and description NumBusy.
func checkBusyFault(t *testing.T, what string, code int, body []byte) {
	t.Helper()
	f, ok := ebxml.ParseSOAPFaultWith(nil, body)
	if code != http.StatusInternalServerError || !ok || f.FaultCode != ebxml.FaultCodeServer || len(f.Errors) != 1 ||
		f.Errors[0].CodeContext != "urn:nhs:names:error:tms" || f.Errors[0].Code != ebxml.TMSCodeSystemFailure ||
		!strings.HasPrefix(f.Errors[0].Description, fmt.Sprintf("%d:", NumBusy)) {
		t.Fatalf("%s: HTTP %d %s, want 500 with the retryable busy fault (TMS 200, %d)", what, code, body, NumBusy)
	}
}

// serverReadAhead is how much of a body the server reads before any
// handler runs (fasthttp, with bodies streamed: 8 KiB, into a buffer of
// its pool).
const serverReadAhead = 8 << 10

// bodyNotSent sends on conn the head of a POST to path with a body of
// length bytes of which only the part the server reads ahead is sent,
// and returns the answer: one that comes proves the door answered
// before reading the body. The read is bounded by 10 s, a failure bound,
// not a measurement.
func bodyNotSent(t *testing.T, conn net.Conn, br *bufio.Reader, path string, length int) (int, []byte) {
	t.Helper()
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s",
		path, length, bytes.Repeat([]byte("x"), serverReadAhead)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a request whose body was not sent: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return resp.StatusCode, b
}

// TestBusyRefusedBeforeTheBody: while every slot of the doors is taken,
// or the sender holds its share of them, a message is refused with the
// retryable busy fault before its body is read: the refusal comes back to
// a request whose body was not sent (beyond the 8 KiB the server reads
// ahead into a buffer of its pool). Before, the body was read whole
// (and, for a sender's share, parsed up to the slot) before the refusal.
// The connection is kept: once the sender sends the body, which the
// server throws away, its next request on it is taken.
func TestBusyRefusedBeforeTheBody(t *testing.T) {
	tests := []struct {
		name           string
		max, perClient int
		reason, logged string
	}{
		{"every slot taken", 1, 0, refusedInFlight, "front doors busy"},
		{"the sender's share taken", 4, 1, refusedPerClient, "a sender holds its share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			reasons := map[string]int{}
			var logs testlog.Buffer
			a := newAdmission(tt.max, tt.perClient, slog.New(slog.NewTextHandler(&logs, nil)), func(_ *fiber.Ctx, _ Transport, reason string) {
				mu.Lock()
				reasons[reason]++
				mu.Unlock()
			})
			h := holdOne(t, func(last fiber.Handler) []fiber.Handler {
				return []fiber.Handler{a.early(TransportEbXML), readFrontBody(1 << 20), a.wrap(TransportEbXML, last)}
			})
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			const length = 30000
			code, body := bodyNotSent(t, conn, br, "/x", length)
			checkBusyFault(t, "a message while the doors are full, its body not sent", code, body)
			mu.Lock()
			if reasons[tt.reason] != 1 || len(reasons) != 1 {
				t.Errorf("refusals counted %v, want one %s", reasons, tt.reason)
			}
			mu.Unlock()
			if !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("the refusal's start not logged (%q); log:\n%s", tt.logged, logs.String())
			}
			if n := h.handled.Load(); n != 1 {
				t.Errorf("%d messages reached the handler, want the held one only", n)
			}
			h.release()
			if c := <-h.held; c != http.StatusAccepted {
				t.Fatalf("held message: HTTP %d", c)
			}
			// The refused request's body, then a next request on the same
			// connection.
			if _, err := conn.Write(bytes.Repeat([]byte("x"), length-serverReadAhead)); err != nil {
				t.Fatal(err)
			}
			if _, err := fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: gateway\r\nContent-Length: 0\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("the connection of the refusal was not kept: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("next request on the connection: HTTP %d, want 202", resp.StatusCode)
			}
		})
	}
}

// squeezeNode is a node of the live heap squeezeMemory keeps: pointers
// the collector follows in each of its cycles, as through a gateway's
// messages in hand.
type squeezeNode struct {
	next *squeezeNode
	s    string
}

// squeezeMemory keeps a live heap of pointers, sets the soft memory limit
// to a quarter of the memory the process then has in use, and allocates
// in the background as a gateway's work would, so that the collector
// runs without a pause, marking that heap each cycle; the returned func
// ends all three (and the test's end does). The limit is the process's
// own, so no parallel test may run meanwhile.
func squeezeMemory(t *testing.T) (stop func()) {
	t.Helper()
	var live *squeezeNode
	for i := range 1 << 18 {
		live = &squeezeNode{next: live, s: strings.Repeat("x", i%16)}
	}
	inUse := readGCFigures(newGCSamples()).inUse
	old := debug.SetMemoryLimit(int64(inUse / 4))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-done:
				runtime.KeepAlive(live)
				return
			default:
			}
			keep = append(keep, make([]byte, 16<<10))
			if len(keep) > 16 {
				keep = keep[:0]
			}
			if i%8 == 0 {
				runtime.Gosched()
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			debug.SetMemoryLimit(old)
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestGCPressureRefusesUnread: a gateway whose memory is squeezed under a
// real soft memory limit (the collector running without a pause, as past
// its capacity near --memory-limit-mb) refuses new messages with the
// retryable busy fault before their bodies are read, at both doors, and
// counts them (porxgate_admission_refusals_total{reason="gc"}); once the
// pressure eases, the messages refused, sent again as an MHS would, are
// taken. Every message taken, before, during and after, is processed
// once and answered once; a duplicate of one taken, refused meanwhile,
// is acknowledged again later and not processed again.
func TestGCPressureRefusesUnread(t *testing.T) {
	st, _ := redisStore(t)
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	cfg := testConfig()
	cfg.MaxGCCPUPercent = 10 // a gateway at rest is near 1 %
	g := startGateway(t, cfg, st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	first := newReq(newID(t, 1))
	if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
		t.Fatalf("a message before the squeeze: HTTP %d %s", code, body)
	}
	waitFor(t, "the first message answered", func() bool { return mhs.answersTo(first.messageID) == 1 })

	stop := squeezeMemory(t)
	addr := strings.TrimPrefix(g.base, "http://")
	refusedUnread := func(path string) bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		code, body := bodyNotSent(t, conn, bufio.NewReader(conn), path, 30000)
		checkBusyFault(t, "a message whose body was not sent", code, body)
		return true
	}
	// A request whose body is not sent is answered only once the doors
	// refuse: wait for them to see the pressure first.
	waitFor(t, "the doors refusing for the collector", func() bool {
		s, over := g.srv.doors.gc.over(time.Now())
		t.Logf("collector's share %.2f", s)
		return over
	})
	refusedUnread(PathEbXML)
	refusedUnread(PathSOAP)
	gcRefusals := func() float64 {
		var n float64
		for _, s := range metricSamples(t, g.srv.metrics, "porxgate_admission_refusals_total", map[string]string{"reason": refusedGC}) {
			n += s.GetCounter().GetValue()
		}
		return n
	}
	if n := gcRefusals(); n < 2 {
		t.Errorf("%v refusals counted for the collector, want at least the two above", n)
	}

	// Messages sent while squeezed: each taken or refused as busy.
	msgs := make([]ebReq, 8)
	taken := make([]bool, len(msgs))
	refused := 0
	for i := range msgs {
		msgs[i] = newReq(newID(t, 10+i))
		code, body := sendEb(t, g.base, msgs[i])
		if code == http.StatusAccepted {
			taken[i] = true
			continue
		}
		checkBusyFault(t, "a message while squeezed", code, body)
		refused++
	}
	code, body := sendEb(t, g.base, first)
	if code != http.StatusAccepted {
		checkBusyFault(t, "a duplicate while squeezed", code, body)
	}
	t.Logf("while squeezed: %d of %d messages refused, the duplicate HTTP %d; %v refusals for the collector", refused, len(msgs), code, gcRefusals())
	stop()

	for i, r := range msgs {
		if taken[i] {
			continue
		}
		waitFor(t, "a refused message taken once the pressure eased", func() bool {
			code, body := sendEb(t, g.base, r)
			if code != http.StatusAccepted {
				checkBusyFault(t, "a message sent again", code, body)
			}
			return code == http.StatusAccepted
		})
	}
	waitFor(t, "the duplicate acknowledged again", func() bool {
		code, _ := sendEb(t, g.base, first)
		return code == http.StatusAccepted
	})
	for _, r := range msgs {
		waitFor(t, "every message answered", func() bool { return mhs.answersTo(r.messageID) == 1 })
	}
	time.Sleep(200 * time.Millisecond) // a second processing or answer would show now
	for _, r := range append(msgs, first) {
		if n, a := proc.callsFor(r.messageID), mhs.answersTo(r.messageID); n != 1 || a != 1 {
			t.Errorf("%s processed %d times, answered %d times, want once each", r.messageID, n, a)
		}
	}
}

// TestOverloadEveryTakenAnsweredOnce: a gateway whose EPS is slow (one
// inbox worker, each message 2 ms, the first held until the doors
// refuse a message), offered far more than it can take
// by MHSs that send each refused message again (six senders, each
// sending its next message as soon as one is taken, at least eight each
// and new ones until one is refused), sheds the excess
// with the retryable busy fault while its workers are more than
// --max-queue-wait behind, and loses nothing: every message is taken in
// the end, processed once and answered once, and each refusal is the
// Spine-shaped busy fault (counted, reason queue_wait). The backlog it
// takes stays what its workers get through: no message is processed
// twice, none goes to the dead letters.
func TestOverloadEveryTakenAnsweredOnce(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			// EPS answers each message in 2 ms, and the first only once
			// the doors have refused one: the workers are behind for sure,
			// whatever the machine's speed.
			var calls atomic.Int64
			firstRefusal := make(chan struct{})
			refusedOnce := sync.OnceFunc(func() { close(firstRefusal) })
			proc.answer = func(in *Inbound, _ int) (*Outcome, error) {
				if calls.Add(1) == 1 {
					<-firstRefusal
				}
				time.Sleep(2 * time.Millisecond)
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
			}
			cfg := testConfig()
			cfg.InboxWorkers, cfg.MaxQueueWait = 1, 50*time.Millisecond
			g := startGateway(t, cfg, mk(t)(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			t.Cleanup(refusedOnce) // before the gateway stops, waiting for its worker
			// Each sender sends at least each messages, and new ones until
			// the doors have refused one.
			const senders, each = 6, 8
			var (
				mu      sync.Mutex
				sent    []string
				refused int
				bad     []string
				wg      sync.WaitGroup
			)
			client := &http.Client{Timeout: 10 * time.Second}
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-firstRefusal:
							if i >= each {
								return
							}
						default:
							if i == 100000 {
								return // the check below says why
							}
						}
						r := newReq(newID(t, 1000000*s+i))
						ct, action, body := r.build()
						for attempt := 0; ; attempt++ {
							if attempt == 500 {
								mu.Lock()
								bad = append(bad, r.messageID+": never taken")
								mu.Unlock()
								return
							}
							req, _ := http.NewRequest(http.MethodPost, g.base+PathEbXML, bytes.NewReader(body))
							req.Header.Set("Content-Type", ct)
							req.Header.Set("SOAPAction", `"`+action+`"`)
							resp, err := client.Do(req)
							if err != nil {
								mu.Lock()
								bad = append(bad, r.messageID+": "+err.Error())
								mu.Unlock()
								return
							}
							b, _ := io.ReadAll(resp.Body)
							resp.Body.Close()
							if resp.StatusCode == http.StatusAccepted {
								mu.Lock()
								sent = append(sent, r.messageID)
								mu.Unlock()
								break
							}
							f, ok := ebxml.ParseSOAPFaultWith(nil, b)
							if resp.StatusCode != http.StatusInternalServerError || !ok || len(f.Errors) != 1 ||
								f.Errors[0].Code != ebxml.TMSCodeSystemFailure || !strings.HasPrefix(f.Errors[0].Description, fmt.Sprintf("%d:", NumBusy)) {
								mu.Lock()
								bad = append(bad, fmt.Sprintf("%s: HTTP %d %s", r.messageID, resp.StatusCode, b))
								mu.Unlock()
								return
							}
							mu.Lock()
							refused++
							mu.Unlock()
							refusedOnce()
							time.Sleep(20 * time.Millisecond) // the MHS's retry interval
						}
					}
				}()
			}
			wg.Wait()
			if len(bad) > 0 {
				t.Fatalf("%d senders failed: %v", len(bad), bad)
			}
			if refused == 0 {
				t.Fatal("no message was refused: the gateway was not offered more than it takes")
			}
			for _, id := range sent {
				waitFor(t, "every message taken answered", func() bool { return mhs.answersTo(id) == 1 })
			}
			time.Sleep(200 * time.Millisecond) // a second processing or answer would show now
			for _, id := range sent {
				if n, a := proc.callsFor(id), mhs.answersTo(id); n != 1 || a != 1 {
					t.Errorf("%s processed %d times, answered %d times, want once each", id, n, a)
				}
			}
			if n := proc.numCalls(); n != len(sent) {
				t.Errorf("%d processings of %d messages, want one each", n, len(sent))
			}
			var counted float64
			for _, s := range metricSamples(t, g.srv.metrics, "porxgate_admission_refusals_total", map[string]string{"reason": refusedQueueWait}) {
				counted += s.GetCounter().GetValue()
			}
			if int(counted) != refused {
				t.Errorf("%v refusals counted for the queue's wait, the senders saw %d", counted, refused)
			}
			for _, s := range metricSamples(t, g.srv.metrics, "porxgate_messages_processed_total", nil) {
				for _, l := range s.GetLabel() {
					if l.GetName() == "outcome" && l.GetValue() != "done" && s.GetCounter().GetValue() > 0 {
						t.Errorf("%v processings ended %s, want every one done", s.GetCounter().GetValue(), l.GetValue())
					}
				}
			}
			t.Logf("%d messages taken, %d refusals sent again", len(sent), refused)
		})
	}
}

// BenchmarkBusyRefusal: what a busy refusal of a 25 KB message costs the
// process (client and server on loopback, the client's share the same
// in both), refused by a full door after its body is read (as every busy
// refusal was before session 20) and before (admission.early).
func BenchmarkBusyRefusal(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 25<<10)
	for _, tt := range []struct {
		name  string
		doors func(a *admission, last fiber.Handler) []fiber.Handler
	}{
		{"after the body", func(a *admission, last fiber.Handler) []fiber.Handler {
			return []fiber.Handler{readFrontBody(1 << 20), a.wrap(TransportEbXML, last)}
		}},
		{"before the body", func(a *admission, last fiber.Handler) []fiber.Handler {
			return []fiber.Handler{a.early(TransportEbXML), readFrontBody(1 << 20), a.wrap(TransportEbXML, last)}
		}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			a := newAdmission(1, 0, slog.New(slog.DiscardHandler), nil)
			h := holdOne(b, func(last fiber.Handler) []fiber.Handler { return tt.doors(a, last) })
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Post("http://"+h.addr+"/x", "text/xml", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusInternalServerError {
					b.Fatalf("status %d, want the busy refusal", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkQueueWaitRefusal: what a refusal of a new ebXML message costs
// the process (client and server on loopback) while the inbox workers
// are more than --max-queue-wait behind (none runs here: the first
// message waits), the memory store's duplicate check included.
func BenchmarkQueueWaitRefusal(b *testing.B) {
	cfg := testConfig()
	cfg.MaxQueueWait = time.Millisecond
	base := benchGatewayWith(b, cfg, newMemoryStore())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	send := func(id string) int {
		ct, action, body := newReq(id).build()
		return benchPost(b, client, base+PathEbXML, ct, action, body)
	}
	if code := send("00000000-0000-4000-8000-000000000001"); code != http.StatusAccepted {
		b.Fatalf("first message: HTTP %d", code)
	}
	time.Sleep(2 * queueWaitFresh) // it has waited past the bound, and the door read so
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if code := send(fmt.Sprintf("%08X-0000-4000-8000-%012X", i, 2)); code != http.StatusInternalServerError {
			b.Fatalf("HTTP %d, want the busy refusal", code)
		}
	}
}
