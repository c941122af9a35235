// Package loadgen drives a bounded load of legacy ebXML Parent Prescriptions
// at a porxgate gateway on this machine, closed-loop (a fixed number of
// senders) or open-loop (a fixed rate over a bounded pool of connections,
// latencies measured from each message's due time), from one client
// address or several, and measures how fast and how soon the gateway
// accepts them (HTTP 202 with an eb:Acknowledgment) and answers them (each
// message mapped, sent to EPS FHIR, and its answer delivered to a legacy
// MHS receiver the run starts).
//
// It only targets loopback addresses: a load run never leaves the machine.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// LoadgenParty is the party key load messages come from by default; the
// gateway's routing table sends its answers to the Receiver.
const LoadgenParty = "LOADGEN-000001"

// requestWriteBuffer is the HTTP client's write buffer: room for a whole
// ebXML prescription (about 20 KB).
const requestWriteBuffer = 64 << 10

// Options configure a load run.
type Options struct {
	// Target is the gateway's base URL, e.g. http://127.0.0.1:8080.
	Target string
	// AdminURL is where the gateway's /admin/queues answers, for the inbox
	// drain check when there is no Receiver; empty: Target.
	AdminURL string
	// AdminToken is the bearer token the admin listener asks for; empty
	// sends none.
	AdminToken string
	// Messages is how many prescriptions to send (each with its own ids).
	// Zero with a Duration: in open-loop mode Rate × Duration, in
	// closed-loop mode as many as the senders get through in Duration.
	Messages int
	// Concurrency is how many senders post at once in closed-loop mode.
	Concurrency int
	// Rate, when positive, selects open-loop mode: messages are due at a
	// fixed rate (msgs/s) whatever the gateway's answers, each sent on the
	// next free one of Connections connections, and every latency is
	// measured from the time the message was due, any wait for a
	// connection included (so a slow gateway cannot hide its queueing: no
	// coordinated omission).
	Rate float64
	// Connections bounds the open loop's connections to the target, per
	// client (Clients): a message that falls due while all are busy waits
	// for the first to be free (Result.ConnWait), instead of opening
	// another, as a legacy MHS keeps a bounded pool. Zero:
	// DefaultConnections. The closed loop has one per sender of
	// Concurrency and does not use it.
	Connections int
	// Clients, above 1, spreads the messages over that many clients, as
	// the gateway counts them: each connects from its own loopback address
	// (127.0.0.1, 127.0.0.2, ...) with its own connections. The gateway
	// tells senders apart by address when they present no client
	// certificate, so each holds its own --max-in-flight-per-client share,
	// as separate suppliers' systems do. In the open loop message i goes
	// from client i mod Clients (Connections each); in the closed loop
	// sender w of Concurrency sends from client w mod Clients. It needs an
	// IPv4 loopback or localhost target and Client nil. Zero or 1: one
	// client, from the address the system picks.
	Clients int
	// Duration is how long a run sends, when Messages is zero.
	Duration time.Duration
	// Timeout bounds the whole run, sending and draining.
	Timeout time.Duration
	// Template is a UK-family ParentPrescription whose short-form id and
	// message id are replaced per message.
	Template []byte
	// FromParty is the eb:PartyId the messages come from; empty: LoadgenParty.
	FromParty string
	// Receiver, when set, takes the gateway's answers: the run then waits
	// for an answer to every accepted message and measures answer latency.
	Receiver *Receiver
	// Client sends the requests; nil sends them over the load generator's
	// own keep-alive connections (connPool) per client (Clients), at most
	// Connections of them in the open loop, each message written whole in
	// one write (a target that is not plain http goes through net/http's
	// client instead).
	Client *http.Client
}

// DefaultConnections is the open loop's bound on connections per client
// when Options.Connections is zero: the gateway's default
// --max-handshakes-per-client (64), so that opening them all at once is
// not refused, and under its default --max-in-flight-per-client share (96
// of 128), so that one client's connections alone never hold it. Before
// the bound, an open loop the gateway fell behind opened a connection per
// message still waiting: thousands, all counted against one sender.
const DefaultConnections = 64

// MaxClients is the most clients of a run: one loopback address each,
// 127.0.0.1 to 127.0.0.254.
const MaxClients = 254

// Result is what a run measured.
type Result struct {
	// Mode is "open-loop" or "closed-loop".
	Mode                    string
	Sent, Accepted, Refused int
	// AcceptElapsed is the time to send every message and get its answer.
	AcceptElapsed time.Duration
	// DrainElapsed is the time from the first send until every accepted
	// message was answered (with a Receiver) or the gateway's inbox was
	// empty again (without one).
	DrainElapsed time.Duration
	// Drained is false when that did not happen within the timeout.
	Drained bool
	// Ack is the latency from a message's due time to its HTTP 202.
	Ack Latencies
	// SendLag (open loop only) is the load generator's own delay: from a
	// message's due time, or from when a connection was free for it if it
	// waited for one (ConnWait), to the moment it starts sending it. It is
	// inside Ack and Answer; when it is a large part of them the
	// generator, not the gateway, was late.
	SendLag Latencies
	// Connections (open loop only) is the bound on connections per client
	// the run kept (Options.Connections resolved).
	Connections int
	// ConnWait (open loop only) is the wait of each message that fell due
	// while every connection of its client was busy, from its due time
	// until one was free: N counts them (0: none waited), Max is the
	// longest wait. It is inside Ack and Answer, not in SendLag.
	ConnWait Latencies
	// Unsent (open loop only) counts the messages that fell due but were
	// never sent: the run's timeout came, or it was interrupted, while
	// they waited for a connection. They are in neither Sent nor Refused.
	Unsent int
	// ByClient holds each client's counts when the run had more than one
	// (Options.Clients), in order of address.
	ByClient []ClientCounts
	// Answer is the latency from a message's due time to the arrival of its
	// answer at the Receiver (zero without one).
	Answer Latencies
	// Answered counts the accepted messages whose answer arrived;
	// AnsweredTwice the answers that came again for one message; Codes the
	// answers by acknowledgement type code (AA, AE, AR) or interaction.
	Answered, AnsweredTwice int
	Codes                   map[string]int
	// FirstError is the first refusal or transport error met.
	FirstError string
	// CPU is the CPU time (user and system) this process used from the
	// first send until the run was processed: the load generator's own
	// cost, and an in-process gateway's too when Target is one. Zero when
	// the system does not tell it.
	CPU time.Duration
}

// ClientCounts are one client's messages in a run of several
// (Options.Clients).
type ClientCounts struct {
	// Addr is the loopback address the client connected from.
	Addr                    string
	Sent, Accepted, Refused int
}

// CPUPerMessage is the run's CPU time per message sent (zero when either
// is unknown).
func (r Result) CPUPerMessage() time.Duration {
	if r.Sent == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Sent)
}

// CPUShare is the run's CPU time as a share of one core over the time from
// the first send until the run was processed (1 = one core busy
// throughout). A load generator near 1 was itself the bottleneck: its
// latencies then include its own queueing.
func (r Result) CPUShare() float64 {
	if r.DrainElapsed <= 0 {
		return 0
	}
	return r.CPU.Seconds() / r.DrainElapsed.Seconds()
}

// AcceptRate is accepted messages per second of AcceptElapsed.
func (r Result) AcceptRate() float64 { return rate(r.Accepted, r.AcceptElapsed) }

// ProcessRate is processed messages (answered, or drained from the inbox)
// per second of DrainElapsed.
func (r Result) ProcessRate() float64 {
	if r.Answer.N > 0 {
		return rate(r.Answered, r.DrainElapsed)
	}
	return rate(r.Accepted, r.DrainElapsed)
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// CheckLoopback refuses a target that is not on this machine.
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("load target %q: want a URL such as http://127.0.0.1:8080", target)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load target %q: only loopback addresses (127.0.0.0/8, ::1, localhost) may be load-tested", target)
	}
	return nil
}

// run is one load run's shared state.
type run struct {
	o       Options
	shortID string
	ods     string
	stamp   uint32
	// clients send the requests, one per client of Options.Clients, over
	// the load generator's own connections (pools) unless Options.Client
	// is given or the target is not plain http.
	clients []*http.Client
	pools   []*connPool
	// tpl is the message each request is a copy of.
	tpl  *requestTemplate
	ack  *recorder
	lag  *recorder // open loop: due time, or a free connection, to send
	wait *recorder // open loop: the waits for a free connection
	mu   sync.Mutex
	res  Result
}

// Run sends the load and waits until it is processed: every accepted
// message answered (with a Receiver) or the gateway's inbox empty.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	shortID, ods, err := templateIDs(o.Template)
	if err != nil {
		return Result{}, err
	}
	if o.FromParty == "" {
		o.FromParty = LoadgenParty
	}
	if o.Rate > 0 && o.Messages == 0 {
		o.Messages = int(o.Rate * o.Duration.Seconds())
	}
	if o.Rate > 0 && o.Connections == 0 {
		o.Connections = DefaultConnections
	}
	clients := o.httpClients()
	ownConns := o.Client == nil
	if o.Client == nil {
		o.Client = clients[0] // for the drain check too
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	r := &run{o: o, shortID: shortID, ods: ods, stamp: uint32(time.Now().UnixNano()), clients: clients, ack: newRecorder(o.Messages)}
	if err := r.connect(ctx, ownConns); err != nil {
		return Result{}, err
	}
	defer r.disconnect()
	if len(clients) > 1 {
		r.res.ByClient = make([]ClientCounts, len(clients))
		for c := range r.res.ByClient {
			r.res.ByClient[c].Addr = clientIP(c).String()
		}
	}
	cpu0, cpuOK := processCPU()
	start := time.Now()
	if o.Rate > 0 {
		r.res.Mode = "open-loop"
		r.res.Connections = o.Connections
		r.lag, r.wait = newRecorder(o.Messages), newRecorder(0)
		r.openLoop(ctx, start)
		r.res.ConnWait = r.wait.summary()
	} else {
		r.res.Mode = "closed-loop"
		r.closedLoop(ctx, start)
	}
	r.res.AcceptElapsed = time.Since(start)
	r.res.Ack = r.ack.summary()
	if r.lag != nil {
		r.res.SendLag = r.lag.summary()
	}
	if o.Receiver != nil {
		r.res.Drained = o.Receiver.waitAnswers(ctx, r.res.Accepted)
		n, twice, _, codes, last, lat := o.Receiver.answers()
		r.res.Answered, r.res.AnsweredTwice, r.res.Codes, r.res.Answer = n, twice, codes, lat
		r.res.DrainElapsed = time.Since(start)
		if !last.IsZero() && r.res.Drained {
			r.res.DrainElapsed = last.Sub(start)
		}
	} else {
		r.res.Drained = waitDrained(ctx, o)
		r.res.DrainElapsed = time.Since(start)
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		r.res.CPU = cpu1 - cpu0
	}
	return r.res, nil
}

// connect makes the message template and, with ownConns (Options.Client
// not given) and a plain http target, each client's pool of connections.
func (r *run) connect(ctx context.Context, ownConns bool) error {
	o := r.o
	u, err := url.Parse(o.Target)
	if err != nil {
		return fmt.Errorf("load target %q: %w", o.Target, err)
	}
	host, path := "", ""
	if ownConns && u.Scheme == "http" {
		host, path = u.Host, strings.TrimRight(u.EscapedPath(), "/")+requestPath
	}
	if r.tpl, err = newRequestTemplate(o.Template, r.shortID, o.FromParty, host, path); err != nil {
		return err
	}
	if host == "" {
		return nil
	}
	r.pools = make([]*connPool, len(r.clients))
	for c := range r.pools {
		var local net.Addr
		if c > 0 {
			local = &net.TCPAddr{IP: clientIP(c)}
		}
		if r.pools[c], err = newConnPool(ctx, o.Target, local); err != nil {
			return err
		}
	}
	return nil
}

// disconnect closes the connections the run kept.
func (r *run) disconnect() {
	for _, p := range r.pools {
		p.close()
	}
}

// check validates the options: the targets, then the settings.
func (o Options) check() error {
	if err := CheckLoopback(o.Target); err != nil {
		return err
	}
	if o.AdminURL != "" {
		if err := CheckLoopback(o.AdminURL); err != nil {
			return err
		}
	}
	if err := o.CheckSettings(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if o.Clients > 1 && !ipv4Loopback(o.Target) {
		return fmt.Errorf("load: several clients need an IPv4 loopback target (127.0.0.0/8 or localhost), not %q: each connects from its own 127.0.0.x address", o.Target)
	}
	return nil
}

// CheckSettings validates the options other than Target and AdminURL, so
// that a command can refuse bad settings before it starts a receiver or a
// gateway to aim at. Its errors name the setting without a prefix; Run
// gives them "load: ".
func (o Options) CheckSettings() error {
	switch {
	case o.Rate < 0:
		return errors.New("rate must not be negative")
	case o.Rate > 0 && o.Messages <= 0 && o.Duration <= 0:
		return errors.New("an open-loop run needs a message count or a duration")
	case o.Rate == 0 && o.Concurrency <= 0:
		return errors.New("concurrency must be positive")
	case o.Rate == 0 && o.Messages <= 0 && o.Duration <= 0:
		return errors.New("a closed-loop run needs a message count or a duration")
	case o.Timeout <= 0:
		return errors.New("timeout must be positive")
	case o.Duration < 0:
		return errors.New("duration must not be negative")
	case o.Messages < 0:
		return errors.New("message count must not be negative")
	case o.Messages > MaxMessages || o.Rate > 0 && o.Messages == 0 && o.Rate*o.Duration.Seconds() > MaxMessages:
		return fmt.Errorf("at most %d messages in a run (its latencies are kept per message)", MaxMessages)
	case o.Rate == 0 && o.Concurrency > MaxConcurrency:
		return fmt.Errorf("at most %d concurrent senders", MaxConcurrency)
	case o.Connections < 0:
		return errors.New("connections must not be negative")
	case o.Connections > MaxConcurrency:
		return fmt.Errorf("at most %d connections a client", MaxConcurrency)
	case o.Clients < 0 || o.Clients > MaxClients:
		return fmt.Errorf("clients must be 0 to %d (one loopback address each)", MaxClients)
	case o.Clients > 1 && o.Client != nil:
		return errors.New("several clients need the load generator's own HTTP clients (Client nil)")
	case o.Clients > 1 && o.Rate == 0 && o.Clients > o.Concurrency:
		return fmt.Errorf("%d clients with %d concurrent senders: a closed loop needs a sender for each client at least", o.Clients, o.Concurrency)
	}
	return nil
}

// ipv4Loopback reports whether target's host is an IPv4 loopback address
// or localhost (dialled over IPv4 from a 127.0.0.x address).
func ipv4Loopback(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.To4() != nil && ip.IsLoopback()
}

// clientIP is client c's loopback address, 127.0.0.(c+1).
func clientIP(c int) net.IP { return net.IPv4(127, 0, 0, byte(c+1)) }

// httpClients returns the HTTP client of each client of the run: Client
// when given, else one per client (Clients) with keep-alive and a write
// buffer that holds a whole message, so that each request goes out in
// one write, not one per 4 KiB. Each keeps at most Connections
// connections to a host in the open loop, so that the gateway never sees
// more from it however far behind it falls, and its share of Concurrency
// in the closed loop (without the bound, a sender whose next request
// came before its last connection was back in the idle pool opened
// another). Client c > 0 connects from clientIP(c), client 0 from the
// address the system picks (127.0.0.1 to a 127.x target).
func (o Options) httpClients() []*http.Client {
	if o.Client != nil {
		return []*http.Client{o.Client}
	}
	n := max(1, o.Clients)
	conns := max(1, (o.Concurrency+n-1)/n)
	if o.Rate > 0 {
		conns = o.Connections
	}
	out := make([]*http.Client, n)
	for c := range out {
		tr := &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, WriteBufferSize: requestWriteBuffer}
		if c > 0 {
			tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: clientIP(c)}}).DialContext
		}
		out[c] = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	return out
}

// Bounds of one run: a count or a concurrency with a few zeros too many
// allocated its latency records up front, or started a goroutine per
// sender, until the process ran out of memory.
const (
	// MaxMessages is the most messages a run sends.
	MaxMessages = 10_000_000
	// MaxConcurrency is the most closed-loop senders of a run.
	MaxConcurrency = 10_000
)

// closedLoop sends with o.Concurrency senders, each waiting for its answer
// before the next; a message is due when its sender picks it up. Sender w
// sends from client w mod Clients. With no message count the senders stop
// once o.Duration has passed.
func (r *run) closedLoop(ctx context.Context, start time.Time) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	end := start.Add(r.o.Duration)
	for w := 0; w < r.o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if r.o.Messages > 0 && i >= r.o.Messages || r.o.Messages <= 0 && !time.Now().Before(end) || ctx.Err() != nil {
					return
				}
				now := time.Now()
				r.one(ctx, w%len(r.clients), i, now, now)
			}
		}()
	}
	wg.Wait()
}

// openLoop sends message i when it falls due, at start + i/Rate, whether
// or not earlier ones were answered, from client i mod Clients on the
// first of its Connections connections to be free. Each connection has a
// worker that takes its client's next message in turn and, when it is
// not yet due, sleeps until it is: a message still untaken at its due
// time found every connection of its client busy, and waits for the first
// free one, its latencies still counted from its due time (no
// coordinated omission) and the wait noted (ConnWait). What has fallen
// due and is still unsent when ctx ends is counted (Unsent).
func (r *run) openLoop(ctx context.Context, start time.Time) {
	var wg sync.WaitGroup
	interval := float64(time.Second) / r.o.Rate
	clients := len(r.clients)
	for c := range clients {
		next := new(atomic.Int64) // the client's next message, counted in its own
		for range r.o.Connections {
			wg.Add(1)
			go func() {
				defer wg.Done()
				timer := time.NewTimer(time.Hour)
				timer.Stop()
				for {
					i := c + clients*int(next.Add(1)-1)
					if i >= r.o.Messages || ctx.Err() != nil {
						return
					}
					due := start.Add(time.Duration(float64(i) * interval))
					ready := due
					if wait := time.Until(due); wait > 0 {
						timer.Reset(wait)
						select {
						case <-ctx.Done():
							timer.Stop()
							return
						case <-timer.C:
						}
					} else {
						// Taken only now, by a worker whose connection came
						// free: every one was busy when it fell due.
						ready = time.Now()
						r.wait.add(ready.Sub(due))
					}
					r.one(ctx, c, i, due, ready)
				}
			}()
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		fallenDue := min(r.o.Messages, int(time.Since(start).Seconds()*r.o.Rate)+1)
		r.mu.Lock()
		r.res.Unsent = max(0, fallenDue-r.res.Sent)
		r.mu.Unlock()
	}
}

// one sends message i from client c, due at due and taken by a connection
// at ready, and records its outcome.
func (r *run) one(ctx context.Context, c, i int, due, ready time.Time) {
	ok, msg := r.send(ctx, c, i, due, ready)
	if ok {
		r.ack.add(time.Since(due))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Sent++
	var byClient *ClientCounts
	if r.res.ByClient != nil {
		byClient = &r.res.ByClient[c]
		byClient.Sent++
	}
	if ok {
		r.res.Accepted++
		if byClient != nil {
			byClient.Accepted++
		}
		return
	}
	r.res.Refused++
	if byClient != nil {
		byClient.Refused++
	}
	if r.res.FirstError == "" {
		r.res.FirstError = msg
	}
}

// templateIDs finds the template's short-form id and prescriber ODS code.
func templateIDs(tpl []byte) (shortID, ods string, err error) {
	_, root, err := v3.Parse(tpl)
	if err != nil {
		return "", "", fmt.Errorf("load template: %w", err)
	}
	for _, id := range root.Child("ControlActEvent").Child("subject").Child("ParentPrescription").
		Child("pertinentInformation1").Child("pertinentPrescription").All("id") {
		if id.OptAttr("root") == v3.OIDShortFormID {
			s := id.OptAttr("extension")
			if len(s) == 20 {
				return s, s[7:13], nil
			}
		}
	}
	return "", "", fmt.Errorf("load template: no short-form prescription id")
}

// Prescription returns the template tpl (a legacy Parent Prescription) as
// prescription n: its own short-form id (valid check character, made from
// n) and msgID as its transmission id. It returns the payload and the
// short-form id.
func Prescription(tpl []byte, n uint32, msgID string) ([]byte, string, error) {
	shortID, ods, err := templateIDs(tpl)
	if err != nil {
		return nil, "", err
	}
	newShort, err := shortFormID(n, ods)
	if err != nil {
		return nil, "", err
	}
	payload := bytes.ReplaceAll(tpl, []byte(shortID), []byte(newShort))
	return replaceTransmissionID(payload, msgID), newShort, nil
}

// send posts message i from client c: the template with a fresh
// transmission id and a short-form id of its own (valid check character),
// wrapped in ebXML. Its answer's latency counts from due; the generator's
// send lag from ready (due, or when a connection came free for it).
func (r *run) send(ctx context.Context, c, i int, due, ready time.Time) (bool, string) {
	o := r.o
	newShort, err := shortFormID(uint32(i)+r.stamp<<8, r.ods)
	if err != nil {
		return false, err.Error()
	}
	msgID := strings.ToUpper(ids.NewUUID())
	fill := func(dst []byte) []byte { return r.tpl.fill(dst, msgID, newShort, time.Now()) }
	if r.pools == nil {
		return r.post(ctx, r.clients[c], r.tpl.body(fill(nil)), msgID, due, ready)
	}
	if o.Receiver != nil {
		o.Receiver.expect(msgID, due)
	}
	if r.lag != nil {
		r.lag.add(time.Since(ready))
	}
	return r.pools[c].send(fill)
}

// post sends the message body with the HTTP client hc (Options.Client, or
// a target that is not plain http).
func (r *run) post(ctx context.Context, hc *http.Client, body []byte, msgID string, due, ready time.Time) (bool, string) {
	o := r.o
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.Target, "/")+requestPath, bytes.NewReader(body))
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("Content-Type", r.tpl.contentType)
	req.Header.Set("SOAPAction", soapAction)
	if o.Receiver != nil {
		o.Receiver.expect(msgID, due)
	}
	if r.lag != nil {
		r.lag.add(time.Since(ready))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return false, refusalText(resp.StatusCode, b)
	}
	return true, ""
}

// refusalText says why the target refused a message, from its answer: a
// SOAP fault's or an eb:ErrorList's codes and descriptions when the body
// is one (a busy gateway's "soap fault Application Exception; 200
// 910010:the gateway is busy (...)"), else the body's start. Before, the
// body's first 200 bytes were all of it: a SOAP fault's XML declaration
// and envelope, cut off before its code.
func refusalText(status int, body []byte) string {
	if f, ok := ebxml.ParseSOAPFaultWith(v3.ReadXML, body); ok {
		return fmt.Sprintf("HTTP %d: %v", status, f)
	}
	var list *ebxml.ErrorListError
	if _, err := ebxml.ParseSignalWith(v3.ReadXML, body); errors.As(err, &list) {
		return fmt.Sprintf("HTTP %d: %v", status, list)
	}
	return fmt.Sprintf("HTTP %d: %.200s", status, body)
}

// WithTransmissionID returns an HL7 v3 message with id as its own id (the
// first id root), e.g. to send a template under a fresh transmission id.
func WithTransmissionID(payload []byte, id string) []byte { return replaceTransmissionID(payload, id) }

// replaceTransmissionID sets the message's own id (the first id root).
func replaceTransmissionID(payload []byte, id string) []byte {
	i := bytes.Index(payload, []byte(`<id root="`))
	if i < 0 {
		return payload
	}
	start := i + len(`<id root="`)
	end := bytes.IndexByte(payload[start:], '"')
	if end < 0 {
		return payload
	}
	out := make([]byte, 0, len(payload))
	out = append(out, payload[:start]...)
	out = append(out, id...)
	return append(out, payload[start+end:]...)
}

// shortFormID makes a valid short-form id from a number and an ODS code.
func shortFormID(n uint32, ods string) (string, error) {
	body := fmt.Sprintf("%06X-%s-%05X", n&0xFFFFFF, ods, (n>>24)&0xFFFFF)
	c, err := v3.ShortFormCheckChar(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

// waitDrained polls the gateway's /admin/queues until its inbox is empty.
func waitDrained(ctx context.Context, o Options) bool {
	for {
		admin := o.AdminURL
		if admin == "" {
			admin = o.Target
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(admin, "/")+"/admin/queues", nil)
		if err != nil {
			return false
		}
		if o.AdminToken != "" {
			req.Header.Set("Authorization", "Bearer "+o.AdminToken)
		}
		resp, err := o.Client.Do(req)
		if err == nil {
			var q struct {
				Inbox int `json:"inbox"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&q)
			resp.Body.Close()
			if derr == nil && q.Inbox == 0 {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}
