package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestEbXMLAcceptOneRoundTrip: the front door takes an ebXML message in
// one round trip to Redis (the Accept script), its party recorded in the
// same step as its duplicate-elimination mark; a duplicate costs one
// more only to queue its asynchronous acknowledgment again. Before, the
// party was a write of its own after the Accept: two round trips per
// accepted message, and a duplicate read it back with one more (2 for a
// SyncReply duplicate, 3 for one acknowledged asynchronously).
func TestEbXMLAcceptOneRoundTrip(t *testing.T) {
	tests := []struct {
		name                   string
		syncReply, ackRequired bool
		fresh, duplicate       uint64 // round trips per message
	}{
		{name: "sync reply", syncReply: true, ackRequired: true, fresh: 1, duplicate: 1},
		{name: "asynchronous acknowledgment", ackRequired: true, fresh: 1, duplicate: 2},
		{name: "no acknowledgment asked", fresh: 1, duplicate: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := redisStore(t)
			reg := prometheus.NewRegistry()
			if err := InstrumentRedis(reg, st); err != nil {
				t.Fatal(err)
			}
			g := startGateway(t, testConfig(), st, true, WithProcessor(newFakeProcessor()), WithRoutes(routesTo(t, startMHS(t, "ack").srv.URL, "")))
			trips := func() uint64 {
				var n uint64
				for _, c := range redisOps(t, reg) {
					n += c
				}
				return n
			}
			const msgs = 5
			var reqs []ebReq
			for j := range msgs + 1 {
				r := newReq(newID(t, 100+10*i+j))
				r.syncReply, r.ackRequested = tt.syncReply, tt.ackRequired
				reqs = append(reqs, r)
			}
			// A first message and its duplicate connect, and load the
			// scripts (EVALSHA, then EVAL once): not counted.
			for range 2 {
				if code, body := sendEb(t, g.base, reqs[msgs]); code != http.StatusAccepted {
					t.Fatalf("status %d, want 202\n%s", code, body)
				}
			}
			reqs = reqs[:msgs]
			before := trips()
			for _, r := range reqs {
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("status %d, want 202\n%s", code, body)
				}
			}
			if got := trips() - before; got != msgs*tt.fresh {
				t.Errorf("%d round trips to Redis for %d messages accepted, want %d each (ops %v)", got, msgs, tt.fresh, redisOps(t, reg))
			}
			before = trips()
			for _, r := range reqs {
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("duplicate: status %d, want 202\n%s", code, body)
				}
			}
			if got := trips() - before; got != msgs*tt.duplicate {
				t.Errorf("%d round trips to Redis for %d duplicates, want %d each (ops %v)", got, msgs, tt.duplicate, redisOps(t, reg))
			}
		})
	}
}

// partyWriteLost is a store whose PutReply fails: a write made after the
// Accept is lost, as when the gateway stops (killed, or its store failing
// over) just after it took the message.
type partyWriteLost struct {
	store.Store
	failed atomic.Int64
}

// PutReply implements store.Store.
func (p *partyWriteLost) PutReply(context.Context, string, []byte, time.Duration) error {
	p.failed.Add(1)
	return errors.New("store failing over")
}

// TestEbXMLPartyKeptWithTheMark: the party a MessageId was taken from is
// written in the one step that takes the message. Before, it was a write
// of its own after the message was taken and acknowledged: when that
// write failed (a store failing over, the process killed between the
// two), another party's message under the same MessageId within the
// persist duration was acknowledged as a duplicate and never processed.
func TestEbXMLPartyKeptWithTheMark(t *testing.T) {
	for name, mk := range onceStores(t) {
		t.Run(name, func(t *testing.T) {
			st := &partyWriteLost{Store: mk(t)()}
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), st, true, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, startMHS(t, "ack").srv.URL)))
			id := newID(t, 44)
			first := newReq(id)
			if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
				t.Fatalf("first party: status %d, want 202\n%s", code, body)
			}
			second := first
			second.from = otherParty
			code, body := sendEb(t, g.base, second)
			if code == http.StatusAccepted {
				t.Fatalf("another party's message under a MessageId taken was acknowledged (202), and is never processed (%d party writes failed)\n%s", st.failed.Load(), body)
			}
			if ec, desc := ebErrorOf(t, body); code != http.StatusInternalServerError || ec != string(ebxml.CodeInconsistent) || !strings.HasPrefix(desc, "910041:") {
				t.Errorf("another party's message: status %d, %s %q; want 500, Inconsistent 910041", code, ec, desc)
			}
			if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
				t.Fatalf("first party's retry: status %d, want 202\n%s", code, body)
			}
		})
	}
}

// TestEbXMLMessageIDReusedWhileQueued: a message waits in the inbox past
// its persist duration (EPS down), its duplicate-elimination mark gone.
// Another party's message under the same MessageId is refused as the
// live mark refuses it (Inconsistent 910041): before, it was acknowledged
// (202) and dropped, the inbox holding a message of that id already; its
// prescription was never sent. The first party's retry is still its
// message again: acknowledged, processed once.
func TestEbXMLMessageIDReusedWhileQueued(t *testing.T) {
	for name, mk := range onceStores(t) {
		for _, sync := range []bool{true, false} {
			t.Run(name+map[bool]string{true: "/syncreply", false: "/async-ack"}[sync], func(t *testing.T) {
				proc, down := newEPSDownProcessor()
				cfg := testConfig()
				cfg.PersistDuration = 300 * time.Millisecond
				g := startGateway(t, cfg, mk(t)(), false, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, startMHS(t, "ack").srv.URL)))
				id := newID(t, 45)
				first := newReq(id)
				first.syncReply = sync
				if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
					t.Fatalf("first party: status %d, want 202\n%s", code, body)
				}
				waitFor(t, "the first party's message tried", func() bool { return proc.callsFor(id) >= 1 })
				time.Sleep(cfg.PersistDuration + 200*time.Millisecond) // its mark gone, the message queued still

				second := first
				second.from = otherParty
				code, body := sendEb(t, g.base, second)
				if code == http.StatusAccepted {
					t.Fatalf("another party's message under the MessageId of a message queued was acknowledged (202), and is never processed\n%s", body)
				}
				if ec, desc := ebErrorOf(t, body); code != http.StatusInternalServerError || ec != string(ebxml.CodeInconsistent) || !strings.HasPrefix(desc, "910041:") {
					t.Errorf("another party's message: status %d, %s %q; want 500, Inconsistent 910041", code, ec, desc)
				}
				if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
					t.Fatalf("first party's retry: status %d, want 202\n%s", code, body)
				}
				down.Store(false)
				waitFor(t, "the first party's message answered", func() bool {
					n, err := g.srv.msg.store.QueueLen(t.Context(), inboxQueue)
					return err == nil && n == 0
				})
				proc.mu.Lock()
				defer proc.mu.Unlock()
				for _, c := range proc.calls {
					if c.in.FromParty != senderParty {
						t.Errorf("processed a message of %s under %s", c.in.FromParty, c.in.MessageID)
					}
				}
			})
		}
	}
}

// TestEbXMLPartyRecordOfAnEarlierRelease: a MessageId taken by the
// release before this one has its party in a record of its own beside
// its mark (partyMarkKey), not in the mark. Through an upgrade, while
// such records last, another party's message under it is still refused
// (alive or past its eb:TimeToLive) and its own party's retry is still a
// duplicate, acknowledged and not processed.
func TestEbXMLPartyRecordOfAnEarlierRelease(t *testing.T) {
	tests := []struct {
		name     string
		from     string
		pastTTL  bool
		accepted bool
	}{
		{name: "another party", from: otherParty},
		{name: "another party, past its time to live", from: otherParty, pastTTL: true},
		{name: "its own party", from: senderParty, accepted: true},
		{name: "its own party, past its time to live", from: senderParty, pastTTL: true, accepted: true},
	}
	for name, mk := range onceStores(t) {
		for i, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				st := mk(t)()
				proc := newFakeProcessor()
				g := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithRoutes(twoPartyRoutes(t, startMHS(t, "ack").srv.URL)))
				req := newReq(newID(t, 46+i))
				key := duplicateKey(TransportEbXML, req.action, req.messageID)
				// As the release before wrote them.
				if fresh, err := st.MarkSeen(t.Context(), key, time.Minute); err != nil || !fresh {
					t.Fatalf("mark: %v %v", fresh, err)
				}
				if err := st.PutReply(t.Context(), partyMarkKey(key), []byte(senderParty), time.Minute); err != nil {
					t.Fatal(err)
				}
				req.from = tt.from
				ct, action, body := req.build()
				if tt.pastTTL {
					const ts = "<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>"
					body = bytes.Replace(body, []byte(ts), []byte(ts+"<eb:TimeToLive>2026-03-01T12:01:00Z</eb:TimeToLive>"), 1)
				}
				code, answer := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body)
				if tt.accepted {
					if code != http.StatusAccepted {
						t.Fatalf("its own party's retry: status %d, want 202\n%s", code, answer)
					}
					checkAcknowledgment(t, answer, req)
				} else if ec, desc := ebErrorOf(t, answer); code != http.StatusInternalServerError || ec != string(ebxml.CodeInconsistent) || !strings.HasPrefix(desc, "910041:") {
					t.Errorf("another party's message: status %d, %s %q; want 500, Inconsistent 910041", code, ec, desc)
				}
				time.Sleep(200 * time.Millisecond)
				if n := proc.numCalls(); n != 0 {
					t.Errorf("processed %d times, want 0 (taken before the upgrade)", n)
				}
			})
		}
	}
}
