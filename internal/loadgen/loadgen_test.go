package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/testnet"
	v3 "github.com/porxgate/porxgate/v3"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.4.5:80", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.2", false},
		{"https://int.api.service.nhs.uk", false},
		{"not a url", false},
	}
	for _, tt := range tests {
		if err := CheckLoopback(tt.target); (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok %v", tt.target, err, tt.ok)
		}
	}
}

const template = `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="11111111-2222-4333-8444-555555555555"/><ControlActEvent><subject><ParentPrescription><pertinentInformation1><pertinentPrescription><id root="AAAAAAAA-2222-4333-8444-555555555555"/><id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="C1D2E3-A99968-00A1BM"/></pertinentPrescription></pertinentInformation1></ParentPrescription></subject></ControlActEvent></PORX_IN020101UK31>`

// TestRunSendsDistinctValidPrescriptions runs a small load against a fake
// gateway on a real socket and checks every message is a well-formed ebXML
// prescription with its own message id and a valid, unique short-form id.
func TestRunSendsDistinctValidPrescriptions(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	msgIDs := map[string]bool{}
	shortRE := regexp.MustCompile(`extension="([0-9A-F]{6}-A99968-[0-9A-F]{5}.)"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/queues" {
			_, _ = io.WriteString(w, `{"inbox":0}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		m, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sm := shortRE.FindSubmatch(m.Payload.Body)
		mu.Lock()
		defer mu.Unlock()
		if sm == nil || v3.ValidateShortFormID(string(sm[1])) != nil || seen[string(sm[1])] || msgIDs[m.MessageID] {
			http.Error(w, "bad or repeated id", 500)
			return
		}
		seen[string(sm[1])], msgIDs[m.MessageID] = true, true
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Target: srv.URL, Messages: 50, Concurrency: 4, Timeout: 10 * time.Second, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 50 || res.Refused != 0 || !res.Drained {
		t.Fatalf("result %+v", res)
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct short-form ids, want 50", len(seen))
	}
}

// TestClosedLoopByDuration runs a closed loop bounded by time, not count:
// the senders keep going until the duration has passed, then stop.
func TestClosedLoopByDuration(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/queues" {
			_, _ = io.WriteString(w, `{"inbox":0}`)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	const d = 300 * time.Millisecond
	res, err := Run(context.Background(), Options{Target: srv.URL, Duration: d, Concurrency: 2, Timeout: 10 * time.Second, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted == 0 || res.Refused != 0 || int64(res.Sent) != got.Load() || !res.Drained {
		t.Fatalf("result %+v, server saw %d", res, got.Load())
	}
	if res.AcceptElapsed < d {
		t.Fatalf("senders stopped after %s, before the %s duration", res.AcceptElapsed, d)
	}
	if res.SendLag.N != 0 {
		t.Fatalf("closed loop reported a send lag %v: a message is due when its sender picks it up", res.SendLag)
	}
}

func TestRunRefusesRemoteTarget(t *testing.T) {
	if _, err := Run(context.Background(), Options{Target: "http://10.1.2.3:8080", Messages: 1, Concurrency: 1, Timeout: time.Second, Template: []byte(template)}); err == nil {
		t.Fatal("a non-loopback target was accepted")
	}
}

// answeringGateway is a fake gateway on a real socket that acknowledges each
// prescription and then delivers an MCCI answer for it to recv, twice for
// the first message when repeatFirst is set.
func answeringGateway(t *testing.T, recv *Receiver, repeatFirst bool) *httptest.Server {
	t.Helper()
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		times := 1
		once.Do(func() {
			if repeatFirst {
				times = 2
			}
		})
		go func() {
			for range times {
				deliver(t, recv.URL(), m)
			}
		}()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// deliver posts an MCCI AA answer in m's conversation to url.
func deliver(t *testing.T, url string, m *ebxml.Message) {
	t.Helper()
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: m.ToPartyID, ToPartyID: m.FromPartyID, CPAID: m.CPAID, ConversationID: m.ConversationID,
		Action: "MCCI_IN010000UK13", MessageID: "A" + m.MessageID[1:], RefToMessageID: m.MessageID, Timestamp: time.Now(),
		Payload: []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`),
	})
	if err != nil {
		t.Error(err)
		return
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
}

// TestOpenLoopMeasuresAnswers runs an open-loop load against a gateway
// that answers every message, and checks every answer was matched to its
// message, latencies were measured for each, and a repeated answer counted.
func TestOpenLoopMeasuresAnswers(t *testing.T) {
	recv, err := StartReceiver("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	gw := answeringGateway(t, recv, true)
	res, err := Run(context.Background(), Options{Target: gw.URL, Rate: 400, Messages: 40, Timeout: 20 * time.Second,
		Template: []byte(template), Receiver: recv})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "open-loop" || res.Accepted != 40 || res.Answered != 40 || !res.Drained {
		t.Fatalf("result %+v", res)
	}
	if res.Ack.N != 40 || res.Answer.N != 40 || res.Codes["AA"] != 40 || res.AnsweredTwice != 1 {
		t.Fatalf("ack %v answer %v codes %v twice %d", res.Ack, res.Answer, res.Codes, res.AnsweredTwice)
	}
	if res.Answer.Max < res.Answer.P50 || res.Answer.P50 <= 0 {
		t.Fatalf("answer latencies out of order: %v", res.Answer)
	}
	if res.SendLag.N != 40 || res.SendLag.Max > res.Ack.Max {
		t.Fatalf("send lag %v: want one sample a message, none above the largest acknowledgement latency %s", res.SendLag, res.Ack.Max)
	}
	if _, ok := processCPU(); ok && (res.CPU <= 0 || res.CPUPerMessage() <= 0 || res.CPUShare() <= 0) {
		t.Fatalf("the run's own CPU was not measured: %s, %s per message, %.3f of a core", res.CPU, res.CPUPerMessage(), res.CPUShare())
	}
}

// TestResultCPUFigures checks the per-message and per-core arithmetic of
// the load generator's own CPU time.
func TestResultCPUFigures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		res        Result
		perMessage time.Duration
		share      float64
	}{
		{"busy half a core", Result{Sent: 1000, CPU: 500 * time.Millisecond, DrainElapsed: time.Second}, 500 * time.Microsecond, 0.5},
		{"two cores", Result{Sent: 10, CPU: 4 * time.Second, DrainElapsed: 2 * time.Second}, 400 * time.Millisecond, 2},
		{"nothing sent", Result{CPU: time.Second, DrainElapsed: time.Second}, 0, 1},
		{"no elapsed time", Result{Sent: 4, CPU: time.Second}, 250 * time.Millisecond, 0},
		{"not measured", Result{Sent: 4, DrainElapsed: time.Second}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.res.CPUPerMessage(); got != tc.perMessage {
				t.Errorf("CPUPerMessage = %s, want %s", got, tc.perMessage)
			}
			if got := tc.res.CPUShare(); got != tc.share {
				t.Errorf("CPUShare = %v, want %v", got, tc.share)
			}
		})
	}
}

// TestProcessCPUGrows checks that the process CPU clock moves with work.
func TestProcessCPUGrows(t *testing.T) {
	before, ok := processCPU()
	if !ok {
		t.Skip("this system does not report process CPU time")
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, _ := processCPU()
	if after <= before {
		t.Fatalf("process CPU %s → %s after %d spins", before, after, x)
	}
}

// TestOpenLoopKeepsSchedule checks that an open-loop run does not wait for
// a slow gateway: with every answer taking 200 ms, 20 messages at 100/s
// are all sent within about 0.2 s of each other, not one after another.
func TestOpenLoopKeepsSchedule(t *testing.T) {
	var mu sync.Mutex
	var first, last time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if first.IsZero() {
			first = now
		}
		last = now
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	srvAdmin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"inbox":0}`)
	}))
	defer srvAdmin.Close()
	res, err := Run(context.Background(), Options{Target: srv.URL, AdminURL: srvAdmin.URL, Rate: 100, Messages: 20,
		Timeout: 20 * time.Second, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 20 {
		t.Fatalf("result %+v", res)
	}
	// Closed loop with one sender would take 20 × 200 ms = 4 s to reach the
	// last message; open loop sends it 190 ms after the first.
	if spread := last.Sub(first); spread > 2*time.Second {
		t.Fatalf("last message arrived %s after the first: the schedule waited for answers", spread)
	}
	// Latency counts from the due time, so it includes the 200 ms the
	// gateway took.
	if res.Ack.P50 < 200*time.Millisecond {
		t.Fatalf("ack p50 %s below the gateway's 200 ms", res.Ack.P50)
	}
}

func TestSummarisePercentiles(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = ms(n - i) // reversed: summarise must sort
		}
		return s
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Latencies
	}{
		{"empty", nil, Latencies{}},
		{"one", []time.Duration{ms(7)}, Latencies{N: 1, P50: ms(7), P99: ms(7), P999: ms(7), Max: ms(7)}},
		{"hundred", seq(100), Latencies{N: 100, P50: ms(50), P99: ms(99), P999: ms(100), Max: ms(100)}},
		{"thousand", seq(1000), Latencies{N: 1000, P50: ms(500), P99: ms(990), P999: ms(999), Max: ms(1000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarise(tt.in); got != tt.want {
				t.Fatalf("summarise = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOptionsCheck(t *testing.T) {
	ok := Options{Target: "http://127.0.0.1:1", Messages: 1, Concurrency: 1, Timeout: time.Second}
	tests := []struct {
		name string
		edit func(*Options)
		ok   bool
	}{
		{"closed loop", func(*Options) {}, true},
		{"open loop by count", func(o *Options) { o.Rate, o.Concurrency = 10, 0 }, true},
		{"open loop by duration", func(o *Options) { o.Rate, o.Messages, o.Duration = 10, 0, time.Second }, true},
		{"open loop with nothing to send", func(o *Options) { o.Rate, o.Messages = 10, 0 }, false},
		{"closed loop by duration", func(o *Options) { o.Messages, o.Duration = 0, time.Second }, true},
		{"closed loop with nothing to send", func(o *Options) { o.Messages = 0 }, false},
		{"negative rate", func(o *Options) { o.Rate = -1 }, false},
		{"no senders", func(o *Options) { o.Concurrency = 0 }, false},
		{"no timeout", func(o *Options) { o.Timeout = 0 }, false},
		{"remote admin", func(o *Options) { o.AdminURL = "http://10.0.0.1:8080" }, false},
		// Typos with a few zeros too many: 'load --n 2000000000' died out of
		// memory, '--concurrency 2000000000' started senders until killed,
		// and '--duration -1s' was ignored.
		{"messages by the billion", func(o *Options) { o.Messages = 2_000_000_000 }, false},
		{"open loop by the billion", func(o *Options) { o.Rate, o.Messages, o.Duration = 1e12, 0, time.Second }, false},
		{"senders by the billion", func(o *Options) { o.Concurrency = 2_000_000_000 }, false},
		{"negative duration", func(o *Options) { o.Duration = -time.Second }, false},
		{"negative count", func(o *Options) { o.Messages = -1; o.Duration = time.Second }, false},
		{"at the bounds", func(o *Options) { o.Messages, o.Concurrency = MaxMessages, MaxConcurrency }, true},
		{"negative connections", func(o *Options) { o.Rate, o.Connections = 10, -1 }, false},
		{"connections by the billion", func(o *Options) { o.Rate, o.Connections = 10, 2_000_000_000 }, false},
		{"several clients", func(o *Options) { o.Rate, o.Clients = 10, MaxClients }, true},
		{"clients past the loopback addresses", func(o *Options) { o.Rate, o.Clients = 10, MaxClients+1 }, false},
		{"negative clients", func(o *Options) { o.Clients = -1 }, false},
		{"several clients to localhost", func(o *Options) { o.Rate, o.Clients, o.Target = 10, 2, "http://localhost:1" }, true},
		{"several clients to IPv6 loopback", func(o *Options) { o.Rate, o.Clients, o.Target = 10, 2, "http://[::1]:1" }, false},
		{"several clients with a given HTTP client", func(o *Options) { o.Rate, o.Clients, o.Client = 10, 2, http.DefaultClient }, false},
		{"closed loop, more clients than senders", func(o *Options) { o.Clients, o.Concurrency = 3, 2 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			if err := o.check(); (err == nil) != tt.ok {
				t.Fatalf("check() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestReceiverRefusesRemoteAddress(t *testing.T) {
	if r, err := StartReceiver("10.0.0.1:0"); err == nil {
		r.Close()
		t.Fatal("a receiver listened on a non-loopback address")
	}
}

// connCounter counts the connections a test server accepts: in all, at
// most at once, and by the client's address.
type connCounter struct {
	mu             sync.Mutex
	open, max, all int
	byAddr         map[string]int
	requestsByAddr map[string]int
}

// serve starts a server on a real loopback socket whose handler is h,
// counting its connections (with those of the servers cc started before).
func (cc *connCounter) serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	cc.mu.Lock() // a server started before may be counting already
	if cc.byAddr == nil {
		cc.byAddr, cc.requestsByAddr = map[string]int{}, map[string]int{}
	}
	cc.mu.Unlock()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		cc.mu.Lock()
		cc.requestsByAddr[host]++
		cc.mu.Unlock()
		h(w, r)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		switch s {
		case http.StateNew:
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			cc.open++
			cc.all++
			cc.byAddr[host]++
			cc.max = max(cc.max, cc.open)
		case http.StateClosed, http.StateHijacked:
			cc.open--
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// counts returns the connections accepted in all and the most open at once.
func (cc *connCounter) counts() (all, most int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.all, cc.max
}

// inboxEmpty is an admin listener whose inbox is always empty.
func inboxEmpty(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"inbox":0}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOpenLoopKeepsItsConnections drives an open loop far past what the
// target takes, and checks that the target never sees more connections
// than the bound, while every message is still sent and its wait for a
// connection is counted. The target takes at least 20 ms a message on
// each of 4 connections (200 msgs/s at most) and 200 messages fall due
// within 0.1 s (2,000 msgs/s). Before the bound, the run opened a
// connection for each message still waiting.
func TestOpenLoopKeepsItsConnections(t *testing.T) {
	var cc connCounter
	srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	})
	const n, conns = 200, 4
	res, err := Run(context.Background(), Options{Target: srv.URL, AdminURL: inboxEmpty(t).URL, Rate: 2000, Messages: n, Connections: conns,
		Timeout: time.Minute, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	all, most := cc.counts()
	if all > conns || most > conns {
		t.Fatalf("the target accepted %d connections, %d at once: more than the bound of %d", all, most, conns)
	}
	if res.Sent != n || res.Accepted != n || res.Refused != 0 || res.Unsent != 0 || res.Connections != conns {
		t.Fatalf("result %+v", res)
	}
	// Only the first 4 messages find a connection free when they fall
	// due: the 4 connections come free after 20 ms at the soonest, by
	// when 40 more have fallen due, and so on (the last, due at 99.5 ms,
	// is taken after 49 rounds of 20 ms or more).
	if res.ConnWait.N < n/2 || res.ConnWait.Max < 500*time.Millisecond {
		t.Fatalf("%v waited for a connection; want most of the %d messages, the longest wait over 0.5 s", res.ConnWait, n)
	}
	// The wait is inside the latency (counted from the due time), not in
	// the generator's own send lag.
	if res.Ack.N != n || res.Ack.Max < res.ConnWait.Max || res.SendLag.N != n || res.SendLag.Max >= res.ConnWait.Max {
		t.Fatalf("ack %v, send lag %v, connection wait %v: want the wait inside the acknowledgement latency and not in the send lag", res.Ack, res.SendLag, res.ConnWait)
	}
}

// TestOpenLoopCountsWhatItCouldNotSend: a run whose timeout comes while
// messages wait for a connection says how many fell due and were never
// sent, apart from the one refused (its request cut by the timeout).
func TestOpenLoopCountsWhatItCouldNotSend(t *testing.T) {
	release := make(chan struct{})
	var cc connCounter
	srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		select { // never answers a message: the run's timeout cuts it
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	res, err := Run(context.Background(), Options{Target: srv.URL, AdminURL: inboxEmpty(t).URL, Rate: 100, Messages: 10, Connections: 1,
		Timeout: 500 * time.Millisecond, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || res.Refused != 1 || res.Accepted != 0 || res.Unsent != 9 || !strings.Contains(res.FirstError, "deadline exceeded") {
		t.Fatalf("sent %d, refused %d, accepted %d, unsent %d, first error %q; want 1 sent and refused by the timeout, 9 unsent",
			res.Sent, res.Refused, res.Accepted, res.Unsent, res.FirstError)
	}
}

// TestOpenLoopSaysTheTargetRefused: a target that refuses every
// connection, or every message as busy, is reported as refusing each
// message, with the first refusal as it came.
func TestOpenLoopSaysTheTargetRefused(t *testing.T) {
	closed := "http://" + testnet.RefusingAddr(t) // bound, never listening
	fault, err := ebxml.BuildSOAPFault(ebxml.SOAPFault{FaultCode: ebxml.FaultCodeServer, FaultString: "Application Exception",
		Errors: []ebxml.SOAPError{{Code: ebxml.TMSCodeSystemFailure, Description: "910010:the gateway is busy (this sender has 96 messages in hand); send it again"}}})
	if err != nil {
		t.Fatal(err)
	}
	var cc connCounter
	busy := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(fault)
	})
	errorList, err := ebxml.BuildMessageError(nil, "", time.Now(), ebxml.NewMessageError(ebxml.CodeInconsistent, 501319, "Unknown eb:CPAId"))
	if err != nil {
		t.Fatal(err)
	}
	refusesCPA := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(errorList)
	})
	plain := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "no route", http.StatusNotFound)
	})
	for _, tc := range []struct {
		name, target, want string
	}{
		{"connections refused", closed, "connection refused"},
		// The fault's code and description, not the start of its XML.
		{"messages refused as busy", busy.URL, "HTTP 500: soap fault Application Exception; 200 910010:the gateway is busy (this sender has 96 messages in hand)"},
		{"messages refused with an eb:ErrorList", refusesCPA.URL, "HTTP 500: ebxml: remote MessageError for : Inconsistent 501319:Unknown eb:CPAId"},
		{"messages refused in plain text", plain.URL, "HTTP 404: no route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Target: tc.target, AdminURL: inboxEmpty(t).URL, Rate: 1000, Messages: 20, Connections: 2,
				Timeout: time.Minute, Template: []byte(template)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 20 || res.Refused != 20 || res.Accepted != 0 || res.Unsent != 0 || !strings.Contains(res.FirstError, tc.want) {
				t.Fatalf("sent %d, refused %d, accepted %d, unsent %d, first error %q; want all 20 refused, %q", res.Sent, res.Refused, res.Accepted, res.Unsent, res.FirstError, tc.want)
			}
		})
	}
	if all, _ := cc.counts(); all > 6 {
		t.Fatalf("the three refusing targets accepted %d connections, more than the bound of 2 each", all)
	}
}

// TestClientsComeFromTheirOwnAddresses: a run of several clients
// connects from one loopback address each, as the gateway tells senders
// apart, each within its own bound of connections and with its share of
// the messages, in the open loop and the closed loop.
func TestClientsComeFromTheirOwnAddresses(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		// conns is the bound on each client's connections.
		conns int
	}{
		{"open loop", Options{Rate: 1000, Messages: 60, Clients: 3, Connections: 2}, 2},
		{"closed loop", Options{Messages: 60, Clients: 3, Concurrency: 6}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cc connCounter
			srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
			})
			o := tc.o
			o.Target, o.AdminURL, o.Timeout, o.Template = srv.URL, inboxEmpty(t).URL, time.Minute, []byte(template)
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 60 || len(res.ByClient) != 3 {
				t.Fatalf("result %+v", res)
			}
			cc.mu.Lock()
			defer cc.mu.Unlock()
			for c, counts := range res.ByClient {
				addr := fmt.Sprintf("127.0.0.%d", c+1)
				// The open loop sends every third message from each; in the
				// closed loop each sender takes the next message when it is
				// answered, so the shares differ.
				fair := tc.o.Rate == 0 || counts.Sent == 20
				if counts.Addr != addr || counts.Sent == 0 || counts.Accepted != counts.Sent || cc.requestsByAddr[addr] != counts.Sent || !fair {
					t.Errorf("client %d: %+v, the target saw %d messages from %s; want as many, all accepted (20 in the open loop)", c, counts, cc.requestsByAddr[addr], addr)
				}
				if k := cc.byAddr[addr]; k < 1 || k > tc.conns {
					t.Errorf("%d connections from %s; want 1 to %d", k, addr, tc.conns)
				}
			}
			if len(cc.byAddr) != 3 {
				t.Errorf("connections from %v; want from the 3 clients' addresses alone", cc.byAddr)
			}
		})
	}
}

// TestRefusalText reads what a target refused a message with: malformed
// or partial faults and lists are told as the body's start, never lost.
func TestRefusalText(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", "HTTP 500: "},
		{"not XML", "busy, try later", "HTTP 500: busy, try later"},
		{"cut-off fault", `<?xml version="1.0"?><SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body><SOAP:Fault><faultcode>`,
			`HTTP 500: <?xml version="1.0"?><SOAP:Envelope`},
		{"fault without detail", `<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><faultstring>down</faultstring></SOAP:Fault></SOAP:Body></SOAP:Envelope>`,
			"HTTP 500: soap fault down"},
		{"envelope without a fault", `<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body/></SOAP:Envelope>`,
			`HTTP 500: <SOAP:Envelope`},
		{"long body cut at 200 bytes", long, "HTTP 500: " + long[:200]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := refusalText(http.StatusInternalServerError, []byte(tc.body))
			if !strings.HasPrefix(got, tc.want) || tc.name == "long body cut at 200 bytes" && got != tc.want {
				t.Fatalf("refusalText = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzRefusalText: whatever a target answers, the refusal is told, as
// "HTTP <status>: ...", without a panic.
func FuzzRefusalText(f *testing.F) {
	for _, s := range []string{"", "busy", `<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode></SOAP:Fault></SOAP:Body></SOAP:Envelope>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := refusalText(http.StatusInternalServerError, body)
		if !strings.HasPrefix(got, "HTTP 500: ") {
			t.Fatalf("refusalText = %q", got)
		}
	})
}
