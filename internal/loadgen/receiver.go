package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
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
//
// It speaks HTTP/1.1 itself on each connection (serveConn), one message
// at a time as a sender's keep-alive connection carries them: net/http's
// server started a goroutine and a read for every request, to notice a
// sender gone while its handler ran, and built a response writer and
// header maps for a 202 whose head is always the same.
type Receiver struct {
	ln net.Listener

	// connMu guards conns (each open connection: true while it waits for
	// its next message) and closing.
	connMu  sync.Mutex
	conns   map[net.Conn]bool
	closing bool
	// served ends when the accept loop and every connection have.
	served sync.WaitGroup

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
	// acks are the acknowledgments made once for each sender.
	acks ackTemplates
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
	r := &Receiver{ln: ln, sent: map[string]int{}, conns: map[net.Conn]bool{},
		latency: newRecorder(0), codes: map[string]int{}, changed: make(chan struct{}, 1)}
	r.served.Add(1)
	go r.accept()
	return r, nil
}

// accept serves each connection until the listener is closed.
func (r *Receiver) accept() {
	defer r.served.Done()
	for pause := time.Duration(0); ; {
		c, err := r.ln.Accept()
		if err != nil {
			if r.isClosing() {
				return
			}
			// Out of descriptors and the like: wait and go on, as
			// net/http's server does.
			pause = min(max(5*time.Millisecond, 2*pause), time.Second)
			time.Sleep(pause)
			continue
		}
		pause = 0
		r.served.Add(1)
		go r.serveConn(c)
	}
}

// isClosing reports whether Close has begun.
func (r *Receiver) isClosing() bool {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	return r.closing
}

// waiting notes whether c waits for its next message (idle) and reports
// whether it is to go on: not once Close has begun.
func (r *Receiver) waiting(c net.Conn, idle bool) bool {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.closing {
		return false
	}
	r.conns[c] = idle
	return true
}

// headerTimeout bounds the reading of a message's head once its first
// byte has come (net/http's ReadHeaderTimeout, as the receiver had).
const headerTimeout = 10 * time.Second

// serveConn takes the messages delivered on c, one after another, until
// the sender closes it, sends what is not HTTP/1.1, or Close.
func (r *Receiver) serveConn(c net.Conn) {
	defer func() {
		r.connMu.Lock()
		delete(r.conns, c)
		r.connMu.Unlock()
		_ = c.Close()
		r.served.Done()
	}()
	br := bufio.NewReader(c)
	var out, ack []byte
	for {
		if !r.waiting(c, true) {
			return
		}
		if _, err := br.Peek(1); err != nil || !r.waiting(c, false) {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(headerTimeout))
		req, err := http.ReadRequest(br)
		if err != nil {
			_, _ = c.Write(appendResponse(out[:0], http.StatusBadRequest, "text/plain; charset=utf-8", []byte(err.Error()+"\n"), true))
			return
		}
		status, ctype, body, last := r.take(c, req, ack[:0])
		_ = c.SetReadDeadline(time.Time{})
		last = last || req.Close
		out = appendResponse(out[:0], status, ctype, body, last)
		if status == http.StatusAccepted {
			ack = body // its buffer, for the next
		}
		if _, err := c.Write(out); err != nil || last {
			return
		}
	}
}

// appendResponse appends to b an HTTP/1.1 response with status, a body
// of type ctype, and Connection: close when closing.
func appendResponse(b []byte, status int, ctype string, body []byte, closing bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, ctype...)
	if status >= http.StatusBadRequest { // as http.Error writes them
		b = append(b, "\r\nX-Content-Type-Options: nosniff"...)
	}
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if closing {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// URL is where the gateway should deliver, e.g. http://127.0.0.1:9123/mhs.
func (r *Receiver) URL() string { return "http://" + r.Addr() + "/mhs" }

// Addr is the address the receiver listens on, as bound (a port 0 given
// to StartReceiver is the port the kernel chose).
func (r *Receiver) Addr() string { return r.ln.Addr().String() }

// Close stops the receiver.
// Connections waiting for a message are closed at once, one taking a
// message when it has answered it; after 5 s the rest are closed too.
func (r *Receiver) Close() error {
	r.connMu.Lock()
	if r.closing {
		r.connMu.Unlock()
		return nil
	}
	r.closing = true
	err := r.ln.Close()
	for c, idle := range r.conns {
		if idle {
			_ = c.Close()
		}
	}
	r.connMu.Unlock()
	done := make(chan struct{})
	go func() { r.served.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		r.connMu.Lock()
		for c := range r.conns {
			_ = c.Close()
		}
		r.connMu.Unlock()
		<-done
		return fmt.Errorf("receiver shutdown: %w", context.DeadlineExceeded)
	}
	if err != nil {
		return fmt.Errorf("receiver shutdown: %w", err)
	}
	return nil
}

// closeWait is how long Close waits for the messages being taken.
const closeWait = 5 * time.Second

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

// take reads one delivered message, whose head req is, from c and notes
// it: HTTP 202 with an eb:Acknowledgment (appended to ack), or 400 and
// why. last says the connection is not to carry another (its body was not
// read whole).
func (r *Receiver) take(c net.Conn, req *http.Request, ack []byte) (status int, ctype string, body []byte, last bool) {
	arrived := time.Now()
	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return http.StatusBadRequest, "text/plain; charset=utf-8", []byte(err.Error() + "\n"), true
		}
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if n := req.ContentLength; n > 0 && n <= maxAnswerBytes {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(req.Body, maxAnswerBytes)); err != nil {
		return http.StatusBadRequest, "text/plain; charset=utf-8", []byte("reading the body: " + err.Error() + "\n"), true
	}
	if n, _ := req.Body.Read(make([]byte, 1)); n > 0 { // over maxAnswerBytes: the rest is left unread
		last = true
	}
	ack, err := r.note(req.Header.Get("Content-Type"), req.Header.Get("SOAPAction"), buf.Bytes(), arrived, ack)
	if err != nil {
		return http.StatusBadRequest, "text/plain; charset=utf-8", []byte(err.Error() + "\n"), last
	}
	return http.StatusAccepted, "text/xml", ack, last
}

// note reads the message delivered as body and notes it as the answer to
// its conversation, arrived at arrived, and appends its eb:Acknowledgment
// to ack.
func (r *Receiver) note(ct, soapAction string, body []byte, arrived time.Time, ack []byte) ([]byte, error) {
	// Read with v3's reader as the gateway's front door reads (etree's was
	// a sixth of the load generator's CPU), in place: it is done with
	// before the buffer goes back to bodies.
	m, err := ebxml.ParseRequestInPlace(v3.ReadXML, ct, soapAction, body)
	if err != nil {
		var me *ebxml.MessageError
		if !errors.As(err, &me) || m == nil {
			return nil, err
		}
	}
	f := fieldsOf(m)
	r.record(f.conversationID, f.code, arrived)
	return r.acks.appendAck(ack, f, strings.ToUpper(ids.NewUUID()), arrived)
}

// record notes an answer to conversation cid with the given code.
func (r *Receiver) record(cid, code string, arrived time.Time) {
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
