package gateway

import (
	"log/slog"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
)

// TestDeferralsLogOncePerMessage keeps EPS down (the simulator hangs up on
// every call) while messages wait in the inbox and are tried again every
// few milliseconds, and counts the warn lines: one per waiting message
// ("upstream unavailable; message waits in the store"), its later
// deferrals at debug with their count. Before, every retry of every waiting
// message wrote the warn line again: with the defaults (a retry every 5 s)
// a thousand messages waiting out an outage gave 200 lines a second.
func TestDeferralsLogOncePerMessage(t *testing.T) {
	log, sink := jsonLogger(slog.LevelDebug)
	s, client := startSim(t)
	s.SetFaults(sim.Faults{Down: true})
	m := NewMetrics()
	st, _ := redisStore(t)
	srv := NewServer(testConfig(), st, fakeUpstream{}, log, m,
		WithProcessor(NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())))
	g := serveGateway(t, srv)
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	const waiting = 5
	for i := range waiting {
		req := newReq(newID(t, i))
		req.payload = payload
		if code, body := sendEb(t, g.base, req); code != 202 {
			t.Fatalf("POST = %d\n%s", code, body)
		}
	}
	waitFor(t, "four deferrals a message", func() bool {
		return counterSum(t, m, "porxgate_messages_processed_total", map[string]string{"outcome": "deferred"}) >= 4*waiting
	})
	g.stop()
	warned := map[string]int{}
	debugged := 0
	for _, rec := range sink.lines(t) {
		if rec["msg"] != "upstream unavailable; message waits in the store" {
			continue
		}
		switch rec["level"] {
		case "WARN":
			warned[rec["message_id"].(string)]++
		case "DEBUG":
			debugged++
			if n, _ := rec["deferrals"].(float64); n < 2 {
				t.Errorf("a later deferral's line says deferrals %v", rec["deferrals"])
			}
		}
	}
	if len(warned) != waiting {
		t.Errorf("%d messages warned of, want %d", len(warned), waiting)
	}
	for id, n := range warned {
		if n != 1 {
			t.Errorf("message %s: %d warn lines for its deferrals, want 1", id, n)
		}
	}
	if debugged < 3*waiting {
		t.Errorf("%d later deferrals logged at debug, want at least %d", debugged, 3*waiting)
	}
	for _, rec := range sink.lines(t) {
		if rec["level"] == "ERROR" {
			t.Errorf("error logged while EPS was down: %s", rec["_raw"])
		}
	}
}
