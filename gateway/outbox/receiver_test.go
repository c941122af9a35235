package outbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// testWorker is a Worker over a memory store delivering to party
// "RECEIVER-1" at url (retries 1, a minute apart) with client (nil: the
// Worker's own). results records what Report was told.
func testWorker(t *testing.T, url string, client *http.Client) (*Worker, *store.Memory, *[]string) {
	t.Helper()
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 1, "retryInterval": "1m", "persistDuration": "1h"}}`, url)), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(nil)
	var mu sync.Mutex
	var results []string
	w := NewWorker(WorkerConfig{Store: st, Routes: routes, Client: client, Workers: 1, Timeout: 5 * time.Second,
		Report: func(d Delivery, result, detail string) {
			mu.Lock()
			results = append(results, result+": "+detail)
			mu.Unlock()
		}})
	return w, st, &results
}

// receiverDeliveries are an async answer and an eb:Acknowledgment to party
// RECEIVER-1, with the MessageIds given.
func receiverDeliveries(t testing.TB, answerID, ackID string) (answer, ack Delivery) {
	t.Helper()
	now := time.Now()
	received := &ebxml.Message{FromPartyID: "RECEIVER-1", ToPartyID: "YES-0000806", CPAID: "S1", ConversationID: "C1", MessageID: "R1"}
	answer, err := NewAnswer(Addressing{OurParty: "YES-0000806", TheirParty: "RECEIVER-1", CPAID: "S1", ConversationID: "C1", RefToMessageID: "R1"},
		"MCCI_IN010000UK13", []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`), answerID, now)
	if err != nil {
		t.Fatal(err)
	}
	if ack, err = NewAcknowledgment(received, ackID, now); err != nil {
		t.Fatal(err)
	}
	return answer, ack
}

// queue puts d in st's outbox, due now.
func queue(t *testing.T, st *store.Memory, d Delivery) {
	t.Helper()
	it, err := d.Item(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(context.Background(), it); err != nil {
		t.Fatal(err)
	}
}

// TestDeliveryDoesNotFollowRedirects: a receiver answering a delivery with
// a redirect has not taken it. The worker does not follow: the message is
// never sent on to the redirect's target (another host, which the routing
// table does not name), the attempt fails with the redirect named, and
// the message is retried and dead-lettered as for any failure. Before,
// net/http followed: a 302 or 303 became a GET without the message, whose
// 2xx counted as delivered (the message was lost), and a 307 or 308 sent
// the message, patient data and all, to the other host.
func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	target := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	answer, ack := receiverDeliveries(t, "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002")
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, d := range []Delivery{answer, ack} {
			t.Run(fmt.Sprintf("%d %s", status, d.Kind), func(t *testing.T) {
				before := elsewhere.Load()
				receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, target+"/elsewhere", status)
				}))
				for _, client := range []*http.Client{nil, {Timeout: 5 * time.Second}} {
					w, st, results := testWorker(t, receiver, client)
					queue(t, st, d)
					if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
						t.Fatalf("DeliverOne = %v, %v", ok, err)
					}
					if len(*results) != 1 || !strings.HasPrefix((*results)[0], ResultRetry+": ") || !strings.Contains((*results)[0], "redirect") ||
						!strings.Contains((*results)[0], target+"/elsewhere") {
						t.Fatalf("results %q, want one retry naming the redirect and its target", *results)
					}
					if elsewhere.Load() != before {
						t.Fatal("the redirect's target was called")
					}
					if n, err := st.QueueLen(context.Background(), Queue); err != nil || n != 1 {
						t.Fatalf("outbox holds %d (%v), want the message waiting for its retry", n, err)
					}
				}
			})
		}
	}
}

// TestAcceptedWithBrokenBodyIsDelivered: a receiver's 202 (or, for an
// acknowledgment or message error, any 2xx) takes the message whatever
// follows it, so an answer body cut short after the status — a closed
// connection, a body that never ends within the attempt's time — does not
// make the worker send the message again. Before, send read the body
// before looking at the status: the read error made a delivered message a
// failed attempt, retried (a duplicate at the receiver) and in the end
// dead-lettered though it had been taken every time.
func TestAcceptedWithBrokenBodyIsDelivered(t *testing.T) {
	answer, ack := receiverDeliveries(t, "aaaaaaaa-0000-4000-8000-000000000003", "aaaaaaaa-0000-4000-8000-000000000004")
	tests := []struct {
		name   string
		status int
		d      Delivery
		want   string
	}{
		{"answer 202", http.StatusAccepted, answer, ResultDelivered},
		{"acknowledgment 200", http.StatusOK, ack, ResultDelivered},
		{"answer 200 needs its eb:Acknowledgment", http.StatusOK, answer, ResultRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: text/xml\r\nContent-Length: 4096\r\n\r\n<SOAP", tt.status, http.StatusText(tt.status))
				_ = buf.Flush()
			}))
			w, st, results := testWorker(t, receiver, nil)
			queue(t, st, tt.d)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			if len(*results) != 1 || !strings.HasPrefix((*results)[0], tt.want+": ") {
				t.Fatalf("results %q, want %s", *results, tt.want)
			}
		})
	}
}

// TestErrorListAnswerIsNotDelivered: a receiver's answer whose body is an
// eb:ErrorList says what became of the message, whatever the 2xx status
// it comes with: an error of severity Error refuses it (final, or retried
// when every such error is DeliveryFailure or Unknown), and an ErrorList
// of warnings alone (ebMS 2.0 §4.2.3.4: processing went on) refuses
// nothing. An eb:ErrorList about another message says nothing of this
// one. Before, an answer's 202 and an acknowledgment's 200 counted as
// delivered whatever the body said, an ErrorList of warnings alone on a
// 200 dead-lettered an answer as "refused", and an ErrorList about
// another MessageId dead-lettered this one.
func TestErrorListAnswerIsNotDelivered(t *testing.T) {
	answer, ack := receiverDeliveries(t, "aaaaaaaa-0000-4000-8000-000000000005", "aaaaaaaa-0000-4000-8000-000000000006")
	now := time.Now()
	errorList := func(about string, errs ...*ebxml.MessageError) []byte {
		t.Helper()
		b, err := ebxml.BuildMessageError(testMessage(about), "DDDDDDDD-0000-4000-8000-000000000001", now, errs...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unknownCPA := ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId")
	busy := ebxml.NewMessageError(ebxml.CodeDeliveryFailure, 0, "try later")
	warning := &ebxml.MessageError{Code: ebxml.CodeNotSupported, Severity: ebxml.SeverityWarning, Text: "eb:SyncReply not supported"}
	tests := []struct {
		name   string
		status int
		body   []byte
		d      Delivery
		want   string // result prefix
	}{
		{"answer 202 refused", http.StatusAccepted, errorList(answer.MessageID, unknownCPA), answer, ResultDeadLetter + ": refused by the receiver"},
		{"answer 202 delivery failure", http.StatusAccepted, errorList(answer.MessageID, busy), answer, ResultRetry + ": "},
		{"answer 202 warnings only", http.StatusAccepted, errorList(answer.MessageID, warning), answer, ResultDelivered + ": "},
		{"answer 202 error list about another message", http.StatusAccepted, errorList("CCCCCCCC-0000-4000-8000-000000000001", unknownCPA), answer, ResultDelivered + ": "},
		{"answer 200 warnings only", http.StatusOK, errorList(answer.MessageID, warning), answer, ResultRetry + ": "},
		{"answer 200 warning and delivery failure", http.StatusOK, errorList(answer.MessageID, warning, busy), answer, ResultRetry + ": "},
		{"answer 200 error list about another message", http.StatusOK, errorList("CCCCCCCC-0000-4000-8000-000000000001", unknownCPA), answer, ResultRetry + ": "},
		{"acknowledgment 200 refused", http.StatusOK, errorList(ack.MessageID, unknownCPA), ack, ResultDeadLetter + ": refused by the receiver"},
		{"acknowledgment 200 delivery failure", http.StatusOK, errorList(ack.MessageID, busy), ack, ResultRetry + ": "},
		{"acknowledgment 200 warnings only", http.StatusOK, errorList(ack.MessageID, warning), ack, ResultDelivered + ": "},
		{"acknowledgment 200 not ebXML", http.StatusOK, []byte("<html>thanks</html>"), ack, ResultDelivered + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tt.status)
				_, _ = w.Write(tt.body)
			}))
			w, st, results := testWorker(t, receiver, nil)
			queue(t, st, tt.d)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			if len(*results) != 1 || !strings.HasPrefix((*results)[0], tt.want) {
				t.Fatalf("results %q, want one starting %q", *results, tt.want)
			}
		})
	}
}

// TestAcknowledgedDuringAttempt: a receiver may acknowledge a delivery
// asynchronously (the gateway then drops it from the outbox) before it
// answers the attempt's own POST. Whatever that answer, the worker, whose
// lease went with the entry, says what happened, without a warning that
// the message "may be sent again" or "is retried": nothing is left to
// send. Before, both were logged at WARN, untrue, and DeliverOne failed
// with the lost lease as a store error.
func TestAcknowledgedDuringAttempt(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusAccepted} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			st := store.NewMemory(nil)
			answer, _ := receiverDeliveries(t, "aaaaaaaa-0000-4000-8000-000000000007", "aaaaaaaa-0000-4000-8000-000000000008")
			receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ok, err := st.Drop(r.Context(), Queue, answer.MessageID); !ok || err != nil {
					t.Errorf("async acknowledgment: dropped %v, %v", ok, err)
				}
				w.WriteHeader(status)
			}))
			routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 1, "retryInterval": "1m", "persistDuration": "1h"}}`, receiver)), DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			var logged strings.Builder
			var mu sync.Mutex
			log := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, &slog.HandlerOptions{Level: slog.LevelInfo}))
			w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second, Log: log})
			queue(t, st, answer)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if out := logged.String(); strings.Contains(out, "level=WARN") || !strings.Contains(out, "acknowledged") {
				t.Fatalf("logged:\n%s\nwant no warning, and the delivery said acknowledged meanwhile", out)
			}
		})
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestMultipartAcknowledgmentIsRead: a receiver may acknowledge an answer
// on its own exchange with a multipart/related body, as ebMS 2.0 packages
// messages and as the front door takes them: with a MIME preamble before
// the first boundary, or the header part not first (its Content-Type's
// start names it). The worker reads the acknowledgment as the front door
// would. Before, only a body that began with its boundary was read: the
// others were "not acknowledged", sent again until dead-lettered, and a
// release response so dead-lettered had its prescriptions released to the
// dispenser a second time.
func TestMultipartAcknowledgmentIsRead(t *testing.T) {
	answer, _ := receiverDeliveries(t, "aaaaaaaa-0000-4000-8000-000000000009", "aaaaaaaa-0000-4000-8000-00000000000a")
	received := &ebxml.Message{FromPartyID: "YES-0000806", ToPartyID: "RECEIVER-1", CPAID: "S1", ConversationID: "C1", MessageID: answer.MessageID}
	ack, err := ebxml.BuildAcknowledgment(received, "DDDDDDDD-0000-4000-8000-000000000009", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	header := "Content-Id: <ebXMLHeader@spine.nhs.uk>\r\nContent-Type: text/xml; charset=UTF-8\r\n\r\n" + string(ack) + "\r\n"
	other := "Content-Id: <note@receiver>\r\nContent-Type: text/plain\r\n\r\nreceived\r\n"
	tests := []struct {
		name, contentType, body string
	}{
		{"no preamble", `multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`,
			"----=_MIME-Boundary\r\n" + header + "----=_MIME-Boundary--\r\n"},
		{"preamble", `multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`,
			"This is a multi-part message in MIME format.\r\n----=_MIME-Boundary\r\n" + header + "----=_MIME-Boundary--\r\n"},
		{"header part second, parameters unquoted", `multipart/related; boundary=B1; type=text/xml; start=ebXMLHeader@spine.nhs.uk`,
			"--B1\r\n" + other + "--B1\r\n" + header + "--B1--\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, tt.body)
			}))
			w, st, results := testWorker(t, receiver, nil)
			queue(t, st, answer)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			if len(*results) != 1 || !strings.HasPrefix((*results)[0], ResultDelivered+": ") {
				t.Fatalf("results %q, want delivered", *results)
			}
		})
	}
}

// TestFinalSOAPFaultIsDeadLetteredAtOnce: a receiver that answers a
// delivery with a SOAP fault whose nasp:errorList code senders do not
// retry (here 300) has refused it for good: it goes to the dead letters
// after that one attempt, with the fault's code and text as the reason.
// One with a code senders retry (200) is retried as before. Before, every
// SOAP fault read as a bare "HTTP 500" and was retried until the route's
// retries ran out (4 attempts here), the reason naming no fault.
func TestFinalSOAPFaultIsDeadLetteredAtOnce(t *testing.T) {
	tests := []struct {
		code string
		// attempts is how many attempts are made; dead whether the
		// message is then dead-lettered (else it waits for a retry).
		attempts int
		dead     bool
	}{
		{"300", 1, true},
		{"200", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			fault, err := ebxml.BuildSOAPFault(ebxml.SOAPFault{Errors: []ebxml.SOAPError{{Code: tt.code, Description: "refused by the test"}}})
			if err != nil {
				t.Fatal(err)
			}
			var posts atomic.Int32
			url := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(fault)
			}))
			routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q, "retries": 3, "retryInterval": "1ms", "persistDuration": "1h"}}`, url)), DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			st := store.NewMemory(nil)
			w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second})
			answer, _ := receiverDeliveries(t, "AAAAAAAA-0000-4000-8000-0000000000F1", "AAAAAAAA-0000-4000-8000-0000000000F2")
			queue(t, st, answer)
			if ok, err := w.DeliverOne(context.Background()); !ok || err != nil {
				t.Fatalf("DeliverOne = %v, %v", ok, err)
			}
			dls, _ := st.DeadLetters(context.Background(), 10)
			if int(posts.Load()) != tt.attempts || (len(dls) == 1) != tt.dead {
				t.Fatalf("%d attempts, %d dead letters; want %d attempts, dead-lettered %v", posts.Load(), len(dls), tt.attempts, tt.dead)
			}
			if !tt.dead {
				return
			}
			dl, err := DecodeDeadLetter(dls[0])
			if err != nil || dl.Attempts != 1 || !strings.Contains(dl.Reason, "refused by the receiver") ||
				!strings.Contains(dl.Reason, "300 refused by the test") {
				t.Fatalf("dead letter %+v (%v); want one attempt, refused, with the fault's code and text", dl, err)
			}
		})
	}
}
