// Package loadgen drives a bounded load of legacy ebXML Parent Prescriptions
// at a porxgate gateway on this machine, closed-loop (a fixed number of
// senders) or open-loop (a fixed rate, latencies measured from each
// message's due time), and measures how fast and how soon the gateway
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
	// fixed rate (msgs/s) whatever the gateway's answers, each sent on its
	// own, and every latency is measured from the time the message was due
	// (so a slow gateway cannot hide its queueing: no coordinated omission).
	Rate float64
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
	// Client sends the requests; nil uses a client with keep-alive.
	Client *http.Client
}

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
	// message's due time to the moment it starts sending it. It is inside
	// Ack and Answer; when it is a large part of them the generator, not
	// the gateway, was late.
	SendLag Latencies
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
	o        Options
	shortID  string
	ods      string
	stamp    uint32
	ack      *recorder
	lag      *recorder // open loop: due time to send
	mu       sync.Mutex
	res      Result
	accepted int
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
	if o.Client == nil {
		conns := o.Concurrency
		if o.Rate > 0 {
			conns = max(8, int(o.Rate/50))
		}
		// A write buffer that holds a whole message: each request goes out
		// in one write, not one per 4 KiB.
		o.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, WriteBufferSize: requestWriteBuffer}}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	r := &run{o: o, shortID: shortID, ods: ods, stamp: uint32(time.Now().UnixNano()), ack: newRecorder(o.Messages)}
	cpu0, cpuOK := processCPU()
	start := time.Now()
	if o.Rate > 0 {
		r.res.Mode = "open-loop"
		r.lag = newRecorder(o.Messages)
		r.openLoop(ctx, start)
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

// check validates the options.
func (o Options) check() error {
	if err := CheckLoopback(o.Target); err != nil {
		return err
	}
	if o.AdminURL != "" {
		if err := CheckLoopback(o.AdminURL); err != nil {
			return err
		}
	}
	switch {
	case o.Rate < 0:
		return errors.New("load: rate must not be negative")
	case o.Rate > 0 && o.Messages <= 0 && o.Duration <= 0:
		return errors.New("load: an open-loop run needs a message count or a duration")
	case o.Rate == 0 && o.Concurrency <= 0:
		return errors.New("load: concurrency must be positive")
	case o.Rate == 0 && o.Messages <= 0 && o.Duration <= 0:
		return errors.New("load: a closed-loop run needs a message count or a duration")
	case o.Timeout <= 0:
		return errors.New("load: timeout must be positive")
	case o.Duration < 0:
		return errors.New("load: duration must not be negative")
	case o.Messages < 0:
		return errors.New("load: message count must not be negative")
	case o.Messages > MaxMessages || o.Rate > 0 && o.Messages == 0 && o.Rate*o.Duration.Seconds() > MaxMessages:
		return fmt.Errorf("load: at most %d messages in a run (its latencies are kept per message)", MaxMessages)
	case o.Rate == 0 && o.Concurrency > MaxConcurrency:
		return fmt.Errorf("load: at most %d concurrent senders", MaxConcurrency)
	}
	return nil
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
// before the next; a message is due when its sender picks it up. With no
// message count the senders stop once o.Duration has passed.
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
				r.one(ctx, i, time.Now())
			}
		}()
	}
	wg.Wait()
}

// openLoop sends message i at start + i/Rate, each on its own goroutine,
// whether or not earlier ones were answered.
func (r *run) openLoop(ctx context.Context, start time.Time) {
	var wg sync.WaitGroup
	interval := float64(time.Second) / r.o.Rate
	for i := 0; i < r.o.Messages; i++ {
		due := start.Add(time.Duration(float64(i) * interval))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.one(ctx, i, due)
		}()
	}
	wg.Wait()
}

// one sends message i, due at due, and records its outcome.
func (r *run) one(ctx context.Context, i int, due time.Time) {
	ok, msg := send(ctx, r, i, due)
	if ok {
		r.ack.add(time.Since(due))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Sent++
	if ok {
		r.res.Accepted++
		return
	}
	r.res.Refused++
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

// send posts message i: the template with a fresh transmission id and a
// short-form id of its own (valid check character), wrapped in ebXML.
func send(ctx context.Context, r *run, i int, due time.Time) (bool, string) {
	o := r.o
	newShort, err := shortFormID(uint32(i)+r.stamp<<8, r.ods)
	if err != nil {
		return false, err.Error()
	}
	msgID := strings.ToUpper(ids.NewUUID())
	payload := bytes.ReplaceAll(o.Template, []byte(r.shortID), []byte(newShort))
	payload = replaceTransmissionID(payload, msgID)
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: o.FromParty, ToPartyID: "YES-0000806", CPAID: "S20001A000100",
		ConversationID: msgID, Action: v3.ParentPrescription, MessageID: msgID, Timestamp: time.Now(),
		AckRequested: true, SyncReply: true, DuplicateElimination: true, Payload: payload,
	})
	if err != nil {
		return false, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.Target, "/")+"/reliablemessaging/reliablerequest", bytes.NewReader(body))
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", "urn:nhs:names:services:mm/"+v3.ParentPrescription)
	if o.Receiver != nil {
		o.Receiver.expect(msgID, due)
	}
	if r.lag != nil {
		r.lag.add(time.Since(due))
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return false, fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	return true, ""
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
