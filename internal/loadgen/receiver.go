package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// maxAnswerBytes bounds one delivered answer the receiver reads.
const maxAnswerBytes = 4 << 20

// bodies holds the buffers the receiver reads answers into, one an answer
// at a time.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Receiver is the legacy MHS a load run's answers are delivered to: an
// HTTP server on loopback that takes each ebXML message the gateway posts,
// acknowledges it (HTTP 202 with an eb:Acknowledgment, as an MHS does) and
// notes when the answer to each sent message arrived. The gateway's routing
// table must send the load's party (Options.FromParty) here.
type Receiver struct {
	srv *http.Server
	ln  net.Listener

	mu sync.Mutex
	// sent maps a sent message's ConversationId to its entry in expected,
	// which is changed in place when it is answered: the map keeps the
	// sender's own copy of the id, not one that holds on to the answer's
	// whole envelope, as the map of the answered did.
	sent     map[string]int
	expected []expected
	// answered counts the conversations answered at least once.
	answered int
	latency  *recorder
	codes    map[string]int
	twice    int
	stray    int
	last     time.Time
	changed  chan struct{}
}

// StartReceiver listens on addr (a loopback host:port; ":0" ports pick a
// free one) and serves until Close.
func StartReceiver(addr string) (*Receiver, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("receiver address %q: %w", addr, err)
	}
	if err := CheckLoopback("http://" + net.JoinHostPort(host, "1")); err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("receiver: listen on %s: %w", addr, err)
	}
	r := &Receiver{ln: ln, sent: map[string]int{},
		latency: newRecorder(0), codes: map[string]int{}, changed: make(chan struct{}, 1)}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is where the gateway should deliver, e.g. http://127.0.0.1:9123/mhs.
func (r *Receiver) URL() string { return "http://" + r.Addr() + "/mhs" }

// Addr is the address the receiver listens on, as bound (a port 0 given
// to StartReceiver is the port the kernel chose).
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// Close stops the receiver.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("receiver shutdown: %w", err)
	}
	return nil
}

// expect notes that the message of conversation cid was due to be sent at
// intended, so that its answer's latency can be measured.
func (r *Receiver) expect(cid string, intended time.Time) {
	r.mu.Lock()
	r.sent[cid] = len(r.expected)
	r.expected = append(r.expected, expected{intended: intended})
	r.mu.Unlock()
}

// expected is a sent message the receiver waits for an answer to.
type expected struct {
	// intended is when it was due to be sent.
	intended time.Time
	// answered is set by its first answer.
	answered bool
}

// serve takes one delivered message.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	arrived := time.Now()
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if n := req.ContentLength; n > 0 && n <= maxAnswerBytes {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(req.Body, maxAnswerBytes)); err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	// The ids found where they stand (scanAnswer); a message that is not
	// plainly what a gateway delivers is read whole, with v3's reader as
	// the gateway's front door reads (etree's was a sixth of the load
	// generator's CPU), in place: it is done with before the buffer goes
	// back to bodies.
	ct := req.Header.Get("Content-Type")
	f, ok := scanAnswer(ct, buf.Bytes())
	if !ok {
		m, err := ebxml.ParseRequestInPlace(v3.ReadXML, ct, req.Header.Get("SOAPAction"), buf.Bytes())
		if err != nil {
			var me *ebxml.MessageError
			if !errors.As(err, &me) || m == nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		f = fieldsOf(m)
	}
	r.note(f.conversationID, f.code, arrived)
	ack, err := ebxml.BuildAcknowledgment(f.message(), strings.ToUpper(ids.NewUUID()), arrived)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(ack)
}

// note records an answer to conversation cid with the given code.
func (r *Receiver) note(cid, code string, arrived time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.sent[cid]
	switch {
	case !ok:
		r.stray++
		return
	case r.expected[k].answered:
		r.twice++
		return
	}
	e := &r.expected[k]
	e.answered = true
	r.answered++
	r.codes[code]++
	r.latency.add(arrived.Sub(e.intended))
	r.last = arrived
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// answerCode is the HL7 acknowledgement typeCode (AA, AE, AR) of an MCCI
// answer, or the interaction when the answer is not an acknowledgement.
func answerCode(m *ebxml.Message) string {
	if m.Payload == nil {
		return m.Action
	}
	b := m.Payload.Body
	const key = `acknowledgement typeCode="`
	if i := bytes.Index(b, []byte(key)); i >= 0 {
		rest := b[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j > 0 && j <= 2 {
			return string(rest[:j])
		}
	}
	return m.Action
}

// waitAnswers waits until n distinct conversations are answered or ctx
// ends, and reports whether all were.
func (r *Receiver) waitAnswers(ctx context.Context, n int) bool {
	for {
		r.mu.Lock()
		got := r.answered
		r.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// answers reports what the receiver saw.
func (r *Receiver) answers() (n, twice, stray int, codes map[string]int, last time.Time, lat Latencies) {
	r.mu.Lock()
	defer r.mu.Unlock()
	codes = make(map[string]int, len(r.codes))
	for k, v := range r.codes {
		codes[k] = v
	}
	return r.answered, r.twice, r.stray, codes, r.last, r.latency.summary()
}
