package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
)

// TestDeliveryRefusedAsynchronously: the receiving MHS answers an async
// answer's attempt with HTTP 200 and no acknowledgment, and posts back an
// eb:MessageError refusing it (ValueNotRecognized, final): the message is
// not sent again and goes to the dead letters saying the receiver refused
// it, and why, as a refusal on the attempt's own exchange does. A
// refusal that may clear up (DeliveryFailure) leaves the retries as they
// were; so too an eb:Acknowledgment that comes with an error of severity
// Error (before, it counted as delivered). Before, any asynchronous
// MessageError was only logged: the
// message was sent again until its retries ran out (4 attempts here) and
// dead-lettered as "not acknowledged", the refusal nowhere.
func TestDeliveryRefusedAsynchronously(t *testing.T) {
	tests := []struct {
		name string
		code ebxml.ErrorCode
		// withAck puts an eb:Acknowledgment of the message beside the
		// eb:ErrorList: an error of severity Error outweighs it.
		withAck  bool
		attempts int
		reason   string
	}{
		{"final", ebxml.CodeValueNotRecognized, false, 1, "refused by the receiver (asynchronous eb:MessageError)"},
		{"may clear up", ebxml.CodeDeliveryFailure, false, 4, "not acknowledged after 4 attempts"},
		{"final beside an acknowledgment", ebxml.CodeValueNotRecognized, true, 1, "refused by the receiver (asynchronous eb:MessageError)"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemoryStore()
			mhs := startMHS(t, "empty")
			p := newFakeProcessor()
			g := startGateway(t, testConfig(), st, false, WithProcessor(p), WithRoutes(routesTo(t, mhs.srv.URL, `, "retries": 3`)))
			var posted atomic.Value
			mhs.setBefore(func(rec received) {
				if rec.msg == nil {
					return
				}
				posted.Store(postSignal(g.base, func() ([]byte, error) {
					me, err := ebxml.BuildMessageError(rec.msg, fmt.Sprintf("E0000000-0000-4000-8000-%012d", time.Now().UnixNano()%1e12), time.Now(),
						ebxml.NewMessageError(tt.code, 0, "refused asynchronously by the test"))
					if err != nil || !tt.withAck {
						return me, err
					}
					ack, err := ebxml.BuildAcknowledgment(rec.msg, "E0000000-0000-4000-8000-00000000000A", time.Now())
					if err != nil {
						return nil, err
					}
					list := string(me[strings.Index(string(me), "<eb:ErrorList") : strings.Index(string(me), "</eb:ErrorList>")+len("</eb:ErrorList>")])
					return []byte(strings.Replace(string(ack), "</SOAP:Header>", list+"</SOAP:Header>", 1)), nil
				}))
			})
			req := newReq(newID(t, 71+i))
			if code, body := sendEb(t, g.base, req); code != 202 {
				t.Fatalf("POST = %d\n%s", code, body)
			}
			dls := waitDeadLetters(t, g, 1)
			if got := posted.Load(); got != "HTTP 202" {
				t.Fatalf("asynchronous MessageError: %v", got)
			}
			sent := 0
			for _, r := range mhs.messages() {
				if r.msg != nil && r.msg.MessageID == dls[0].MessageID {
					sent++
				}
			}
			if sent != tt.attempts || dls[0].Attempts != tt.attempts || !strings.Contains(dls[0].Reason, tt.reason) {
				t.Fatalf("sent %d times, dead letter after %d attempts: %q; want %d attempts, %q", sent, dls[0].Attempts, dls[0].Reason, tt.attempts, tt.reason)
			}
			if tt.attempts == 1 && !strings.Contains(dls[0].Reason, "refused asynchronously by the test") {
				t.Errorf("reason %q does not say why", dls[0].Reason)
			}
			if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 0 {
				t.Errorf("outbox holds %d", n)
			}
		})
	}
}
