package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
)

// TestEbXMLRetryOfAMessageInHand: a message waits in the inbox past its
// persist duration (EPS down), its duplicate-elimination mark gone, and
// its sender sends it again, or another party sends a message under its
// MessageId. The message in hand is still what the retry is told by, in
// either letter case of its MessageId and past its eb:TimeToLive: its
// sender's retry is acknowledged again (202) and not queued again, so
// that it is processed and answered once; another party's is refused
// Inconsistent 910041. Before, a retry in the other letter case was
// queued a second time (the inbox item was named by the MessageId as
// written) and processed and answered twice, another party's message in
// the other letter case was taken beside it, and a retry past its time to
// live was refused TimeToLiveExpired though the message was taken,
// acknowledged and still to be answered.
func TestEbXMLRetryOfAMessageInHand(t *testing.T) {
	tests := []struct {
		name      string
		other     bool                // the retry comes from another party
		recase    func(string) string // the retry's MessageId from the first's
		pastTTL   bool                // the message carries an eb:TimeToLive, passed when it is sent again
		wantTaken bool                // acknowledged (else refused 910041)
	}{
		{name: "its sender, other letter case", recase: strings.ToLower, wantTaken: true},
		{name: "its sender, past its time to live", recase: strings.ToUpper, pastTTL: true, wantTaken: true},
		{name: "its sender, other letter case, past its time to live", recase: strings.ToLower, pastTTL: true, wantTaken: true},
		{name: "another party, other letter case", other: true, recase: strings.ToLower},
		{name: "another party, past its time to live", other: true, recase: strings.ToUpper, pastTTL: true},
	}
	for name, mk := range onceStores(t) {
		for i, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				proc, down := newEPSDownProcessor()
				cfg := testConfig()
				cfg.PersistDuration = 300 * time.Millisecond
				mhs := startMHS(t, "ack")
				g := startGateway(t, cfg, mk(t)(), false, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, mhs.srv.URL)))
				id := strings.ToUpper(newID(t, 60+i))
				first := newReq(id)
				if tt.pastTTL {
					first.timeToLive = time.Now().Add(2 * time.Second) // alive while it is first sent, however loaded the machine
				}
				if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
					t.Fatalf("first: status %d, want 202\n%s", code, body)
				}
				waitFor(t, "the message tried", func() bool { return proc.callsFor(id) >= 1 })
				wait := cfg.PersistDuration + 200*time.Millisecond // its mark gone, the message queued still
				if tt.pastTTL {
					wait = max(wait, time.Until(first.timeToLive)+200*time.Millisecond)
				}
				time.Sleep(wait)

				retry := first
				retry.messageID = tt.recase(id)
				if tt.other {
					retry.from = otherParty
				}
				code, body := sendEb(t, g.base, retry)
				if !tt.wantTaken {
					if ec, desc := ebErrorOf(t, body); code != http.StatusInternalServerError || ec != string(ebxml.CodeInconsistent) || !strings.HasPrefix(desc, "910041:") {
						t.Errorf("status %d, %s %q; want 500, Inconsistent 910041", code, ec, desc)
					}
				} else {
					if code != http.StatusAccepted {
						t.Fatalf("its sender's retry of a message taken and still queued: status %d, want 202\n%s", code, body)
					}
					checkAcknowledgment(t, body, retry)
				}
				if n, err := g.srv.msg.store.QueueLen(t.Context(), inboxQueue); err != nil || n != 1 {
					t.Errorf("inbox holds %d (%v), want the message once", n, err)
				}
				down.Store(false)
				waitFor(t, "the answer", func() bool { return mhs.answersTo(id) >= 1 })
				time.Sleep(200 * time.Millisecond) // a second processing or answer would show now
				if n := mhs.answersTo(id); n != 1 {
					t.Errorf("the MHS got %d answers, want 1", n)
				}
				proc.mu.Lock()
				defer proc.mu.Unlock()
				for _, c := range proc.calls {
					if c.in.FromParty != senderParty || c.in.MessageID != id {
						t.Errorf("processed %s's message %s; want only %s's %s", c.in.FromParty, c.in.MessageID, senderParty, id)
					}
				}
			})
		}
	}
}
