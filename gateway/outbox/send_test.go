package outbox

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// testMessage is a received message to build receivers' answers from.
func testMessage(id string) *ebxml.Message {
	return &ebxml.Message{FromPartyID: "YES-0000806", ToPartyID: "FQ2KM-807341", CPAID: "S1", ConversationID: "C1", MessageID: id}
}

func TestJudge(t *testing.T) {
	const id = "AAAAAAAA-0000-4000-8000-000000000001"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ack, _ := ebxml.BuildAcknowledgment(testMessage(id), "BBBBBBBB-0000-4000-8000-000000000001", now)
	otherAck, _ := ebxml.BuildAcknowledgment(testMessage("CCCCCCCC-0000-4000-8000-000000000001"), "BBBBBBBB-0000-4000-8000-000000000002", now)
	refused, _ := ebxml.BuildMessageError(testMessage(id), "BBBBBBBB-0000-4000-8000-000000000003", now,
		ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId"))
	busy, _ := ebxml.BuildMessageError(testMessage(id), "BBBBBBBB-0000-4000-8000-000000000004", now,
		ebxml.NewMessageError(ebxml.CodeDeliveryFailure, 0, "try later"))
	// The NHS MHS adaptor's inbound service answers a delivery on HTTP 200
	// with its own shapes (checked against its code outside the repo).
	adaptorAck, adaptorNack := readTestdata(t, "mhs-adaptor-ack.xml"), readTestdata(t, "mhs-adaptor-nack.xml")
	// An eb:Acknowledgment and an eb:ErrorList in one header: an error of
	// severity Error is an unrecoverable error in the message (ebMS 2.0,
	// eb:Error's severity): not taken,
	// whatever else the header holds; warnings alone refuse nothing.
	ackWith := func(code ebxml.ErrorCode, severity string) []byte {
		list := `<eb:ErrorList SOAP:mustUnderstand="1" eb:highestSeverity="` + severity + `" eb:version="2.0">` +
			`<eb:Error eb:codeContext="urn:oasis:names:tc:ebxml-msg:service:errors" eb:errorCode="` + string(code) + `" eb:severity="` + severity + `">` +
			`<eb:Description xml:lang="en-GB">refused with an acknowledgment</eb:Description></eb:Error></eb:ErrorList>`
		return []byte(strings.Replace(string(ack), "</SOAP:Header>", list+"</SOAP:Header>", 1))
	}
	// A receiver may answer with a Spine-style SOAP fault (HTTP 500,
	// nasp:errorList): senders retry only TMS codes 200, 206 and 208.
	fault := func(codes ...string) []byte {
		f := ebxml.SOAPFault{}
		for _, c := range codes {
			f.Errors = append(f.Errors, ebxml.SOAPError{Code: c, Description: "code " + c})
		}
		b, err := ebxml.BuildSOAPFault(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// A SOAP 1.1 Client fault: the message itself is wrong (SOAP 1.1 §4.4.1).
	clientFault := []byte(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>bad message</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	serverFault := []byte(strings.ReplaceAll(string(clientFault), "SOAP-ENV:Client", "SOAP-ENV:Server"))
	answer := Delivery{MessageID: id, Kind: KindAnswer}
	signal := Delivery{MessageID: id, Kind: KindAcknowledgment}
	tests := []struct {
		name      string
		status    int
		body      []byte
		d         Delivery
		wantErr   string // "" delivered
		wantFinal bool
	}{
		{"200 with the acknowledgment", 200, ack, answer, "", false},
		{"202 empty", 202, nil, answer, "", false},
		{"200 empty", 200, nil, answer, "HTTP 200 with an empty body", false},
		{"200 other acknowledgment", 200, otherAck, answer, "refers to CCCCCCCC", false},
		{"200 not ebXML", 200, []byte("<html/>"), answer, "HTTP 200 without an eb:Acknowledgment", false},
		{"500 refused", 500, refused, answer, "refused", true},
		{"500 delivery failure", 500, busy, answer, "DeliveryFailure", false},
		{"200 with refusal", 200, refused, answer, "refused", true},
		{"503", 503, nil, answer, "HTTP 503", false},
		{"503 with html", 503, []byte("<html>down</html>"), answer, "HTTP 503", false},
		{"200 with the MHS adaptor's acknowledgment", 200, adaptorAck, answer, "", false},
		{"200 with the MHS adaptor's acknowledgment of another", 200, []byte(strings.ReplaceAll(string(adaptorAck), id, "CCCCCCCC-0000-4000-8000-000000000001")), answer, "refers to CCCCCCCC", false},
		{"200 with the MHS adaptor's refusal (not its party)", 200, adaptorNack, answer, "ValueNotRecognized", true},
		{"200 acknowledgment with an error", 200, ackWith(ebxml.CodeValueNotRecognized, ebxml.SeverityError), answer, "refused", true},
		{"202 acknowledgment with an error", 202, ackWith(ebxml.CodeValueNotRecognized, ebxml.SeverityError), answer, "refused", true},
		{"200 acknowledgment with a delivery failure", 200, ackWith(ebxml.CodeDeliveryFailure, ebxml.SeverityError), answer, "DeliveryFailure", false},
		{"200 acknowledgment with a warning", 200, ackWith(ebxml.CodeValueNotRecognized, ebxml.SeverityWarning), answer, "", false},
		{"500 SOAP fault 300", 500, fault("300"), answer, "refused: soap fault", true},
		{"500 SOAP fault 201", 500, fault("201"), answer, "201", true},
		{"500 SOAP fault 200 and 300", 500, fault("200", "300"), answer, "300", true},
		{"500 SOAP fault 200", 500, fault("200"), answer, "200", false},
		{"500 SOAP fault 206 and 208", 500, fault("206", "208"), answer, "206", false},
		{"500 SOAP Client fault", 500, clientFault, answer, "bad message", true},
		{"500 SOAP Server fault", 500, serverFault, answer, "bad message", false},
		{"202 with the acknowledgment", 202, ack, answer, "", false},
		{"202 with another's acknowledgment", 202, otherAck, answer, "", false},
		{"202 not ebXML", 202, []byte("<html/>"), answer, "", false},
		{"202 with refusal", 202, refused, answer, "refused", true},
		{"202 acknowledgment naming ErrorList in its text", 202, []byte(strings.Replace(string(ack), "</SOAP:Header>", "<!-- no eb:ErrorList here --></SOAP:Header>", 1)), answer, "", false},
		{"202 MHS adaptor's refusal", 202, adaptorNack, answer, "ValueNotRecognized", true},
		{"signal on 200", 200, nil, signal, "", false},
		{"signal on 200 with refusal", 200, refused, signal, "refused", true},
		{"signal on 500", 500, nil, signal, "HTTP 500", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := judge(tt.status, tt.body, tt.d, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("not delivered: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || isFinal(err) != tt.wantFinal {
				t.Fatalf("err = %v (final %v), want %q (final %v)", err, isFinal(err), tt.wantErr, tt.wantFinal)
			}
		})
	}
}

// readTestdata reads one of the package's test messages.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSendHeaders(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	d, err := NewAnswer(Addressing{OurParty: "YES-0000806", TheirParty: "FQ2KM-807341", CPAID: "S1", ConversationID: "C1", RefToMessageID: "R1"},
		"MCCI_IN010000UK13", []byte("<x/>"), "aaaaaaaa-0000-4000-8000-000000000001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.MessageID != "AAAAAAAA-0000-4000-8000-000000000001" {
		t.Errorf("MessageID %s not upper-case", d.MessageID)
	}
	if err := send(context.Background(), http.DefaultClient, nil, srv, d); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Get("SOAPAction") != `"urn:nhs:names:services:mm/MCCI_IN010000UK13"` || !strings.HasPrefix(got.Get("Content-Type"), "multipart/related;") {
		t.Errorf("headers = %v", got)
	}
}

// TestHoldKeepsTheLease: a held lease outlives its duration. The lease is
// long enough (renewed every 100 ms, 200 ms to spare) that a loaded
// machine's late timer does not let it run out: with 60 ms it did, now and
// then, in a full test run.
func TestHoldKeepsTheLease(t *testing.T) {
	m := store.NewMemory(nil)
	ctx := context.Background()
	_ = m.Enqueue(ctx, store.Item{Queue: "q", ID: "1", Data: []byte("d"), Due: time.Now()})
	const lease = 300 * time.Millisecond
	l, err := m.Claim(ctx, "q", time.Now(), lease)
	if err != nil || l == nil {
		t.Fatal(l, err)
	}
	stop := Hold(ctx, m, l, lease, time.Now)
	time.Sleep(4 * lease)
	if other, _ := m.Claim(ctx, "q", time.Now(), lease); other != nil {
		t.Fatal("claimed by another worker while held")
	}
	stop()
	if err := m.Complete(ctx, l, store.Finish{}); err != nil {
		t.Fatalf("Complete after holding: %v", err)
	}
}

func TestLoopStops(t *testing.T) {
	tests := []struct {
		name           string
		finishInGrace  bool
		wantWorkCancel bool
	}{
		{"work in hand finishes within the grace period", true, false},
		{"work in hand outlasting the grace period is cancelled", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			entered := make(chan struct{})
			var once sync.Once
			var workErr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				Loop(ctx, 1, time.Millisecond, nil, 50*time.Millisecond, func(work context.Context) bool {
					once.Do(func() { close(entered) })
					if tt.finishInGrace {
						<-ctx.Done()
					} else {
						<-work.Done()
					}
					workErr = work.Err()
					return true
				})
			}()
			<-entered
			cancel()
			<-done
			if (workErr != nil) != tt.wantWorkCancel {
				t.Errorf("work context error = %v, want cancelled %v", workErr, tt.wantWorkCancel)
			}
		})
	}
}

// TestLoopIdlePoolPollsOnce checks that an idle pool looks for work once a
// poll, not once a poll per goroutine, and that a tick still wakes one of
// them: with 16 goroutines that never find work, each looks once on
// starting, and after that the looks keep pace with the ticks, far under
// the 16 per tick of every goroutine polling on its own.
func TestLoopIdlePoolPollsOnce(t *testing.T) {
	const (
		n    = 16
		poll = 5 * time.Millisecond
	)
	var steps atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		Loop(ctx, n, poll, nil, time.Second, func(context.Context) bool {
			steps.Add(1)
			return false
		})
	}()
	// Polling goes on: looks beyond the first n come from ticks.
	deadline := time.Now().Add(5 * time.Second)
	for steps.Load() < n+5 {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("%d looks in 5 s: the idle pool stopped polling", steps.Load())
		}
		time.Sleep(poll)
	}
	time.Sleep(20 * poll)
	cancel()
	<-done
	ticks := int64(time.Since(start)/poll) + 1
	if got := steps.Load(); got > n+ticks {
		t.Errorf("%d looks in %d ticks by %d idle goroutines: want at most %d (one a tick)", got, ticks, n, n+ticks)
	}
}

// TestLoopWakeAndTick checks that a wake makes an idle goroutine look at
// once, well before the poll, and that work found keeps it looking.
func TestLoopWakeAndTick(t *testing.T) {
	wake := make(chan struct{}, 1)
	var pending atomic.Int64
	looked := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Loop(ctx, 4, time.Hour, wake, time.Second, func(context.Context) bool {
			if pending.Load() > 0 {
				pending.Add(-1)
				looked <- struct{}{}
				return true
			}
			return false
		})
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(10 * time.Millisecond) // every goroutine idle, the next tick an hour away
	pending.Store(3)
	wake <- struct{}{}
	for i := 0; i < 3; i++ {
		select {
		case <-looked:
		case <-time.After(5 * time.Second):
			t.Fatalf("after a wake, %d of 3 items taken", i)
		}
	}
}
