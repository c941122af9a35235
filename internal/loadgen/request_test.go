package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// builtTheOldWay is message i as the load generator made every message
// before its template: the v3 template with the new short-form id and
// transmission id, wrapped by ebxml.BuildMessage.
func builtTheOldWay(t *testing.T, tpl []byte, from, msgID, newShort string, now time.Time) (string, []byte) {
	t.Helper()
	shortID, _, err := templateIDs(tpl)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.ReplaceAll(tpl, []byte(shortID), []byte(newShort))
	payload = replaceTransmissionID(payload, msgID)
	ct, body, err := ebxml.BuildMessage(outbound(from, msgID, now, payload))
	if err != nil {
		t.Fatal(err)
	}
	return ct, body
}

// mappedTemplate is the template porxgate load sends: the embedded
// prescription order mapped to v3.
func mappedTemplate(t testing.TB) []byte {
	t.Helper()
	tpl, err := prescribe.PrescribeToV3(PrescriptionOrder, mapping.Meta{},
		mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestRequestTemplateIsBuildMessage: each message filled from the
// template, head and body, is byte for byte the request the load
// generator built for it before (the v3 template's ids replaced and the
// ebXML message built anew), for the test template and the one porxgate
// load maps, with and without an HTTP head, one buffer reused.
func TestRequestTemplateIsBuildMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		tpl  []byte
		host string
	}{
		{"test template, body alone", []byte(template), ""},
		{"test template with the HTTP head", []byte(template), "127.0.0.1:8080"},
		{"mapped template with the HTTP head", mappedTemplate(t), "localhost:9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shortID, ods, err := templateIDs(tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := newRequestTemplate(tc.tpl, shortID, LoadgenParty, tc.host, "/p"+requestPath)
			if err != nil {
				t.Fatal(err)
			}
			var buf []byte
			now := time.Date(2026, 12, 7, 21, 4, 5, 999_999_999, time.FixedZone("CET", 3600))
			for i := range 5 {
				msgID := strings.ToUpper(ids.NewUUID())
				short, err := shortFormID(uint32(i)*0x1234567, ods)
				if err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Duration(i) * 1111 * time.Millisecond)
				buf = rt.fill(buf, msgID, short, now)
				ct, want := builtTheOldWay(t, tc.tpl, LoadgenParty, msgID, short, now)
				if got := rt.body(buf); !bytes.Equal(got, want) {
					t.Fatalf("message %d differs from BuildMessage's:\n got %.300q\nwant %.300q", i, got, want)
				}
				if rt.contentType != ct {
					t.Fatalf("Content-Type %q, BuildMessage's %q", rt.contentType, ct)
				}
				if tc.host == "" {
					if rt.head != 0 {
						t.Fatalf("a head of %d bytes without a host", rt.head)
					}
					continue
				}
				req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf)))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(req.Body)
				if req.Method != http.MethodPost || req.Host != tc.host || req.URL.Path != "/p"+requestPath || req.ContentLength != int64(len(want)) ||
					req.Header.Get("Content-Type") != ct || req.Header.Get("SOAPAction") != soapAction || !bytes.Equal(body, want) {
					t.Fatalf("request %s %s host %s, length %d, headers %v; want POST of the %d-byte message", req.Method, req.URL, req.Host, req.ContentLength, req.Header, len(want))
				}
			}
		})
	}
}

// TestRequestTemplateRefusesItsStandIns: a v3 template that holds one of
// the stand-ins is refused, not patched where it should not be.
func TestRequestTemplateRefusesItsStandIns(t *testing.T) {
	for _, s := range []string{msgIDStandIn, shortStandIn, ebxmlStamp(stampStandIn)} {
		tpl := strings.Replace(template, "</ParentPrescription>", "<text>"+s+"</text></ParentPrescription>", 1)
		if _, err := newRequestTemplate([]byte(tpl), "C1D2E3-A99968-00A1BM", LoadgenParty, "", ""); err == nil || !strings.Contains(err.Error(), "stand-in") {
			t.Errorf("template holding %q: err %v, want it refused", s, err)
		}
	}
}

// poolTo is a connection pool to the target at url, closed when the test
// ends, and what sends message i of the test template on it.
func poolTo(t *testing.T, url string) (*connPool, func(i int) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := newConnPool(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.close(); cancel() })
	shortID, ods, _ := templateIDs([]byte(template))
	rt, err := newRequestTemplate([]byte(template), shortID, LoadgenParty, strings.TrimPrefix(url, "http://"), requestPath)
	if err != nil {
		t.Fatal(err)
	}
	return p, func(i int) (bool, string) {
		short, _ := shortFormID(uint32(i), ods)
		return p.send(func(b []byte) []byte { return rt.fill(b, strings.ToUpper(ids.NewUUID()), short, time.Now()) })
	}
}

// TestConnPoolKeepsOneConnection: messages sent one after another go over
// one keep-alive connection; answers of every framing (a length, chunked,
// none with the connection closed after) and refusals are read whole, and
// a connection the target closes after its answer is not used again.
func TestConnPoolKeepsOneConnection(t *testing.T) {
	var cc connCounter
	var n atomic.Int64
	srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch n.Add(1) {
		case 2: // chunked: written in pieces, flushed
			w.WriteHeader(http.StatusAccepted)
			for range 3 {
				_, _ = io.WriteString(w, strings.Repeat("a", 3000))
				w.(http.Flusher).Flush()
			}
		case 3:
			http.Error(w, "no route", http.StatusNotFound)
		case 4:
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	_, send := poolTo(t, srv.URL)
	for i := range 6 {
		ok, why := send(i)
		if want := i != 2; ok != want || !want && why != "HTTP 404: no route\n" {
			t.Fatalf("message %d: accepted %v (%q), want %v", i, ok, why, want)
		}
	}
	// Messages 1 to 4 on the first connection, 5 and 6 on a second: the
	// target closed the first after the fourth.
	if all, _ := cc.counts(); all != 2 {
		t.Fatalf("%d connections; want 2", all)
	}
}

// TestConnPoolDropsWhatTheTargetClosed: a connection the target closed
// while it was idle is found closed before it is used, and the message
// goes on a new one.
func TestConnPoolDropsWhatTheTargetClosed(t *testing.T) {
	var cc connCounter
	srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	p, sendOne := poolTo(t, srv.URL)
	send := func() {
		t.Helper()
		if ok, why := sendOne(1); !ok {
			t.Fatalf("refused: %s", why)
		}
	}
	send()
	srv.CloseClientConnections() // as the gateway closes one idle for 120 s
	p.mu.Lock()
	p.idle[0].used = time.Now().Add(-2 * staleAfter)
	p.mu.Unlock()
	send()
	if all, _ := cc.counts(); all != 2 {
		t.Fatalf("%d connections; want 2: the closed one dropped", all)
	}
}

// TestOpenSaysWhatTheTargetDid: open tells a connection the target keeps
// from one it closed or wrote to unasked.
func TestOpenSaysWhatTheTargetDid(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		name  string
		serve func(net.Conn)
		open  bool
	}{
		{"kept", func(c net.Conn) {}, true},
		{"closed", func(c net.Conn) { c.Close() }, false},
		{"wrote unasked", func(c net.Conn) { _, _ = io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\n\r\n") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tc.serve(s)
			time.Sleep(50 * time.Millisecond) // the close or the bytes to arrive
			if got := open(c); got != tc.open {
				t.Fatalf("open = %v, want %v", got, tc.open)
			}
		})
	}
}

// TestConnPoolSaysWhyItCouldNotSend: a refused connection and a target
// not plain http are said as the HTTP client said them.
func TestConnPoolSaysWhyItCouldNotSend(t *testing.T) {
	for _, target := range []string{"https://127.0.0.1:1", "http://", "ftp://127.0.0.1"} {
		if _, err := newConnPool(context.Background(), target, nil); err == nil {
			t.Errorf("newConnPool(%q) took it", target)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := newConnPool(context.Background(), "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ok, why := p.send(func(b []byte) []byte { return append(b[:0], "x"...) })
	want := `Post "http://` + addr + requestPath + `": dial tcp ` + addr + `: connect: connection refused`
	if ok || why != want {
		t.Fatalf("accepted %v, %q; want %q", ok, why, want)
	}
}

// BenchmarkRequest is the making of one message: the template filled
// (now), against mapping the ids and building the ebXML message (before),
// for the test template and the one porxgate load maps (about 20 KB).
func BenchmarkRequest(b *testing.B) {
	for _, tc := range []struct {
		name string
		tpl  []byte
	}{{"test", []byte(template)}, {"mapped", mappedTemplate(b)}} {
		shortID, ods, _ := templateIDs(tc.tpl)
		rt, err := newRequestTemplate(tc.tpl, shortID, LoadgenParty, "127.0.0.1:8080", requestPath)
		if err != nil {
			b.Fatal(err)
		}
		msgID := strings.ToUpper(ids.NewUUID())
		b.Run(tc.name+"/template", func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for i := 0; b.Loop(); i++ {
				short, _ := shortFormID(uint32(i), ods)
				buf = rt.fill(buf, msgID, short, time.Now())
			}
		})
		b.Run(tc.name+"/BuildMessage", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				short, _ := shortFormID(uint32(i), ods)
				payload := replaceTransmissionID(bytes.ReplaceAll(tc.tpl, []byte(shortID), []byte(short)), msgID)
				if _, _, err := ebxml.BuildMessage(outbound(LoadgenParty, msgID, time.Now(), payload)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// answerFor is an MCCI answer in the conversation of msgID, as the
// gateway delivers it, with its HTTP Content-Type.
func answerFor(t testing.TB, msgID string) (string, []byte) {
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: "YES-0000806", ToPartyID: LoadgenParty, CPAID: "S20001A000100", ConversationID: msgID,
		Action: "MCCI_IN010000UK13", MessageID: strings.ToUpper(ids.NewUUID()), RefToMessageID: msgID, Timestamp: time.Now(),
		AckRequested: true, SyncReply: true,
		Payload: []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><id root="` + ids.NewUUID() + `"/><acknowledgement typeCode="AE"><messageRef><id root="` + msgID + `"/></messageRef></acknowledgement></MCCI_IN010000UK13>`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ct, body
}

// TestReceiverCountsEachAnswer: answers are matched to their messages by
// ConversationId: the first of each counted by its code, a repeat as
// answered twice, one to no message sent as a stray; a delivery that is
// not an ebXML message is refused (HTTP 400) and counted as none.
func TestReceiverCountsEachAnswer(t *testing.T) {
	recv, err := StartReceiver("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	sent := []string{strings.ToUpper(ids.NewUUID()), strings.ToUpper(ids.NewUUID())}
	due := time.Now()
	for _, id := range sent {
		recv.expect(id, due)
	}
	post := func(ct string, body []byte) int {
		t.Helper()
		resp, err := http.Post(recv.URL(), ct, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		ack, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusAccepted {
			if ref, err := ebxml.ParseAcknowledgment(ack); err != nil || ref == "" {
				t.Fatalf("the receiver's 202 is no eb:Acknowledgment: %v, %.200q", err, ack)
			}
		}
		return resp.StatusCode
	}
	for k, id := range []string{sent[0], sent[1], sent[0], strings.ToUpper(ids.NewUUID())} {
		if code := post(answerFor(t, id)); code != http.StatusAccepted {
			t.Fatalf("answer %d: HTTP %d", k, code)
		}
	}
	for _, bad := range [][2]string{{"text/plain", "hello"}, {`multipart/related; boundary="x"`, "--x\r\n\r\n<a/>\r\n--x--\r\n"}, {"text/xml", ""}} {
		if code := post(bad[0], []byte(bad[1])); code != http.StatusBadRequest {
			t.Fatalf("%q delivered: HTTP %d, want 400", bad[1], code)
		}
	}
	n, twice, stray, codes, _, lat := recv.answers()
	if n != 2 || twice != 1 || stray != 1 || codes["AE"] != 2 || len(codes) != 1 || lat.N != 2 {
		t.Fatalf("answered %d, twice %d, stray %d, codes %v, latencies %v; want 2, 1, 1, AE=2, 2", n, twice, stray, codes, lat)
	}
	if !recv.waitAnswers(context.Background(), 2) {
		t.Fatal("waitAnswers(2) did not see the two answered")
	}
}

// BenchmarkReceiver is one answer taken by the receiver over a real
// socket, from the client's side (its CPU and allocations are both
// sides').
func BenchmarkReceiver(b *testing.B) {
	recv, err := StartReceiver("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer recv.Close()
	msgID := strings.ToUpper(ids.NewUUID())
	recv.expect(msgID, time.Now())
	ct, body := answerFor(b, msgID)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, recv.URL(), bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkParseAnswer is the receiver's reading of one answer: the whole
// message read in place with v3's reader (ebxml.ParseRequestInPlace).
func BenchmarkParseAnswer(b *testing.B) {
	ct, body := answerFor(b, strings.ToUpper(ids.NewUUID()))
	buf := make([]byte, len(body))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, body)
		m, err := ebxml.ParseRequestInPlace(v3.ReadXML, ct, "", buf)
		if err != nil {
			b.Fatal(err)
		}
		_ = fieldsOf(m)
	}
}

// TestRunSendsOnItsOwnConnections: a run without Options.Client sends on
// the load generator's own connections (no Accept-Encoding, which
// net/http's Transport adds), one with it through that client; both send
// the same message.
func TestRunSendsOnItsOwnConnections(t *testing.T) {
	for _, tc := range []struct {
		name     string
		client   *http.Client
		encoding string
	}{
		{"own connections", nil, ""},
		{"Options.Client", &http.Client{}, "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			encodings := map[string]int{}
			var cc connCounter
			srv := cc.serve(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if _, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body); err != nil || r.URL.Path != requestPath {
					http.Error(w, fmt.Sprint(r.URL.Path, err), http.StatusBadRequest)
					return
				}
				mu.Lock()
				encodings[r.Header.Get("Accept-Encoding")]++
				mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
			})
			res, err := Run(context.Background(), Options{Target: srv.URL + "/", AdminURL: inboxEmpty(t).URL, Rate: 500, Messages: 20, Connections: 2,
				Timeout: 10 * time.Second, Template: []byte(template), Client: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 20 || encodings[tc.encoding] != 20 {
				t.Fatalf("accepted %d (%s), Accept-Encoding %v; want 20, all %q", res.Accepted, res.FirstError, encodings, tc.encoding)
			}
		})
	}
}
