package faults

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
)

// answerRecord is what the legacy MHS got in answer to one request.
type answerRecord struct {
	// ids are the distinct eb:MessageIds of the answers (a redelivery of
	// the same answer repeats one).
	ids map[string]bool
	// typeCodes are the acknowledgement typeCodes of the answers (AA, AE, AR).
	typeCodes []string
	// last is when the latest answer arrived.
	last time.Time
	// payloads are the HL7 payloads of the distinct answers.
	payloads []string
}

// mhs is the legacy MHS receiving porxgate's async answers on loopback: it
// acknowledges each (eb:Acknowledgment, as an MHS with SyncReply does) and
// records it by RefToMessageId.
type mhs struct {
	srv *http.Server
	url string

	mu      sync.Mutex
	answers map[string]*answerRecord
}

// typeCodeRE finds an MCCI acknowledgement's typeCode.
var typeCodeRE = regexp.MustCompile(`<(?:\w+:)?acknowledgement[^>]*typeCode="(\w+)"`)

// startMHS serves the receiver on a free loopback port.
func startMHS() (*mhs, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &mhs{answers: map[string]*answerRecord{}, url: "http://" + ln.Addr().String() + "/reliablemessaging/reliablerequest"}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *mhs) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	msg, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body)
	if err != nil || msg == nil {
		// A signal (text/xml): an async eb:MessageError answers a request;
		// an eb:Acknowledgment is not recorded.
		if ref := refRE.FindSubmatch(body); ref != nil && bytes.Contains(body, []byte(ebxml.ActionMessageError)) {
			id := ""
			if sm := messageIDRE.FindSubmatch(body); sm != nil {
				id = string(sm[1])
			}
			m.record(string(ref[1]), id, "MessageError", "")
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	tc := ""
	if msg.Payload != nil {
		if sm := typeCodeRE.FindSubmatch(msg.Payload.Body); sm != nil {
			tc = string(sm[1])
		}
	}
	var payload string
	if msg.Payload != nil {
		payload = string(msg.Payload.Body)
	}
	m.record(msg.RefToMessageID, msg.MessageID, tc, payload)
	ack, err := ebxml.BuildAcknowledgment(msg, strings.ToUpper(ids.NewUUID()), time.Now())
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(ack)
}

// refRE and messageIDRE find a signal's eb:RefToMessageId and eb:MessageId.
var (
	refRE       = regexp.MustCompile(`<(?:\w+:)?RefToMessageId>\s*([^<\s]+)\s*<`)
	messageIDRE = regexp.MustCompile(`<(?:\w+:)?MessageId>\s*([^<\s]+)\s*<`)
)

// record notes answer id (typeCode tc, HL7 payload) to request ref.
func (m *mhs) record(ref, id, tc, payload string) {
	ref = strings.ToUpper(ref)
	m.mu.Lock()
	rec := m.answers[ref]
	if rec == nil {
		rec = &answerRecord{ids: map[string]bool{}}
		m.answers[ref] = rec
	}
	if !rec.ids[id] {
		rec.ids[id] = true
		rec.typeCodes = append(rec.typeCodes, tc)
		rec.payloads = append(rec.payloads, payload)
	}
	rec.last = time.Now()
	m.mu.Unlock()
}

// answerTo returns a copy of what answered request id, nil when nothing did.
func (m *mhs) answerTo(id string) *answerRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.answers[strings.ToUpper(id)]
	if rec == nil {
		return nil
	}
	c := *rec
	c.typeCodes = append([]string(nil), rec.typeCodes...)
	c.payloads = append([]string(nil), rec.payloads...)
	return &c
}

// close stops the receiver.
func (m *mhs) close() { _ = m.srv.Close() }
