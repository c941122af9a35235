// Package loadgen drives a bounded load of legacy ebXML Parent Prescriptions
// at a porxgate gateway on this machine and measures how fast the gateway
// accepts them (HTTP 202 with an eb:Acknowledgment) and how fast it works
// its inbox down (each message mapped, sent to EPS FHIR and answered).
//
// It only targets loopback addresses: a load run never leaves the machine.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/porxgate/porxgate/v3"
)

// Options configure a load run.
type Options struct {
	// Target is the gateway's base URL, e.g. http://127.0.0.1:8080.
	Target string
	// Messages is how many prescriptions to send (each with its own ids).
	Messages int
	// Concurrency is how many senders post at once.
	Concurrency int
	// Timeout bounds the whole run, sending and draining.
	Timeout time.Duration
	// Template is a UK-family ParentPrescription whose short-form id and
	// message id are replaced per message.
	Template []byte
	// Client sends the requests; nil uses a client with keep-alive.
	Client *http.Client
}

// Result is what a run measured.
type Result struct {
	Sent, Accepted, Refused int
	// AcceptElapsed is the time to send every message and get its answer.
	AcceptElapsed time.Duration
	// DrainElapsed is the time from the first send until the gateway's
	// inbox was empty again (every accepted message processed).
	DrainElapsed time.Duration
	// Drained is false when the inbox did not empty within the timeout.
	Drained bool
	// FirstError is the first refusal or transport error met.
	FirstError string
}

// AcceptRate is accepted messages per second of AcceptElapsed.
func (r Result) AcceptRate() float64 { return rate(r.Accepted, r.AcceptElapsed) }

// ProcessRate is accepted messages per second of DrainElapsed.
func (r Result) ProcessRate() float64 { return rate(r.Accepted, r.DrainElapsed) }

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

// Run sends the load and waits for the gateway's inbox to drain.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := CheckLoopback(o.Target); err != nil {
		return Result{}, err
	}
	if o.Messages <= 0 || o.Concurrency <= 0 {
		return Result{}, fmt.Errorf("load: messages and concurrency must be positive")
	}
	shortID, ods, err := templateIDs(o.Template)
	if err != nil {
		return Result{}, err
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency}}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	var (
		res      Result
		mu       sync.Mutex
		next     atomic.Int64
		wg       sync.WaitGroup
		runStamp = uint32(time.Now().UnixNano())
	)
	start := time.Now()
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Messages || ctx.Err() != nil {
					return
				}
				ok, msg := send(ctx, o, i, runStamp, shortID, ods)
				mu.Lock()
				res.Sent++
				if ok {
					res.Accepted++
				} else {
					res.Refused++
					if res.FirstError == "" {
						res.FirstError = msg
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.AcceptElapsed = time.Since(start)
	res.Drained = waitDrained(ctx, o)
	res.DrainElapsed = time.Since(start)
	return res, nil
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
func send(ctx context.Context, o Options, i int, stamp uint32, shortID, ods string) (bool, string) {
	newShort, err := shortFormID(uint32(i)+stamp<<8, ods)
	if err != nil {
		return false, err.Error()
	}
	msgID := strings.ToUpper(ids.NewUUID())
	payload := bytes.ReplaceAll(o.Template, []byte(shortID), []byte(newShort))
	payload = replaceTransmissionID(payload, msgID)
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: "LOADGEN-000001", ToPartyID: "YES-0000806", CPAID: "S20001A000100",
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
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.Target, "/")+"/admin/queues", nil)
		if err != nil {
			return false
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
