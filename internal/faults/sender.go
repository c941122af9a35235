package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	v3 "github.com/porxgate/porxgate/v3"
)

// Party and CPA of the legacy sender, and porxgate's party.
const (
	senderParty = "LEGACY-000001"
	senderCPA   = "S20001A000100"
	spineParty  = "YES-0000806"
)

// request is one message the legacy side sends, with what became of it.
type request struct {
	id        string // eb:MessageId / wsa:MessageID (upper-case UUID)
	shortForm string // the prescription's short-form id ("" for hostile payloads)
	payload   []byte
	soap      bool   // sent to the SOAP door
	hostile   bool   // a payload that cannot be read as HL7 v3
	action    string // interaction id; "" for a Parent Prescription

	mu       sync.Mutex
	acked    bool   // 202 + eb:Acknowledgment (ebXML), or a reply (SOAP)
	refused  bool   // a final refusal before any acknowledgement
	reply    string // SOAP: the reply's acknowledgement typeCode
	attempts int
}

func (r *request) set(f func(r *request)) {
	r.mu.Lock()
	f(r)
	r.mu.Unlock()
}

func (r *request) state() (acked, refused bool, reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.acked, r.refused, r.reply
}

// errorCodeRE finds the TMS codes of a SOAP fault.
var errorCodeRE = regexp.MustCompile(`<(?:\w+:)?errorCode>\s*(\d+)\s*<`)

// retryableFault reports a SOAP fault all of whose codes an MHS retries
// (200, 206, 208), as the NHS MHS adaptor decides.
func retryableFault(body []byte) bool {
	ms := errorCodeRE.FindAllSubmatch(body, -1)
	if len(ms) == 0 {
		return false
	}
	for _, m := range ms {
		if !ebxml.IsRetryableFaultCode(string(m[1])) {
			return false
		}
	}
	return true
}

// outcome classifies one HTTP answer: done (acknowledged or refused for
// good) or to be retried, as a legacy MHS would.
func outcome(status int, body []byte, soap bool) (acked, refused bool) {
	switch {
	case !soap && status == http.StatusAccepted:
		return true, false
	case soap && status == http.StatusOK:
		return true, false
	case status == http.StatusInternalServerError && bytes.Contains(body, []byte("ErrorList")) && !bytes.Contains(body, []byte("errorList")):
		return false, true // eb:MessageError: final
	case status == http.StatusInternalServerError && bytes.Contains(body, []byte("Fault")):
		return false, !retryableFault(body)
	}
	return false, false // 5xx without a Spine body, 413 JSON...: retried
}

// sender posts requests to the gateways and retries them as an MHS does.
type sender struct {
	client *http.Client
	// retryEvery is the MHS's retry interval.
	retryEvery time.Duration
}

// send posts r to base (where the gateway listens at each try) until it
// is acknowledged or refused, or ctx ends.
func (s *sender) send(ctx context.Context, base func() string, r *request) {
	for ctx.Err() == nil {
		status, body, err := s.post(ctx, base(), r)
		r.set(func(r *request) { r.attempts++ })
		if err == nil {
			acked, refused := outcome(status, body, r.soap)
			if acked || refused {
				r.set(func(r *request) {
					r.acked = r.acked || acked
					r.refused = r.refused || (refused && !r.acked)
					if acked && r.soap {
						if m := typeCodeRE.FindSubmatch(body); m != nil {
							r.reply = string(m[1])
						}
					}
				})
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.retryEvery):
		}
	}
}

// post sends r once.
func (s *sender) post(ctx context.Context, base string, r *request) (int, []byte, error) {
	var (
		url, ct, action string
		body            []byte
	)
	if r.soap {
		url, ct, body = base+"/syncservice-mm/mm", "text/xml", soapRequest(r.id, r.payload)
	} else {
		action := r.action
		if action == "" {
			action = v3.ParentPrescription
		}
		o := ebxml.OutboundMessage{
			FromPartyID: senderParty, ToPartyID: spineParty, CPAID: senderCPA,
			ConversationID: r.id, Action: action, MessageID: r.id, Timestamp: time.Now(),
			AckRequested: true, SyncReply: true, DuplicateElimination: true, Payload: r.payload,
		}
		var err error
		if ct, body, err = ebxml.BuildMessage(o); err != nil {
			return 0, nil, fmt.Errorf("build %s: %w", r.id, err)
		}
		url, action = base+"/reliablemessaging/reliablerequest", o.SOAPAction()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ct)
	if action != "" {
		req.Header.Set("SOAPAction", `"`+action+`"`)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// soapRequest wraps payload in the SOAP sync envelope a legacy system sends.
func soapRequest(id string, payload []byte) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:hl7="urn:hl7-org:v3">
<SOAP-ENV:Header>
<wsa:MessageID>uuid:` + id + `</wsa:MessageID>
<wsa:Action>urn:nhs:names:services:mm/` + v3.ParentPrescription + `</wsa:Action>
<wsa:To>https://127.0.0.1/syncservice-mm/mm</wsa:To>
<wsa:From><wsa:Address>https://127.0.0.1/legacy</wsa:Address></wsa:From>
<hl7:communicationFunctionRcv typeCode="RCV"><hl7:device classCode="DEV" determinerCode="INSTANCE"><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="990101234567"/></hl7:device></hl7:communicationFunctionRcv>
<hl7:communicationFunctionSnd typeCode="SND"><hl7:device classCode="DEV" determinerCode="INSTANCE"><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="200000009876"/></hl7:device></hl7:communicationFunctionSnd>
<wsa:ReplyTo><wsa:Address>https://127.0.0.1/legacy</wsa:Address></wsa:ReplyTo>
</SOAP-ENV:Header>
<SOAP-ENV:Body>`)
	p := payload
	if i := bytes.Index(p, []byte("?>")); bytes.HasPrefix(bytes.TrimSpace(p), []byte("<?xml")) && i >= 0 {
		p = p[i+2:]
	}
	b.Write(p)
	b.WriteString("</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>")
	return []byte(b.String())
}
