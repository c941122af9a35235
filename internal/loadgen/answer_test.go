package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// deliveredAnswer is an answer as a gateway delivers it (ebxml.BuildMessage),
// in the conversation of msgID, with payload.
func deliveredAnswer(t testing.TB, msgID string, ackRequested bool, payload string) (string, string) {
	t.Helper()
	ct, body, err := ebxml.BuildMessage(ebxml.OutboundMessage{
		FromPartyID: "YES-0000806", ToPartyID: LoadgenParty, CPAID: "S20001A000100", ConversationID: msgID,
		Action: "MCCI_IN010000UK13", MessageID: strings.ToUpper(ids.NewUUID()), RefToMessageID: msgID, Timestamp: stampStandIn,
		AckRequested: ackRequested, SyncReply: ackRequested, DuplicateElimination: true, Payload: []byte(payload),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ct, string(body)
}

// parsedWhole is what the receiver took from a message before scanAnswer:
// ebxml.ParseRequest's fields (ok false when it gave no message).
func parsedWhole(ct string, body []byte) (answerFields, bool) {
	m, err := ebxml.ParseRequestWith(v3.ReadXML, ct, "", []byte(string(body)))
	if m == nil {
		return answerFields{}, false
	}
	_ = err
	return fieldsOf(m), true
}

// TestScanAnswerIsParseRequest: for the answers a gateway delivers, and
// the same written as other senders might (other prefixes, LF line ends,
// an unquoted boundary, the other SOAP actor), scanAnswer finds what
// ebxml.ParseRequest reads; for anything it is not sure of it says so
// (and the receiver reads the message whole).
func TestScanAnswerIsParseRequest(t *testing.T) {
	id := strings.ToUpper(ids.NewUUID())
	mcci := func(code string) string {
		return `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><id root="` + ids.NewUUID() + `"/><acknowledgement typeCode="` + code + `"><messageRef><id root="` + id + `"/></messageRef></acknowledgement></MCCI_IN010000UK13>`
	}
	ct, aa := deliveredAnswer(t, id, true, mcci("AA"))
	_, ae := deliveredAnswer(t, id, false, mcci("AE"))
	_, plain := deliveredAnswer(t, id, true, `<PORX_IN080101UK04 xmlns="urn:hl7-org:v3"/>`)
	unquoted := strings.Replace(ct, `boundary="`+ebxml.DefaultBoundary+`"`, "boundary="+ebxml.DefaultBoundary, 1)
	for _, tc := range []struct {
		name, ct, body string
		scanned        bool
		code           string
	}{
		{"AA with eb:AckRequested", ct, aa, true, "AA"},
		{"AE without", ct, ae, true, "AE"},
		{"no HL7 acknowledgement: the interaction", ct, plain, true, "MCCI_IN010000UK13"},
		{"other prefixes", ct, strings.NewReplacer("eb:", "ebms:", "xmlns:eb=", "xmlns:ebms=", "SOAP:", "soapenv:", "xmlns:SOAP=", "xmlns:soapenv=").Replace(aa), true, "AA"},
		{"LF line ends", ct, strings.ReplaceAll(aa, "\r\n", "\n"), true, "AA"},
		{"unquoted boundary", unquoted, aa, true, "AA"},
		{"nextMSH actor", ct, strings.Replace(aa, ebxml.ActorToPartyMSH, ebxml.ActorNextMSH, 1), true, "AA"},
		{"spaces around an id", ct, strings.Replace(aa, ">"+id+"<", ">\n  "+id+"  \n<", 1), true, "AA"},
		// Read whole: scanAnswer is not sure.
		{"a comment in the header", ct, strings.Replace(aa, "<eb:CPAId>", "<!-- x --><eb:CPAId>", 1), false, "AA"},
		{"an entity in an id", ct, strings.Replace(aa, "S20001A000100", "S20001A&amp;00100", 1), false, "AA"},
		{"no ConversationId", ct, strings.Replace(aa, "ConversationId", "Conversation", 2), false, ""},
		{"no boundary", "multipart/related", aa, false, ""},
		{"payload first", ct, "--" + ebxml.DefaultBoundary + "\r\nContent-Type: application/xml\r\n\r\n" + mcci("AR") + "\r\n" + aa, false, ""},
		{"cut before the payload", ct, aa[:strings.Index(aa, "</SOAP:Envelope>")], false, ""},
		{"not multipart", "text/xml", "<SOAP:Envelope/>", false, ""},
		{"empty", ct, "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := scanAnswer(tc.ct, []byte(tc.body))
			if ok != tc.scanned {
				t.Fatalf("scanAnswer ok = %v, want %v (%+v)", ok, tc.scanned, got)
			}
			whole, parsed := parsedWhole(tc.ct, []byte(tc.body))
			if ok && (!parsed || got != whole) {
				t.Fatalf("scanAnswer found %+v, ParseRequest read %+v (%v)", got, whole, parsed)
			}
			if code := whole.code; ok && code != tc.code || !ok && parsed && tc.code != "" && code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
}

// FuzzScanAnswer: whatever is delivered, scanAnswer does not panic, and
// what it finds in a message ebxml.ParseRequest reads is what that reads.
func FuzzScanAnswer(f *testing.F) {
	ct, aa := deliveredAnswer(f, "B3A7B3A6-1C39-4A4E-9B8F-4A40B2B8A6C1", true,
		`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`)
	f.Add(ct, aa)
	f.Add(ct, strings.ReplaceAll(aa, "\r\n", "\n"))
	f.Add(ct, strings.Replace(aa, "eb:From", "eb:To", 1))
	f.Add("multipart/related; boundary=x", "--x\r\n\r\n<eb:MessageHeader><eb:ConversationId>1</eb:ConversationId></eb:MessageHeader>\r\n--x--")
	f.Fuzz(func(t *testing.T, ct, body string) {
		got, ok := scanAnswer(ct, []byte(body))
		if !ok {
			return
		}
		if got.conversationID == "" || got.messageID == "" || got.code == "" {
			t.Fatalf("scanned without an id: %+v", got)
		}
		if whole, parsed := parsedWhole(ct, []byte(body)); parsed && whole.conversationID != "" && whole != got {
			t.Fatalf("scanAnswer found %+v, ParseRequest read %+v", got, whole)
		}
	})
}

// TestReceiverSpeaksHTTP: the receiver's own HTTP/1.1 on a raw socket:
// messages one after another on one connection (a length or chunked),
// Expect: 100-continue, a sender that asks to close, and what is not HTTP
// (400, closed).
func TestReceiverSpeaksHTTP(t *testing.T) {
	recv, err := StartReceiver("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToUpper(ids.NewUUID())
	recv.expect(id, time.Now())
	ct, body := deliveredAnswer(t, id, true, `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`)
	post := func(extra, framed string) string {
		return "POST /mhs HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct + "\r\n" + extra + "\r\n" + framed
	}
	withLength := post("Content-Length: "+strconv.Itoa(len(body))+"\r\n", body)
	chunked := post("Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body))
	for _, tc := range []struct {
		name     string
		send     []string
		statuses []int
		closed   bool
	}{
		{"keep-alive, a length then chunked", []string{withLength, chunked, withLength}, []int{202, 202, 202}, false},
		{"Expect: 100-continue", []string{post("Content-Length: "+strconv.Itoa(len(body))+"\r\nExpect: 100-continue\r\n", body)}, []int{100, 202}, false},
		{"the sender asks to close", []string{post("Content-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n", body)}, []int{202}, true},
		{"not an ebXML message", []string{post("Content-Length: 5\r\n", "hello")}, []int{400}, false},
		{"not HTTP", []string{"HELLO\r\n\r\n"}, []int{400}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", recv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for _, m := range tc.send {
				if _, err := io.WriteString(c, m); err != nil {
					t.Fatal(err)
				}
			}
			for k, want := range tc.statuses {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("answer %d: %v", k, err)
				}
				got, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != want {
					t.Fatalf("answer %d: HTTP %d %q, want %d", k, resp.StatusCode, got, want)
				}
				if want == 202 {
					if ref, err := ebxml.ParseAcknowledgment(got); err != nil || resp.Header.Get("Content-Type") != "text/xml" || resp.Close != tc.closed {
						t.Fatalf("answer %d: %v %q, closing %v", k, err, ref, resp.Close)
					}
				}
			}
			if tc.closed {
				if n, err := br.ReadByte(); err != io.EOF {
					t.Fatalf("connection still open: %v %v", n, err)
				}
			}
		})
	}
	// One answer counted, however many times it came.
	if n, twice, _, codes, _, _ := recv.answers(); n != 1 || codes["AA"] != 1 || twice != 4 {
		t.Fatalf("answered %d, twice %d, codes %v; want 1, 4, AA=1", n, twice, codes)
	}
	// Close ends a connection waiting for its next message at once.
	c, err := net.Dial("tcp", recv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := recv.Close(); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Close: %v after %s", err, time.Since(start))
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the idle connection after Close: %v, want EOF", err)
	}
}

// TestAckTemplateIsBuildAcknowledgment: the receiver's acknowledgment,
// from its template once made, is byte for byte what
// ebxml.BuildAcknowledgment writes, for each sender, actor and length of
// ids, with ids that need escaping (written anew), and after whatever is
// in the buffer already.
func TestAckTemplateIsBuildAcknowledgment(t *testing.T) {
	var acks ackTemplates
	base := answerFields{from: "YES-0000806", to: LoadgenParty, cpaID: "S20001A000100", action: "MCCI_IN010000UK13",
		ackRequested: true, ackActor: ebxml.ActorToPartyMSH, code: "AA"}
	variants := []func(f *answerFields){
		func(f *answerFields) {},
		func(f *answerFields) { f.ackActor = ebxml.ActorNextMSH },
		func(f *answerFields) { f.ackActor, f.ackRequested = "", false },
		func(f *answerFields) { f.from = "A&B<~~~>" },
		func(f *answerFields) { f.conversationID = "conv-" + f.conversationID[:7] },
		func(f *answerFields) { f.messageID = "a&b" },
		func(f *answerFields) { f.conversationID = "two words" },
		func(f *answerFields) { f.cpaID = strings.Repeat("~", 36) }, // holds a stand-in: written anew
	}
	now := time.Date(2026, 12, 7, 21, 30, 1, 5, time.FixedZone("x", -3600))
	for round := range 3 {
		for v, change := range variants {
			f := base
			f.conversationID, f.messageID = strings.ToUpper(ids.NewUUID()), strings.ToUpper(ids.NewUUID())
			change(&f)
			id := strings.ToUpper(ids.NewUUID())
			now = now.Add(1500 * time.Millisecond)
			want, err := ebxml.BuildAcknowledgment(f.message(), id, now)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("HTTP head")
			got, err := acks.appendAck(prefix, f, id, now)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("round %d, variant %d: got\n%s\nwant\n%s", round, v, got, want)
			}
		}
	}
	made := 0
	for _, tpl := range acks.m {
		if tpl != nil {
			made++
		}
	}
	if made < 4 {
		t.Fatalf("%d templates made of %d kinds; want the plain ones (4) at least", made, len(acks.m))
	}
	if _, err := acks.appendAck(nil, answerFields{conversationID: "x", messageID: "y"}, strings.ToUpper(ids.NewUUID()), now); err == nil {
		t.Fatal("an acknowledgment without parties was made")
	}
}
