package gateway

import (
	"net/http"
	"testing"

	"github.com/porxgate/porxgate/gateway/store"
)

// TestEbXMLReliabilityFlags: every combination of eb:SyncReply and
// eb:AckRequested a legacy MHS sends is taken with HTTP 202, the status
// an MHS reads as "accepted" (the NHS MHS adaptor's workflows count only
// 202 as acknowledged, any other status as a failure: async express and
// async reliable alike). With SyncReply and AckRequested the 202 carries
// the eb:Acknowledgment; without SyncReply it is empty and, when
// AckRequested, the acknowledgment goes to the sender's endpoint. Each
// message is processed once and answered once.
func TestEbXMLReliabilityFlags(t *testing.T) {
	tests := []struct {
		name                    string
		syncReply, ackRequested bool
		wantSyncAck, wantAsync  bool
	}{
		{"reliable: SyncReply and AckRequested", true, true, true, false},
		{"AckRequested without SyncReply", false, true, false, true},
		{"express: neither", false, false, false, false},
		{"SyncReply without AckRequested", true, false, true, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			req := newReq(newID(t, 700+i))
			req.syncReply, req.ackRequested = tt.syncReply, tt.ackRequested
			code, body := sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("status %d, want 202 (an MHS takes any other status as a failure)\n%s", code, body)
			}
			if tt.wantSyncAck {
				checkAcknowledgment(t, body, req)
			} else if len(body) != 0 {
				t.Errorf("body %q, want none", body)
			}
			waitFor(t, "the answer", func() bool {
				for _, r := range mhs.messages() {
					if r.msg != nil && r.msg.RefToMessageID == req.messageID {
						return true
					}
				}
				return false
			})
			if tt.wantAsync {
				waitFor(t, "the asynchronous acknowledgment", func() bool {
					for _, r := range mhs.messages() {
						if r.ackRef == req.messageID {
							return true
						}
					}
					return false
				})
			} else {
				for _, r := range mhs.messages() {
					if r.ackRef != "" {
						t.Errorf("an asynchronous acknowledgment of %s was sent, none asked for", r.ackRef)
					}
				}
			}
			if n := proc.callsFor(req.messageID); n != 1 {
				t.Errorf("processed %d times, want 1", n)
			}
		})
	}
}
