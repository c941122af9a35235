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
