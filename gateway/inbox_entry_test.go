package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
)

// TestInboxEntryEncoding: an inbox entry reads back whole whether queued
// framed (its payload raw, as this release writes it) or as JSON alone (as
// releases before it did); a dead letter keeps the entry as JSON its
// resend can read.
func TestInboxEntryEncoding(t *testing.T) {
	e := inboxEntry{Inbound: Inbound{Transport: TransportEbXML, Interaction: "PORX_IN020101UK31", MessageID: "M1",
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Payload: []byte("<a>\n\"x\" &amp; {}\n</a>")}, Attempts: 3}
	it, err := e.item(e.Inbound.ReceivedAt)
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != "PORX_IN020101UK31:M1" {
		t.Fatalf("item id %q", it.ID)
	}
	old, _ := json.Marshal(e)
	head := e
	head.Inbound.Payload = nil
	framed, err := outbox.Frame(head, e.Inbound.Payload)
	if err != nil {
		t.Fatal(err)
	}
	// This release queues it framed (outbox.FramedWrites), which the
	// previous release reads as the "framed" case below does.
	if !bytes.Equal(it.Data, framed) {
		t.Fatalf("an inbox entry as queued is not framed:\n%q\nwant\n%q", it.Data, framed)
	}
	for name, data := range map[string][]byte{"as queued": it.Data, "framed": framed, "json alone": old} {
		got, err := decodeInboxEntry(data)
		if err != nil || got.Inbound.MessageID != "M1" || string(got.Inbound.Payload) != string(e.Inbound.Payload) || got.Attempts != 3 {
			t.Fatalf("%s: decodeInboxEntry = %+v, %v", name, got, err)
		}
		var back inboxEntry
		if err := json.Unmarshal(entryJSON(data), &back); err != nil || string(back.Inbound.Payload) != string(e.Inbound.Payload) {
			t.Fatalf("%s: dead letter entry %s: %v", name, entryJSON(data), err)
		}
	}
	if _, err := decodeInboxEntry([]byte("not json\n<a/>")); err == nil {
		t.Fatal("a broken entry decoded")
	}
	if entryJSON([]byte("not json")) != nil {
		t.Fatal("a broken entry kept as JSON")
	}
}
