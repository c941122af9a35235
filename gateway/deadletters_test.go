package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// postJSON posts v as JSON and returns status and body.
func postJSON(t *testing.T, url string, v any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestDeadLetterResendDelivery: an answer given up on (the MHS failing)
// keeps its message; after the route is mended an operator resends every
// dead letter of the party; the MHS gets the same message (same
// eb:MessageId) once, and the dead letter is gone.
func TestDeadLetterResendDelivery(t *testing.T) {
	mhs := startMHS(t, "fail")
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 0, "retryInterval": "20ms", "persistDuration": "1m"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(newFakeProcessor()), WithRoutes(r))
	req := newReq(newID(t, 40))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	id := dl.ID
	code, body := get(t, DeadLetterItemURL(g.adminBase(t), id))
	var view outbox.DeadLetter
	if code != 200 || json.Unmarshal([]byte(body), &view) != nil || len(view.Body) == 0 || view.Reason == "" {
		t.Fatalf("dead letter %s = %d %s; want it with its message and reason", id, code, body)
	}
	mhs.setMode("ack")
	code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"party": senderParty})
	var res ResendResult
	if code != 200 || json.Unmarshal(out, &res) != nil || len(res.Resent) != 1 || res.Resent[0] != id {
		t.Fatalf("resend = %d %s", code, out)
	}
	waitFor(t, "the resent answer", func() bool { return len(mhs.messages()) == 2 })
	got := mhs.messages()
	if got[1].msg == nil || got[1].msg.MessageID != got[0].msg.MessageID || got[1].msg.RefToMessageID != req.messageID {
		t.Errorf("resent message differs from the one given up on")
	}
	if code, _ := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": id}); code != http.StatusNotFound {
		t.Errorf("second resend of %s = %d, want 404 (resent once)", id, code)
	}
	if code, body := get(t, g.adminBase(t)+PathDeadLetters); code != 200 || !bytes.Contains([]byte(body), []byte(`"count":0`)) {
		t.Errorf("dead letters after resend: %d %s", code, body)
	}
}

// TestDeadLetterResendProcessing: an inbound message dead-lettered by the
// processor is resent by id once the cause is mended, processed, and its
// answer delivered once.
func TestDeadLetterResendProcessing(t *testing.T) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		if n == 1 {
			return nil, Permanent(errors.New("no route to EPS for this prescriber yet"))
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	req := newReq(newID(t, 41))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	if dl.Stage != outbox.StageProcessing {
		t.Fatalf("dead letter %+v", dl)
	}
	// The MessageError is delivered before the resend, so that the order
	// the MHS sees them in is not a race between two delivery workers.
	waitFor(t, "the MessageError", func() bool { return len(mhs.messages()) == 1 })
	code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": dl.ID})
	if code != 200 {
		t.Fatalf("resend = %d %s", code, out)
	}
	// The sender was told that its message was not processed (an async
	// MessageError) and gets the answer after the resend.
	waitFor(t, "the MessageError and the answer", func() bool { return len(mhs.messages()) == 2 })
	var msgErrors, answers int
	for _, m := range mhs.messages() {
		switch {
		case m.msg == nil && strings.Contains(string(m.body), "910009:"):
			msgErrors++
		case m.msg != nil && m.msg.Action == mcciAck:
			answers++
		}
	}
	if msgErrors != 1 || answers != 1 {
		t.Errorf("MHS got %d MessageErrors (910009) and %d answers, want one of each", msgErrors, answers)
	}
	if n := proc.callsFor(req.messageID); n != 2 {
		t.Errorf("processed %d times, want 2", n)
	}
	if code, _ := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": dl.ID}); code != http.StatusNotFound {
		t.Errorf("second resend = %d, want 404", code)
	}
}

// TestDeadLetterResendBodyBounded: the resend request's body is decoded
// within a bound, as the front doors' are: a gzip body that expands far
// beyond it is refused (413) without being expanded, an undecodable one
// is a 400, and a gzipped request of the right shape works.
func TestDeadLetterResendBodyBounded(t *testing.T) {
	g := startGateway(t, testConfig(), newMemoryStore(), true)
	url := g.adminBase(t) + PathDeadLetterResend
	bomb := gz(t, bytes.Repeat([]byte(" "), 64<<20)) // 64 MiB of spaces, about 64 KiB of gzip
	if code, body := postEncoded(t, url, "application/json", "", "gzip", bomb); code != http.StatusRequestEntityTooLarge {
		t.Errorf("gzip bomb: %d %s, want 413", code, body)
	}
	if code, body := postEncoded(t, url, "application/json", "", "gzip", []byte("not gzip")); code != http.StatusBadRequest {
		t.Errorf("undecodable body: %d %s, want 400", code, body)
	}
	if code, body := postEncoded(t, url, "application/json", "", "gzip", gz(t, []byte(`{"id":"delivery:NONE"}`))); code != http.StatusNotFound {
		t.Errorf("gzipped resend of an unknown dead letter: %d %s, want 404", code, body)
	}
}

// TestResentAnswerIsNoLongerFailed: an answer given up on makes its
// exchange "dead-letter"; once an operator resends it and it is
// delivered, the exchange's outcome is the answer's own again (accepted),
// not still "Failed: moved to the dead letters" and listed under
// outcome=dead-letter.
func TestResentAnswerIsNoLongerFailed(t *testing.T) {
	j := newTestJournal(t)
	g, mhs := deadLetteringGateway(t, testConfig(), WithJournal(j))
	req := newReq(newID(t, 44))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	outcome := func() string {
		x, _ := j.Backend().Get(context.Background(), req.messageID)
		if x == nil {
			return ""
		}
		return x.Outcome.Result
	}
	waitFor(t, "the exchange dead-lettered", func() bool { return outcome() == "dead-letter" })
	mhs.setMode("ack")
	if code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": dl.ID}); code != 200 {
		t.Fatalf("resend = %d %s", code, out)
	}
	waitFor(t, "the resent answer", func() bool { return len(mhs.messages()) == 2 })
	waitFor(t, "the delivery journalled", func() bool {
		x, _ := j.Backend().Get(context.Background(), req.messageID)
		return x != nil && slices.ContainsFunc(x.Steps, func(s journal.Step) bool {
			return s.Kind == journal.StepDelivery && strings.Contains(s.Title, " delivered ")
		})
	})
	if got := outcome(); got != "accepted" {
		t.Errorf("outcome after the resent answer was delivered: %q, want accepted", got)
	}
}

// deadLetteringGateway starts a gateway (cfg, the fake processor, opts)
// whose one route goes to an MHS that fails, and gives up at the first
// failure: each answer goes to the dead letters until the MHS is set to
// acknowledge.
func deadLetteringGateway(t *testing.T, cfg Config, opts ...Option) (*gw, *fakeMHS) {
	t.Helper()
	mhs := startMHS(t, "fail")
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 0, "retryInterval": "20ms", "persistDuration": "1m"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithProcessor(newFakeProcessor()), WithRoutes(r)}, opts...)
	return startGateway(t, cfg, newMemoryStore(), false, opts...), mhs
}

// pageCountingStore records the largest number of dead letters one read
// asked for.
type pageCountingStore struct {
	*store.Memory
	mu      sync.Mutex
	largest int
}

func (s *pageCountingStore) note(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.largest = max(s.largest, n)
}

func (s *pageCountingStore) DeadLetters(ctx context.Context, limit int) ([][]byte, error) {
	s.note(limit)
	return s.Memory.DeadLetters(ctx, limit)
}

func (s *pageCountingStore) DeadLetterPage(ctx context.Context, offset, limit int) ([][]byte, error) {
	s.note(limit)
	return s.Memory.DeadLetterPage(ctx, offset, limit)
}

// TestDeadLettersReadInPages: looking one dead letter up and resending all
// of a party's read the list a page at a time, never the whole list (up to
// store.DeadLetterCap messages, hundreds of MB when full), and a resend
// that takes dead letters off the list as it goes still finds every one.
// Before, each click read the whole list in one go.
func TestDeadLettersReadInPages(t *testing.T) {
	// The MHS takes each resent message and acknowledges none: it waits in
	// the outbox for a retry a minute away, and cannot come back to the
	// dead letters while the test counts them.
	mhs := startMHS(t, "empty")
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 5, "retryInterval": "1m", "persistDuration": "1h"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	st := &pageCountingStore{Memory: store.NewMemory(nil)}
	ctx := context.Background()
	now := time.Now()
	const n = 2*deadLetterPageSize + 50
	var oldest string
	for i := 0; i < n; i++ {
		party := senderParty
		if i%2 == 1 {
			party = "OTHER-PARTY"
		}
		dl := outbox.DeadLetter{At: now, Stage: outbox.StageDelivery, Kind: outbox.KindAnswer,
			MessageID: fmt.Sprintf("D0000000-0000-4000-8000-%012d", i), ConversationID: "C1", Interaction: "MCCI_IN010000UK13",
			Party: party, ContentType: "text/xml", Body: []byte("<x/>"), Reason: "seeded"}
		if i == 0 {
			oldest = outbox.StageDelivery + ":" + dl.MessageID
		}
		if err := st.Enqueue(ctx, store.Item{Queue: "seed", ID: dl.MessageID, Data: []byte("x"), Due: now}); err != nil {
			t.Fatal(err)
		}
		l, err := st.Claim(ctx, "seed", now, time.Minute)
		if err != nil || l == nil {
			t.Fatalf("claim: %v", err)
		}
		if err := st.Complete(ctx, l, store.Finish{DeadLetter: dl.Encode()}); err != nil {
			t.Fatal(err)
		}
	}
	g := startGateway(t, testConfig(), st, false, WithProcessor(newFakeProcessor()), WithRoutes(r))

	code, body := get(t, DeadLetterItemURL(g.adminBase(t), oldest))
	if code != http.StatusOK || !strings.Contains(body, "seeded") {
		t.Fatalf("the oldest dead letter %s = %d %s", oldest, code, body)
	}
	code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"party": senderParty})
	var res ResendResult
	if code != http.StatusOK || json.Unmarshal(out, &res) != nil || len(res.Resent) != n/2 || len(res.Skipped) != 0 {
		t.Fatalf("resend of %s = %d, resent %d skipped %d; want all %d", senderParty, code, len(res.Resent), len(res.Skipped), n/2)
	}
	left, err := st.Memory.DeadLetters(ctx, store.DeadLetterCap)
	if err != nil || len(left) != n/2 {
		t.Fatalf("dead letters left %d (%v), want the other party's %d", len(left), err, n/2)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.largest > deadLetterPageSize {
		t.Errorf("a read asked for %d dead letters at once; want pages of at most %d", st.largest, deadLetterPageSize)
	}
}

// TestDeadLetterListPaged: GET /admin/deadletters took any limit and read
// that many dead letters, messages and all, in one go (limit=10000 read the
// whole list, up to store.DeadLetterCap messages of up to --max-body
// each), and had no way to see past the newest ones but asking for more.
// The limit is now 1 to 1000, the list is read a page at a time, and
// offset with next page through every dead letter once.
func TestDeadLetterListPaged(t *testing.T) {
	st := &pageCountingStore{Memory: store.NewMemory(nil)}
	const n = 1200
	deadLettersIn(t, st, n)
	g := startGateway(t, testConfig(), st, true)
	base := g.adminBase(t) + PathDeadLetters
	if code, body := get(t, base+"?limit=5000"); code != http.StatusBadRequest || !strings.Contains(body, "limit") {
		t.Errorf("limit=5000 = %d %.200s, want 400 saying the limit", code, body)
	}
	if code, body := get(t, base+"?offset=-1"); code != http.StatusBadRequest || !strings.Contains(body, "offset") {
		t.Errorf("offset=-1 = %d %.200s, want 400 saying the offset", code, body)
	}
	seen := map[string]bool{}
	var order []string
	next := "?limit=500"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatalf("still paging after %d pages", pages)
		}
		code, body := get(t, base+next)
		var page struct {
			Count       int                 `json:"count"`
			Total       int                 `json:"total"`
			Next        *int                `json:"next"`
			DeadLetters []outbox.DeadLetter `json:"deadLetters"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil || page.Total != n {
			t.Fatalf("GET %s = %d %.300s; want a page of %d in all", next, code, body, n)
		}
		for _, dl := range page.DeadLetters {
			if seen[dl.MessageID] {
				t.Errorf("%s listed twice", dl.MessageID)
			}
			seen[dl.MessageID] = true
			order = append(order, dl.MessageID)
		}
		next = ""
		if page.Next != nil {
			next = fmt.Sprintf("?limit=500&offset=%d", *page.Next)
		}
	}
	if len(seen) != n || order[0] != fmt.Sprintf("DL-%03d", n-1) || order[n-1] != "DL-000" {
		t.Errorf("the pages listed %d dead letters, from %s to %s; want all %d, newest first", len(seen), order[0], order[len(order)-1], n)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.largest > deadLetterPageSize {
		t.Errorf("a read asked for %d dead letters at once; want pages of at most %d", st.largest, deadLetterPageSize)
	}
}

// TestResentDeadLetterKeepsItsParty: a dead letter resent goes back to the
// inbox as its sender's message. Before, its item recorded no party, so
// while it waited (its mark lapsed) another party's message under the same
// MessageId was taken for a retry of it: acknowledged and never processed.
func TestResentDeadLetterKeepsItsParty(t *testing.T) {
	tests := []struct {
		name      string
		transport Transport
		from      string
		want      string
	}{
		{"ebXML", TransportEbXML, "YeA-801248", "YEA-801248"},
		{"SOAP has no party", TransportSOAP, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := inboxEntry{Inbound: Inbound{Transport: tt.transport, Interaction: "PORX_IN020101SM31",
				MessageID: "A7B86F8D-1DBD-FC28-E050-D20AE3A215F0", FromParty: tt.from, Payload: []byte("<x/>")}}
			entry, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			it, err := (&messaging{}).redoItem(outbox.DeadLetter{Stage: outbox.StageProcessing, Entry: entry}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if it.Party != tt.want {
				t.Errorf("resent item's party %q, want %q", it.Party, tt.want)
			}
		})
	}
}

// TestResendFromAStaleListSkipsALaterFailure: two operators look at the
// same dead letter on two tabs; the first resends it, and it is given up
// on again (the cause not mended): a dead letter of the same id, a new
// time and reason. The second, on the tab drawn before, presses "this one"
// and resent the new failure, which no one had looked at. A resend that
// names the dead letter as listed (id and time, as the page's button
// does) now leaves one given up on at another time, saying why (409); the
// new one resends when named as it is now listed.
func TestResendFromAStaleListSkipsALaterFailure(t *testing.T) {
	g, mhs := deadLetteringGateway(t, testConfig())
	req := newReq(newID(t, 45))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	listed := waitDeadLetters(t, g, 1)[0]
	resend := func(body map[string]any) (int, ResendResult, string) {
		t.Helper()
		code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, body)
		var res ResendResult
		_ = json.Unmarshal(out, &res)
		return code, res, string(out)
	}
	// The first tab: resent, and given up on again (the MHS still fails).
	if code, res, out := resend(map[string]any{"id": listed.ID, "at": listed.At}); code != 200 || len(res.Resent) != 1 {
		t.Fatalf("first resend = %d %s", code, out)
	}
	var again outbox.DeadLetter
	waitFor(t, "the dead letter given up on again", func() bool {
		dls := waitDeadLetters(t, g, 1)
		again = dls[0]
		return !again.At.Equal(listed.At)
	})
	sent := len(mhs.messages())

	// The second tab, drawn before the first resend.
	code, res, out := resend(map[string]any{"id": listed.ID, "at": listed.At})
	if code != http.StatusConflict || len(res.Resent) != 0 || !strings.Contains(res.Skipped[listed.ID], "given up on again") {
		t.Errorf("resend from the stale list = %d %s; want 409, nothing resent, and why", code, out)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(mhs.messages()); n != sent {
		t.Errorf("the MHS got %d more messages after the stale resend, want none", n-sent)
	}
	if dls := waitDeadLetters(t, g, 1); !dls[0].At.Equal(again.At) {
		t.Errorf("the later dead letter was taken off the list: %+v", dls)
	}
	mhs.setMode("ack")
	if code, res, out := resend(map[string]any{"id": again.ID, "at": again.At}); code != 200 || len(res.Resent) != 1 {
		t.Errorf("resend of the dead letter as now listed = %d %s, want it resent", code, out)
	}
}
