package gateway

import (
	"log/slog"
	"testing"

	"github.com/porxgate/porxgate/gateway/logctx"
)

// TestEbXMLDoorLogsLazily: the ebXML door builds its message's logger
// (the correlation fields and cpa_id) only when it logs: it writes nothing
// for a message accepted without a hitch (at info; its debug line is
// checked for its level first), and the lines it does write, a refusal at
// warn and a duplicate at info, carry every field as when the logger was
// built for each message.
func TestEbXMLDoorLogsLazily(t *testing.T) {
	log, buf := jsonLogger(slog.LevelInfo)
	mhs := startMHS(t, "ack") // answers are delivered: nothing goes wrong downstream either
	srv := NewServer(testConfig(), newMemoryStore(), fakeUpstream{}, log, NewMetrics(), WithProcessor(newFakeProcessor()),
		WithRoutes(routesTo(t, mhs.srv.URL, "")))
	g := serveGateway(t, srv)
	before := len(buf.lines(t))

	ok := newReq(newID(t, 1))
	if code, body := sendEb(t, g.base, ok); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	for _, l := range buf.lines(t)[before:] {
		if l["message_id"] == ok.messageID && l["cpa_id"] != nil {
			t.Errorf("the door logged an accepted message: %s", l["_raw"])
		}
		if l["msg"] == "accepted" {
			t.Errorf("the debug line was written at info: %s", l["_raw"])
		}
	}

	refused := newReq(newID(t, 2))
	refused.action = "PORX_IN999999UK99"
	if code, body := sendEb(t, g.base, refused); code != 500 {
		t.Fatalf("unsupported interaction: HTTP %d, want 500\n%s", code, body)
	}
	if code, body := sendEb(t, g.base, ok); code != 202 {
		t.Fatalf("duplicate: HTTP %d\n%s", code, body)
	}
	want := func(r ebReq, msg string) {
		t.Helper()
		fields := map[string]string{logctx.KeyMessageID: r.messageID, logctx.KeyConversationID: r.conversationID,
			logctx.KeyInteraction: r.action, logctx.KeyParty: r.from, logctx.KeyTransport: "ebxml", "cpa_id": r.cpa}
		for _, l := range buf.lines(t)[before:] {
			if l["msg"] != msg || l["message_id"] != r.messageID {
				continue
			}
			for k, v := range fields {
				if l[k] != v {
					t.Errorf("%q: %s = %v, want %q\n%s", msg, k, l[k], v, l["_raw"])
				}
			}
			return
		}
		t.Errorf("no line %q for %s", msg, r.messageID)
	}
	want(refused, "refused with a MessageError")
	want(ok, "duplicate: acknowledged again, not processed again")
}
