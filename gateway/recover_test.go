package gateway

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/store"
)

// panickyStore panics in the front doors' first store step (AcceptFrom
// for ebXML, MarkSeen for SOAP) while panicking is set: a stand-in for any
// unforeseen panic in a door's handler.
type panickyStore struct {
	store.Store
	panicking atomic.Bool
}

func (p *panickyStore) AcceptFrom(ctx context.Context, seenKey, party string, ttl time.Duration, items ...store.Item) (store.Accepted, error) {
	if p.panicking.Load() {
		panic("test: AcceptFrom panicked")
	}
	return p.Store.AcceptFrom(ctx, seenKey, party, ttl, items...)
}

func (p *panickyStore) MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if p.panicking.Load() {
		panic("test: MarkSeen panicked")
	}
	return p.Store.MarkSeen(ctx, key, ttl)
}

// TestHandlerPanicAnswered: a panic in a front door's handler used to end
// the process (fasthttp recovers nothing). The sender must get a retryable
// Spine-shaped fault (TMS 200, NumInternalFailure), the gateway must go on
// serving with every worker, and the same message sent again must be taken
// and processed once.
func TestHandlerPanicAnswered(t *testing.T) {
	st := &panickyStore{Store: store.NewMemory(nil)}
	proc := soapProcessor(nil)
	mhs := startMHS(t, "ack")
	cfg := testConfig()
	g := startGateway(t, cfg, st, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	doors := []struct {
		name string
		send func(id string) (int, []byte)
		// taken is the status of a message taken.
		taken int
	}{
		{"ebXML", func(id string) (int, []byte) { return sendEb(t, g.base, newReq(id)) }, http.StatusAccepted},
		{"SOAP", func(id string) (int, []byte) {
			return sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
		}, http.StatusOK},
	}
	for i, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			id := newID(t, 700+i)
			st.panicking.Store(true)
			code, body := d.send(id)
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, body)
			}
			if c, desc := faultCode(t, body); c != "200" || !strings.HasPrefix(desc, "910012:") {
				t.Errorf("fault %s %q, want 200 with 910012", c, desc)
			}
			if code, _ := get(t, g.base+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz after the panic: %d", code)
			}
			// The ebXML door reserves an idle inbox worker before it
			// stores: the panic must not keep that reservation, or the
			// worker waits for it for ever (and so does the stop).
			waitFor(t, "every inbox worker idle and unreserved again", func() bool {
				return g.srv.msg.inboxHandoff.Idle() == cfg.InboxWorkers
			})
			st.panicking.Store(false)
			if code, body := d.send(id); code != d.taken {
				t.Fatalf("sent again: status %d, want %d\n%s", code, d.taken, body)
			}
			waitFor(t, "the message processed", func() bool { return proc.callsFor(id) >= 1 })
			if n := proc.callsFor(id); n != 1 {
				t.Errorf("processed %d times, want once", n)
			}
		})
	}
}

// TestPanicOffTheDoors: a panic on another route gets a 500 and the
// gateway goes on serving.
func TestPanicOffTheDoors(t *testing.T) {
	srv := NewServer(testConfig(), store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics())
	srv.App().Get("/boom", func(_ *fiber.Ctx) error { panic("test: boom") })
	g := serveGateway(t, srv) // routes added before it serves: Fiber builds its route tree as it starts
	if code, body := get(t, g.base+"/boom"); code != http.StatusInternalServerError || !strings.Contains(body, "internal error") {
		t.Errorf("/boom: %d %s", code, body)
	}
	if code, _ := get(t, g.base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after the panic: %d", code)
	}
}
