package ebxml

import (
	"bytes"
	"testing"
)

func TestRoundTripBuildMessageParseRequest(t *testing.T) {
	base := goldenOutbound(t)
	variants := []struct {
		name string
		o    OutboundMessage
	}{
		{"defaults", base},
		{"no ref, sync reply, own boundary and cid", with(base, func(o *OutboundMessage) {
			o.RefToMessageID, o.SyncReply, o.AckRequested, o.DuplicateElimination = "", true, false, false
			o.Boundary, o.PayloadContentID, o.PayloadContentType = "=_porxgate_b1", "payload-1@porxgate.example", "text/xml"
			o.Service, o.Action = "urn:nhs:names:services:mmquery", "QURX_IN999999UK"
		})},
		{"payload with CRLF and no trailing newline", with(base, func(o *OutboundMessage) {
			o.Payload = []byte("<hl7:x xmlns:hl7=\"urn:hl7-org:v3\">\r\n  <hl7:y>Ōsaka 東京</hl7:y>\r\n</hl7:x>\r\n\r\n")
		})},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ct, body, err := BuildMessage(v.o)
			if err != nil {
				t.Fatal(err)
			}
			m := mustParse(t, ct, v.o.SOAPAction(), body)
			svc := v.o.Service
			if svc == "" {
				svc = ServiceMM
			}
			checks := []struct{ what, got, want string }{
				{"From", m.FromPartyID, v.o.FromPartyID},
				{"To", m.ToPartyID, v.o.ToPartyID},
				{"CPAId", m.CPAID, v.o.CPAID},
				{"ConversationId", m.ConversationID, v.o.ConversationID},
				{"Service", m.Service, svc},
				{"Action", m.Action, v.o.Action},
				{"MessageId", m.MessageID, "0F4E2D6C-8B1A-4C3E-9D7F-2A5B6C8D0E1F"},
				{"RefToMessageId", m.RefToMessageID, v.o.RefToMessageID},
				{"Timestamp", m.TimestampRaw, v.o.Timestamp.UTC().Format(TimestampLayout)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if m.AckRequested != v.o.AckRequested || m.SyncReply != v.o.SyncReply || m.DuplicateElimination != v.o.DuplicateElimination {
				t.Errorf("flags ack=%v sync=%v dup=%v", m.AckRequested, m.SyncReply, m.DuplicateElimination)
			}
			if m.Payload == nil || !bytes.Equal(m.Payload.Body, v.o.Payload) {
				t.Fatalf("payload not returned byte for byte")
			}
			if len(m.Manifest) != 1 || !m.Manifest[0].HL7Payload || m.Manifest[0].ContentID != m.Payload.ContentID {
				t.Errorf("manifest %+v payload cid %q", m.Manifest, m.Payload.ContentID)
			}
		})
	}
}
