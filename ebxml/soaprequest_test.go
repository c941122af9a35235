package ebxml

import (
	"strings"
	"testing"
)

func TestBuildSOAPRequestRoundTrip(t *testing.T) {
	b, err := BuildSOAPRequest(SOAPRequest{MessageID: "uuid:0a1b2c3d-0000-4000-8000-000000000001", Action: ServiceMM + "/PORX_IN132004UK30",
		To: "https://spine.example/syncservice-mm/mm", FromAddress: "https://me.example", ReplyTo: "https://me.example",
		ReceiverASID: "990101234567", SenderASID: "200000009876",
		Payload: []byte(`<?xml version="1.0"?><PORX_IN132004UK30 xmlns="urn:hl7-org:v3"><id root="X"/><note>Zoë &amp; ✓</note></PORX_IN132004UK30>`)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSOAPRequest(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if m.MessageID != "uuid:0A1B2C3D-0000-4000-8000-000000000001" || m.Action != ServiceMM+"/PORX_IN132004UK30" || m.SenderASID != "200000009876" ||
		m.ReceiverASID != "990101234567" || m.FromAddress != "https://me.example" || !strings.Contains(string(m.Payload), "Zoë &amp; ✓") {
		t.Errorf("parsed %+v\n%s", m, b)
	}
	for _, r := range []SOAPRequest{{Action: "a", Payload: []byte("<a/>")}, {MessageID: "x", Payload: []byte("<a/>")}, {MessageID: "x", Action: "a", Payload: []byte("not xml")}} {
		if _, err := BuildSOAPRequest(r); err == nil {
			t.Errorf("BuildSOAPRequest(%+v): no error", r)
		}
	}
}
