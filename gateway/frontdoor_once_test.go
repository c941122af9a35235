package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// onceStores are the two stores the exactly-once tests run on: memory and
// a real redis-server.
func onceStores(t *testing.T) map[string]func(t *testing.T) func() store.Store {
	t.Helper()
	return map[string]func(t *testing.T) func() store.Store{
		"memory": func(t *testing.T) func() store.Store {
			st := newMemoryStore()
			return func() store.Store { return st }
		},
		"redis": func(t *testing.T) func() store.Store {
			_, newStore := redisStore(t)
			return newStore
		},
	}
}

// gate blocks the first Process call of a fakeProcessor until opened.
type gate struct {
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 1), open: make(chan struct{})} }

// hold blocks call n == 1 until the gate opens.
func (g *gate) hold(n int) {
	if n != 1 {
		return
	}
	g.entered <- struct{}{}
	<-g.open
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// waitEntered waits for the first call to be in hand.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first processing never started")
	}
}

// TestEbXMLDuplicatesOnce: one ebXML MessageId sent again while the first
// is being processed (several at once), and again after it was answered,
// is acknowledged every time (synchronously, or asynchronously when the
// sender asked no SyncReply), processed once and answered once.
func TestEbXMLDuplicatesOnce(t *testing.T) {
	for name, mk := range onceStores(t) {
		for _, syncReply := range []bool{true, false} {
			t.Run(name+map[bool]string{true: "/syncreply", false: "/async-ack"}[syncReply], func(t *testing.T) {
				newStore := mk(t)
				mhs := startMHS(t, "ack")
				g8 := newGate()
				proc := newFakeProcessor()
				proc.answer = func(in *Inbound, n int) (*Outcome, error) {
					g8.hold(n)
					return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
				}
				g := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
				// Registered after the gateway, so it runs before the gateway
				// stops: a held processing would otherwise keep the stop (and
				// a failed test) waiting for the test binary's timeout.
				t.Cleanup(g8.release)
				// Concurrent sends leave connections that never carried a
				// request; fasthttp closes those on shutdown only 5s after
				// they opened, past the tests' shutdown timeout.
				t.Cleanup(http.DefaultClient.CloseIdleConnections)
				req := newReq(newID(t, 40))
				req.syncReply = syncReply
				const want = http.StatusAccepted
				check := func(what string, code int, body []byte) {
					t.Helper()
					if code != want {
						t.Fatalf("%s: status %d, want %d\n%s", what, code, want, body)
					}
					if syncReply {
						checkAcknowledgment(t, body, req)
					}
				}
				code, body := sendEb(t, g.base, req)
				check("first", code, body)
				g8.waitEntered(t)
				const dups = 6
				var wg sync.WaitGroup
				type res struct {
					code int
					body []byte
				}
				got := make([]res, dups)
				for i := range dups {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c, b := sendEb(t, g.base, req)
						got[i] = res{c, b}
					}()
				}
				wg.Wait()
				for i, r := range got {
					check("duplicate in flight "+string(rune('0'+i)), r.code, r.body)
				}
				g8.release()
				answers := func() (n, acks int) {
					for _, m := range mhs.messages() {
						switch {
						case m.msg != nil && m.msg.RefToMessageID == req.messageID && m.msg.Action == mcciAck:
							n++
						case m.ackRef == req.messageID:
							acks++
						}
					}
					return n, acks
				}
				waitFor(t, "the answer", func() bool { n, _ := answers(); return n >= 1 })
				code, body = sendEb(t, g.base, req)
				check("duplicate after the answer", code, body)
				wantAcks := 0
				if !syncReply {
					wantAcks = dups + 2
					waitFor(t, "every asynchronous acknowledgment", func() bool { _, a := answers(); return a >= wantAcks })
				}
				time.Sleep(200 * time.Millisecond) // a wrongly repeated processing or answer would show now
				if n := proc.callsFor(req.messageID); n != 1 {
					t.Errorf("processed %d times, want 1", n)
				}
				if n, a := answers(); n != 1 || a != wantAcks {
					t.Errorf("MHS got %d answers and %d asynchronous acknowledgments, want 1 and %d", n, a, wantAcks)
				}
				st := newStore()
				for _, q := range []string{inboxQueue, outbox.Queue} {
					if n, err := st.QueueLen(context.Background(), q); err != nil || n != 0 {
						t.Errorf("%s holds %d (%v), want 0", q, n, err)
					}
				}
			})
		}
	}
}

// TestSOAPDuplicatesOnce: a SOAP request retried while the first is in
// flight (several at once) waits for the first's answer, and one retried
// after it was answered gets the kept answer: byte for byte the same, the
// request processed once.
func TestSOAPDuplicatesOnce(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			newStore := mk(t)
			g8 := newGate()
			t.Cleanup(g8.release)
			proc := soapProcessor(func(n int) (*Outcome, error) { g8.hold(n); return nil, nil })
			g := startGateway(t, testConfig(), newStore(), true, WithProcessor(proc))
			t.Cleanup(http.DefaultClient.CloseIdleConnections) // as in TestEbXMLDuplicatesOnce
			id := newID(t, 41)
			env := soapEnvelope(id, releaseReq, soapPayload)
			type res struct {
				code int
				body []byte
			}
			const n = 4
			got := make([]res, n)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); c, b := sendSOAP(t, g.base, env); got[0] = res{c, b} }()
			g8.waitEntered(t)
			for i := 1; i < n; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); c, b := sendSOAP(t, g.base, env); got[i] = res{c, b} }()
			}
			time.Sleep(300 * time.Millisecond) // the retries are waiting for the first's answer
			g8.release()
			wg.Wait()
			if got[0].code != http.StatusOK {
				t.Fatalf("first: %d\n%s", got[0].code, got[0].body)
			}
			for i, r := range got[1:] {
				if r.code != got[0].code || !bytes.Equal(r.body, got[0].body) {
					t.Errorf("retry %d in flight: %d, not the first's answer:\n%s", i, r.code, r.body)
				}
			}
			c, b := sendSOAP(t, g.base, env)
			if c != got[0].code || !bytes.Equal(b, got[0].body) {
				t.Errorf("retry after the answer: %d, not the first's answer:\n%s", c, b)
			}
			if k := proc.callsFor(id); k != 1 {
				t.Errorf("processed %d times, want 1", k)
			}
		})
	}
}

// TestRefusedMessageResentOnce: a message refused at the front door — the
// doors busy (--max-in-flight), or its payload unreadable — leaves nothing
// behind: nothing queued and its MessageId not marked seen, so the same
// message sent again, whole, is acknowledged, processed once and answered
// once.
func TestRefusedMessageResentOnce(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			newStore := mk(t)
			mhs := startMHS(t, "ack")
			g8 := newGate()
			proc := soapProcessor(func(n int) (*Outcome, error) { g8.hold(n); return nil, nil })
			cfg := testConfig()
			cfg.MaxInFlight = 1
			st := newStore()
			g := startGateway(t, cfg, st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			t.Cleanup(g8.release) // before the gateway stops, as in TestEbXMLDuplicatesOnce
			t.Cleanup(http.DefaultClient.CloseIdleConnections)
			req := newReq(newID(t, 42))

			// The doors busy: a SOAP request holds the only slot.
			soapDone := make(chan int, 1)
			go func() {
				c, _ := sendSOAP(t, g.base, soapEnvelope(newID(t, 43), releaseReq, soapPayload))
				soapDone <- c
			}()
			g8.waitEntered(t)
			code, body := sendEb(t, g.base, req)
			if code != http.StatusInternalServerError {
				t.Fatalf("busy: status %d, want 500\n%s", code, body)
			}
			if c, d := faultCode(t, body); c != "200" || !bytes.Contains([]byte(d), []byte("910010:")) {
				t.Errorf("busy: fault %s %q, want the retryable 200 / 910010", c, d)
			}
			g8.release()
			if c := <-soapDone; c != http.StatusOK {
				t.Fatalf("the SOAP request holding the slot: %d", c)
			}

			// Unreadable payloads, then no payload at all.
			for _, bad := range [][]byte{[]byte(`<foo xmlns="urn:other"/>`), []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">`), nil} {
				r := req
				r.payload = bad
				code, body := sendEb(t, g.base, r)
				if code != http.StatusInternalServerError {
					t.Fatalf("payload %q: status %d, want 500\n%s", bad, code, body)
				}
				ebErrorOf(t, body)
			}
			if n, err := st.QueueLen(context.Background(), inboxQueue); err != nil || n != 0 {
				t.Fatalf("inbox holds %d (%v) after refusals, want 0", n, err)
			}
			if proc.callsFor(req.messageID) != 0 {
				t.Fatal("a refused message was processed")
			}

			// The whole message, sent again.
			code, body = sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("resent: status %d\n%s", code, body)
			}
			checkAcknowledgment(t, body, req)
			waitFor(t, "the answer", func() bool { return len(mhs.messages()) >= 1 })
			time.Sleep(200 * time.Millisecond)
			if n := proc.callsFor(req.messageID); n != 1 {
				t.Errorf("processed %d times, want 1", n)
			}
			if n := len(mhs.messages()); n != 1 {
				t.Errorf("MHS got %d messages, want 1 answer", n)
			}
		})
	}
}

// TestPayloadNearBodyLimit: a message whose body is exactly --max-body
// bytes is acknowledged and processed once with its payload byte for
// byte; one byte more is refused with a MessageError before anything is
// stored, and the same MessageId sent again within the limit is then
// taken.
func TestPayloadNearBodyLimit(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			newStore := mk(t)
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			cfg := testConfig()
			cfg.MaxBodyBytes = 1 << 20
			st := newStore()
			g := startGateway(t, cfg, st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			// sized returns req with its payload padded so that its body is n bytes.
			sized := func(req ebReq, n int) ebReq {
				req.payload = testPayload(req.messageID)
				_, _, b := req.build()
				pad := n - len(b) - len("<pad></pad>")
				req.payload = bytes.Replace(req.payload, []byte("</PORX_IN020101UK31>"),
					append(append([]byte("<pad>"), bytes.Repeat([]byte("é"), pad/2)...), []byte("</pad></PORX_IN020101UK31>")...), 1)
				if pad%2 == 1 {
					req.payload = append(req.payload, '\n')
				}
				if _, _, b := req.build(); len(b) != n {
					t.Fatalf("built %d bytes, want %d", len(b), n)
				}
				return req
			}
			over := sized(newReq(newID(t, 44)), cfg.MaxBodyBytes+1)
			code, body := sendEb(t, g.base, over)
			if code != http.StatusInternalServerError {
				t.Fatalf("one byte over: status %d", code)
			}
			if c, d := ebErrorOf(t, body); c != "NotSupported" || !bytes.Contains([]byte(d), []byte("910001:")) {
				t.Errorf("one byte over: %s %q", c, d)
			}
			if n, err := st.QueueLen(context.Background(), inboxQueue); err != nil || n != 0 {
				t.Fatalf("inbox holds %d (%v) after the refusal", n, err)
			}
			for _, req := range []ebReq{sized(newReq(newID(t, 45)), cfg.MaxBodyBytes), sized(over, cfg.MaxBodyBytes)} {
				code, body := sendEb(t, g.base, req)
				if code != http.StatusAccepted {
					t.Fatalf("at the limit: status %d\n%.300s", code, body)
				}
				checkAcknowledgment(t, body, req)
				waitFor(t, "processing", func() bool { return proc.callsFor(req.messageID) == 1 })
				var in Inbound
				proc.mu.Lock()
				for _, c := range proc.calls {
					if c.in.MessageID == req.messageID {
						in = c.in
					}
				}
				proc.mu.Unlock()
				if !bytes.Equal(in.Payload, req.payload) {
					t.Errorf("payload of %d bytes processed as %d bytes, not byte for byte", len(req.payload), len(in.Payload))
				}
			}
			waitFor(t, "both answers", func() bool { return len(mhs.messages()) >= 2 })
			time.Sleep(100 * time.Millisecond)
			if n := len(mhs.messages()); n != 2 {
				t.Errorf("MHS got %d answers, want 2", n)
			}
		})
	}
}

// TestOversizedBodyGetsItsError: a body over --max-body, sent whole with
// its Content-Length, gets its Spine-shaped refusal (a final MessageError
// on the ebXML door, a SOAP fault on the SOAP door), not a connection
// reset that loses the answer: the gateway answers before the body is
// all sent, so it must read the rest before it closes the connection.
func TestOversizedBodyGetsItsError(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxBodyBytes = 64 << 10
		st := newMemoryStore()
		proc := newFakeProcessor()
		g := startGateway(t, cfg, st, true, WithProcessor(proc))
		checkOversized(t, g.base, func() *http.Client { return &http.Client{} }, st, proc)
	})
	t.Run("TLS", func(t *testing.T) {
		dir := t.TempDir()
		ca := newCA(t, "HSCN test CA")
		srvCert, srvKey := ca.issue(t, "porxgate", true)
		cfg := testConfig()
		cfg.MaxBodyBytes = 64 << 10
		cfg.TLSCertFile = writeFile(t, dir, "server.pem", srvCert)
		cfg.TLSKeyFile = writeFile(t, dir, "server.key", srvKey)
		st := newMemoryStore()
		proc := newFakeProcessor()
		base := serveOverTLS(t, NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(proc)), cfg, false)
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(ca.pem)
		client := func() *http.Client {
			return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
		}
		checkOversized(t, base, client, st, proc)
	})
}

// checkOversized sends bodies over the 64 KiB limit to both doors at base,
// each with a new client, and checks each gets its refusal.
func checkOversized(t *testing.T, base string, client func() *http.Client, st store.Store, proc *fakeProcessor) {
	t.Helper()
	for _, size := range []int{256 << 10, 1 << 20, 4 << 20} {
		for i := range 3 {
			r := newReq(newID(t, 46))
			r.payload = append(testPayload(r.messageID), bytes.Repeat([]byte(" "), size)...)
			ct, action, body := r.build()
			code, b := post(t, client(), base+PathEbXML, ct, action, body)
			if code != http.StatusInternalServerError {
				t.Fatalf("%d bytes, try %d: status %d", size, i, code)
			}
			if c, d := ebErrorOf(t, b); c != "NotSupported" || !bytes.Contains([]byte(d), []byte("910001:")) {
				t.Errorf("%d bytes: %s %q", size, c, d)
			}
			code, b = post(t, client(), base+PathSOAP, "text/xml", "", append(soapEnvelope(r.messageID, releaseReq, soapPayload), body...))
			if code != http.StatusInternalServerError {
				t.Fatalf("SOAP, %d bytes, try %d: status %d", size, i, code)
			}
			if c, d := faultCode(t, b); c != "300" || !bytes.Contains([]byte(d), []byte("910001:")) {
				t.Errorf("SOAP, %d bytes: %s %q", size, c, d)
			}
		}
	}
	if n, _ := st.QueueLen(context.Background(), inboxQueue); n != 0 || proc.numCalls() != 0 {
		t.Errorf("inbox %d, processed %d: an oversized message was taken", n, proc.numCalls())
	}
}

// gz compresses b with gzip.
func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postEncoded posts body with a Content-Encoding header and returns the
// status and body.
func postEncoded(t *testing.T, url, ct, soapAction, encoding string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Content-Encoding", encoding)
	if soapAction != "" {
		req.Header.Set("SOAPAction", soapAction)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestCompressedBodyBounded: a body sent with Content-Encoding is taken
// when it decodes within --max-body (its payload byte for byte), and
// refused like any body over the limit when it decodes to more (a few
// kilobytes of gzip can hold gigabytes: decoded without a bound, one
// request could take the gateway's memory, and a message over the limit
// would be acknowledged and processed); a body that does not decode is
// refused, never read as the decoder's error text.
func TestCompressedBodyBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 64 << 10
	st := newMemoryStore()
	proc := soapProcessor(nil)
	g := startGateway(t, cfg, st, true, WithProcessor(proc))

	ok := newReq(newID(t, 47))
	ct, action, body := ok.build()
	code, b := postEncoded(t, g.base+PathEbXML, ct, action, "gzip", gz(t, body))
	if code != http.StatusAccepted {
		t.Fatalf("gzip within the limit: status %d\n%s", code, b)
	}
	checkAcknowledgment(t, b, ok)

	big := newReq(newID(t, 48))
	big.payload = append(testPayload(big.messageID), bytes.Repeat([]byte(" "), 1<<20)...)
	ct, action, body = big.build()
	code, b = postEncoded(t, g.base+PathEbXML, ct, action, "gzip", gz(t, body))
	if code != http.StatusInternalServerError {
		t.Fatalf("gzip decoding over the limit: status %d, want 500\n%.400s", code, b)
	}
	if c, d := ebErrorOf(t, b); c != "NotSupported" || !strings.Contains(d, "910001:") {
		t.Errorf("gzip decoding over the limit: %s %q", c, d)
	}

	code, b = postEncoded(t, g.base+PathEbXML, ct, action, "gzip", []byte("not gzip at all"))
	if code != http.StatusInternalServerError {
		t.Fatalf("undecodable gzip: status %d, want 500\n%.400s", code, b)
	}
	if c, d := ebErrorOf(t, b); c != "MimeProblem" || !strings.Contains(d, "Content-Encoding") {
		t.Errorf("undecodable gzip: %s %q", c, d)
	}

	env := soapEnvelope(newID(t, 49), releaseReq, strings.Repeat(" ", 1<<20)+soapPayload)
	code, b = postEncoded(t, g.base+PathSOAP, "text/xml", "", "gzip", gz(t, env))
	if code != http.StatusInternalServerError {
		t.Fatalf("SOAP gzip decoding over the limit: status %d\n%.400s", code, b)
	}
	if c, d := faultCode(t, b); c != "300" || !strings.Contains(d, "910001:") {
		t.Errorf("SOAP gzip decoding over the limit: %s %q", c, d)
	}
	sid := newID(t, 50)
	code, b = postEncoded(t, g.base+PathSOAP, "text/xml", "", "gzip", gz(t, soapEnvelope(sid, releaseReq, soapPayload)))
	if code != http.StatusOK || !strings.Contains(string(b), "R-"+sid) {
		t.Fatalf("SOAP gzip within the limit: status %d\n%s", code, b)
	}

	if n := proc.callsFor(big.messageID); n != 0 {
		t.Errorf("the message over the limit was processed %d times", n)
	}
	if n, _ := st.QueueLen(context.Background(), inboxQueue); n != 1 {
		t.Errorf("inbox holds %d, want only the message within the limit", n)
	}
	l, err := st.Claim(context.Background(), inboxQueue, time.Now(), time.Minute)
	if err != nil || l == nil {
		t.Fatalf("claim: %v %v", l, err)
	}
	if e, err := decodeInboxEntry(l.Data); err != nil || !bytes.Equal(e.Inbound.Payload, ok.payload) {
		t.Errorf("queued payload not the decoded one byte for byte (%v)", err)
	}
}

// TestHandedMessageTakenOverAfterCrash: a message acknowledged and handed
// straight to an idle inbox worker (queued already claimed for it) whose
// replica then dies mid-processing (its store gone: no lease renewal, no
// completion) is taken over by another replica on the same Redis when the
// lease runs out, and answered once, even when the dead replica's
// processing returns afterwards.
func TestHandedMessageTakenOverAfterCrash(t *testing.T) {
	_, newStore := redisStore(t)
	mhs := startMHS(t, "ack")
	g8 := newGate()
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		g8.hold(n)
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	routes := routesTo(t, mhs.srv.URL, "")
	cfg := testConfig()
	cfg.Lease = 400 * time.Millisecond
	dying := newStore()
	a := startGateway(t, cfg, dying, false, WithProcessor(proc), WithRoutes(routes))
	t.Cleanup(g8.release) // before the gateway stops, as in TestEbXMLDuplicatesOnce
	req := newReq(newID(t, 53))
	if code, body := sendEb(t, a.base, req); code != http.StatusAccepted {
		t.Fatalf("not acknowledged: %d\n%s", code, body)
	}
	g8.waitEntered(t)
	_ = dying.Close() // the replica is as good as dead to the store
	startGateway(t, cfg, newStore(), false, WithProcessor(proc), WithRoutes(routes))
	waitFor(t, "the answer from the replica that took over", func() bool { return len(mhs.messages()) >= 1 })
	g8.release() // the dead replica's processing returns: it can store nothing
	time.Sleep(300 * time.Millisecond)
	if n := len(mhs.messages()); n != 1 {
		t.Errorf("MHS got %d answers, want 1", n)
	}
	if got := mhs.messages()[0].msg; got == nil || got.RefToMessageID != req.messageID {
		t.Errorf("answer = %+v", got)
	}
}

// TestEbXMLDuplicateMessageIDCase: a message sent again with its
// eb:MessageId in another letter case (a UUID, which RFC 4122 reads
// without regard to case, and which the SOAP door and the processor's
// kept outcomes already fold) is a duplicate: acknowledged again, each
// acknowledgment referring to the MessageId as that sending wrote it,
// processed once and answered once. Before, the door's duplicate check
// compared the ids exactly, so the second sending was processed again
// and its sender got a second answer (against the simulator: AA for the
// first, AE 0002 "Duplicate prescription ID exists" for the second).
func TestEbXMLDuplicateMessageIDCase(t *testing.T) {
	tests := []struct {
		name          string
		first, second func(string) string
	}{
		{"upper then lower", strings.ToUpper, strings.ToLower},
		{"lower then upper", strings.ToLower, strings.ToUpper},
	}
	for name, mk := range onceStores(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				newStore := mk(t)
				mhs := startMHS(t, "ack")
				proc := newFakeProcessor()
				g := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
				id := newID(t, 41)
				first := newReq(tt.first(id))
				second := first
				second.messageID = tt.second(id)
				for _, req := range []ebReq{first, second} {
					code, body := sendEb(t, g.base, req)
					if code != http.StatusAccepted {
						t.Fatalf("%s: status %d, want 202\n%s", req.messageID, code, body)
					}
					checkAcknowledgment(t, body, req)
				}
				waitFor(t, "the answer", func() bool { return mhs.answersTo(id) >= 1 })
				time.Sleep(200 * time.Millisecond) // a wrongly repeated processing or answer would show now
				if n := proc.callsFor(first.messageID) + proc.callsFor(second.messageID); n != 1 {
					t.Errorf("processed %d times, want 1", n)
				}
				if n := mhs.answersTo(id); n != 1 {
					t.Errorf("MHS got %d answers, want 1", n)
				}
			})
		}
	}
}
