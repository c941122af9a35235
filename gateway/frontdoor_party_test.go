package gateway

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
)

// otherParty is a second sender the routes of twoPartyRoutes know.
const otherParty = "FCG71-807342"

// twoPartyRoutes routes senderParty and otherParty (same CPA id) to url.
func twoPartyRoutes(t *testing.T, url string) *outbox.Routes {
	t.Helper()
	route := `{"url": "` + url + `", "cpaId": "` + senderCPA + `", "retries": 5, "retryInterval": "30ms", "persistDuration": "1m"}`
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": `+route+`, "`+otherParty+`": `+route+`}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEbXMLMessageIDOfAnotherParty: a MessageId is the sender's
// (ebMS 2.0: globally unique); a message from another eb:From party under
// a MessageId taken within the persist duration is not that message sent
// again. Before, the door's mark had no party: the second party's
// message was acknowledged (202 eb:Acknowledgment) and never processed,
// its prescription silently lost. Now it is refused before any
// acknowledgment (eb:MessageError Inconsistent, 910041), so its MHS
// knows; the first party's own retries are still acknowledged again and
// not processed again.
func TestEbXMLMessageIDOfAnotherParty(t *testing.T) {
	tests := []struct {
		name          string
		second        func(string) string // the MessageId the other party writes
		sync, viaTime bool
	}{
		{name: "sync reply", second: func(s string) string { return s }, sync: true},
		{name: "async ack, other letter case", second: strings.ToLower},
		{name: "past its time to live", second: func(s string) string { return s }, sync: true, viaTime: true},
	}
	for name, mk := range onceStores(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				newStore := mk(t)
				mhs := startMHS(t, "ack")
				proc := newFakeProcessor()
				g := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, mhs.srv.URL)))
				id := newID(t, 42)
				first := newReq(id)
				first.syncReply = tt.sync
				if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
					t.Fatalf("first party: status %d, want 202\n%s", code, body)
				}
				second := first
				second.from, second.messageID = otherParty, tt.second(id)
				second.payload = testPayload(second.messageID)
				ct, action, req := second.build()
				if tt.viaTime {
					const ts = "<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>"
					req = bytes.Replace(req, []byte(ts), []byte(ts+"<eb:TimeToLive>2026-03-01T12:01:00Z</eb:TimeToLive>"), 1)
				}
				code, body := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, req)
				if code == http.StatusAccepted {
					t.Fatalf("another party's message under a MessageId taken was acknowledged (202), and is never processed\n%s", body)
				}
				if ec, desc := ebErrorOf(t, body); code != http.StatusInternalServerError || ec != string(ebxml.CodeInconsistent) || !strings.HasPrefix(desc, "910041:") {
					t.Errorf("another party's message: status %d, %s %q; want 500, Inconsistent 910041", code, ec, desc)
				}
				// The first party's retry is a duplicate, as before.
				if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
					t.Fatalf("first party's retry: status %d, want 202\n%s", code, body)
				}
				waitFor(t, "the first party's message processed", func() bool { return proc.callsFor(id) >= 1 })
				time.Sleep(200 * time.Millisecond)
				if n := proc.callsFor(id) + proc.callsFor(strings.ToLower(id)); n != 1 {
					t.Errorf("processed %d times, want 1 (the first party's)", n)
				}
			})
		}
	}
}

// TestEbXMLMarkWithoutParty: a duplicate-elimination mark written before
// the party was recorded beside it (an upgrade, with marks in the store)
// still makes its sender's retry a duplicate: acknowledged again, not
// processed a second time, nor refused.
func TestEbXMLMarkWithoutParty(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			st := mk(t)()
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, mhs.srv.URL)))
			req := newReq(newID(t, 43))
			// As the door wrote it before it recorded the party.
			if fresh, err := st.MarkSeen(t.Context(), duplicateKey(TransportEbXML, req.action, req.messageID), time.Minute); err != nil || !fresh {
				t.Fatalf("mark: %v %v", fresh, err)
			}
			code, body := sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("retry under a mark without a party: status %d, want 202\n%s", code, body)
			}
			checkAcknowledgment(t, body, req)
			time.Sleep(200 * time.Millisecond)
			if n := proc.callsFor(req.messageID); n != 0 {
				t.Errorf("processed %d times, want 0 (taken before the upgrade)", n)
			}
		})
	}
}
