package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestLiveStateReadsNoDeadLetterMessages: each reading of the live state
// (every 5 s with one page open) took the newest 20 dead letters out of
// Redis whole to list their ids, times and reasons: with 20 messages of
// the largest body (4 MB, kept twice for processing: body and inbox
// entry) 195 MB a reading, which did not end within the state's 3 s, so
// that the page showed the dead letters as unknown for as long as they
// were kept. Each dead letter is now kept with its head (without the
// message), which the listing reads; one kept without (by an older
// porxgate) is read whole.
func TestLiveStateReadsNoDeadLetterMessages(t *testing.T) {
	srv, st := redisServerStore(t)
	payload := "<PORX_IN020101SM31>" + strings.Repeat("x", 512<<10) + "</PORX_IN020101SM31>"
	entry, err := json.Marshal(map[string]any{"inbound": map[string]any{"payload": payload}, "attempts": 3})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 20 {
		dl := outbox.DeadLetter{At: now.Add(time.Duration(i) * time.Second), Stage: outbox.StageProcessing, MessageID: fmt.Sprintf("DL-%03d", i),
			Interaction: "PORX_IN020101SM31", Party: senderParty, Reason: fmt.Sprintf("reason %d", i), Body: []byte(payload), Entry: entry}
		if i == 7 {
			dl.Reason = "EPS refused: " + strings.Repeat("why ", 2<<10)
		}
		if i == 9 {
			dl.Stage, dl.Kind, dl.URL = outbox.StageDelivery, outbox.KindAnswer, "https://mhs.example/reliablemessaging"
		}
		reasons[dl.Stage+":"+dl.MessageID] = dl.Reason
		if i < 2 { // kept by an older porxgate: no head, a small message
			dl.Body, dl.Entry = []byte("<x/>"), nil
			putDeadLetterAs(t, st, store.Finish{DeadLetter: dl.Encode()})
			continue
		}
		putDeadLetter(t, st, dl)
	}
	cfg := testConfig()
	g := &gw{srv: NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics())}
	base := g.adminBase(t)

	before := srv.Stat(t, "total_net_output_bytes")
	code, body := get(t, base+admin.PathState)
	read := srv.Stat(t, "total_net_output_bytes") - before
	var s admin.State
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil {
		t.Fatalf("state = %d %.300s", code, body)
	}
	if limit := int64(64 << 10); read > limit {
		t.Errorf("one reading of the live state took %d bytes out of Redis with 20 dead letters of %d KB; want at most %d",
			read, len(outbox.DeadLetter{Body: []byte(payload), Entry: entry}.Encode())>>10, limit)
	}
	if !s.Known(admin.UnknownDeadLetters) || !s.Known(admin.UnknownDeadLetterCount) || s.DeadLetterCount != 20 || len(s.DeadLetters) != 20 {
		t.Fatalf("state: %d dead letters counted, %d listed, unknown %v, problems %v; want 20 and 20", s.DeadLetterCount, len(s.DeadLetters), s.Unknown, s.Problems)
	}
	for i, dl := range s.DeadLetters {
		want, ok := reasons[dl.ID]
		if !ok || dl.MessageID != fmt.Sprintf("DL-%03d", 19-i) || dl.Party != senderParty || dl.Interaction != "PORX_IN020101SM31" {
			t.Errorf("dead letter %d listed as %+v, want DL-%03d of %s", i, dl, 19-i, senderParty)
			continue
		}
		if dl.Reason != want || !dl.At.Equal(now.Add(time.Duration(19-i)*time.Second)) {
			t.Errorf("dead letter %s: reason %.60q at %v, want %.60q at %v", dl.ID, dl.Reason, dl.At, want, now.Add(time.Duration(19-i)*time.Second))
		}
	}
}

// TestDeadLetterListReadsNoMessages: GET /admin/deadletters lists the dead
// letters without their messages, but read each page of 100 whole out of
// Redis to drop them (19.6 MB for 30 dead letters of 512 KB, up to 1 GB a
// page with the largest messages, held by Redis as one reply). It now
// reads their heads, and lists the same: ids, reasons, what a delivery
// released and whether it is owed.
func TestDeadLetterListReadsNoMessages(t *testing.T) {
	srv, st := redisServerStore(t)
	payload := []byte("<PORX_IN020101SM31>" + strings.Repeat("x", 512<<10) + "</PORX_IN020101SM31>")
	entry, err := json.Marshal(map[string]any{"inbound": map[string]any{"payload": string(payload)}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 30 {
		dl := outbox.DeadLetter{At: now.Add(time.Duration(i) * time.Second), Stage: outbox.StageDelivery, Kind: outbox.KindAnswer, MessageID: fmt.Sprintf("DL-%03d", i),
			Interaction: "PORX_IN070101UK31", Party: senderParty, Reason: fmt.Sprintf("reason %d", i), Attempts: 3, Body: payload,
			Released: &outbox.Released{Dispenser: "FA565", Prescriptions: []string{fmt.Sprintf("83C40E-A23856-%05d", i)}}, Owed: i%2 == 0}
		if i < 2 { // kept by an older porxgate, without a head
			dl.Stage, dl.Kind, dl.Body, dl.Entry, dl.Released, dl.Owed = outbox.StageProcessing, "", []byte("<x/>"), entry[:0], nil, false
			putDeadLetterAs(t, st, store.Finish{DeadLetter: dl.Encode()})
			continue
		}
		putDeadLetter(t, st, dl)
	}
	g := &gw{srv: NewServer(testConfig(), st, fakeUpstream{}, quietLog(), NewMetrics())}
	base := g.adminBase(t)

	before := srv.Stat(t, "total_net_output_bytes")
	code, body := get(t, base+PathDeadLetters+"?limit=40")
	read := srv.Stat(t, "total_net_output_bytes") - before
	var got struct {
		Count       int                 `json:"count"`
		Total       int                 `json:"total"`
		DeadLetters []outbox.DeadLetter `json:"deadLetters"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("list = %d %.300s", code, body)
	}
	if limit := int64(64 << 10); read > limit {
		t.Errorf("listing 30 dead letters of %d KB took %d bytes out of Redis; want at most %d", len(payload)>>10, read, limit)
	}
	if got.Count != 30 || got.Total != 30 || len(got.DeadLetters) != 30 {
		t.Fatalf("listed %d (total %d), want 30", got.Count, got.Total)
	}
	for k, dl := range got.DeadLetters {
		i := 29 - k
		if dl.MessageID != fmt.Sprintf("DL-%03d", i) || dl.Reason != fmt.Sprintf("reason %d", i) || len(dl.Body) != 0 || len(dl.Entry) != 0 {
			t.Errorf("listed %d: %s %q, body %d bytes, entry %d; want DL-%03d without its message", k, dl.MessageID, dl.Reason, len(dl.Body), len(dl.Entry), i)
		}
		if i >= 2 && (dl.Released == nil || dl.Released.Prescriptions[0] != fmt.Sprintf("83C40E-A23856-%05d", i) || dl.Owed != (i%2 == 0) || dl.Attempts != 3) {
			t.Errorf("listed %s: released %+v owed %v attempts %d, want what it was kept with", dl.MessageID, dl.Released, dl.Owed, dl.Attempts)
		}
	}
}

// TestDeadLetterLookupReadsOneMessage: looking one dead letter up, and
// resending one (by id, or a party's), read every dead letter before it
// whole, messages and all, to find it (15 MB to show or resend the oldest
// of 20 dead letters of 512 KB). They now find it by the heads and read
// whole only the ones they show or resend.
func TestDeadLetterLookupReadsOneMessage(t *testing.T) {
	srv, st := redisServerStore(t)
	payload := []byte("<PORX_IN020101SM31>" + strings.Repeat("x", 512<<10) + "</PORX_IN020101SM31>")
	one := len(outbox.DeadLetter{Body: payload}.Encode())
	now := time.Now().UTC()
	ids := map[int]string{}
	for i := range 20 {
		party := "OTHER-PARTY"
		if i == 1 {
			party = senderParty
		}
		dl := outbox.DeadLetter{At: now.Add(time.Duration(i) * time.Second), Stage: outbox.StageDelivery, Kind: outbox.KindAnswer,
			MessageID: fmt.Sprintf("D0000000-0000-4000-8000-%012d", i), ConversationID: "C1", Interaction: "MCCI_IN010000UK13",
			Party: party, ContentType: "text/xml", Body: payload, Reason: "seeded"}
		ids[i] = dl.Stage + ":" + dl.MessageID
		putDeadLetter(t, st, dl)
	}
	mhs := startMHS(t, "empty") // takes each resent message and acknowledges none: it stays in the outbox
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 5, "retryInterval": "1m", "persistDuration": "1h"},`+
		`"OTHER-PARTY": {"url": "`+mhs.srv.URL+`", "retries": 5, "retryInterval": "1m", "persistDuration": "1h"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, testConfig(), st, true, WithProcessor(newFakeProcessor()), WithRoutes(r))
	base := g.adminBase(t)
	tests := []struct {
		name string
		do   func() (int, string)
		want string
	}{
		{"look up the oldest", func() (int, string) { return get(t, DeadLetterItemURL(base, ids[0])) }, `"reason":"seeded"`},
		{"resend the oldest", func() (int, string) {
			code, b := postJSON(t, base+PathDeadLetterResend, map[string]string{"id": ids[0]})
			return code, string(b)
		}, `"resent":["` + ids[0] + `"]`},
		{"resend the party of one", func() (int, string) {
			code, b := postJSON(t, base+PathDeadLetterResend, map[string]string{"party": senderParty})
			return code, string(b)
		}, `"resent":["` + ids[1] + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Stat(t, "total_net_output_bytes")
			code, body := tt.do()
			read := srv.Stat(t, "total_net_output_bytes") - before
			if code != 200 || !strings.Contains(body, tt.want) {
				t.Fatalf("= %d %.300s; want %s", code, body, tt.want)
			}
			if limit := int64(one + 64<<10); read > limit {
				t.Errorf("took %d bytes out of Redis, %.1f dead letters of %d bytes; want one and the heads, at most %d", read, float64(read)/float64(one), one, limit)
			}
		})
	}
}

// TestDeadLettersKeptWithTheirHeads: a message processing gives up on
// (its MessageError queued in the same store step) and an answer delivery
// gives up on are each kept with their head, so that listings do not read
// their messages: both store steps that write dead letters give one.
func TestDeadLettersKeptWithTheirHeads(t *testing.T) {
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		return nil, Permanent(errors.New("no route to EPS for this prescriber yet"))
	}
	g, _ := deadLetteringGateway(t, testConfig(), WithProcessor(proc))
	if code, _ := sendEb(t, g.base, newReq(newID(t, 42))); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	// The processing dead letter, then its MessageError's, the MHS failing.
	waitDeadLetters(t, g, 2)
	heads, err := g.srv.store.(deadLetterHeader).DeadLetterHeads(context.Background(), 0, 10)
	if err != nil || len(heads) != 2 {
		t.Fatalf("heads = %d, %v; want 2", len(heads), err)
	}
	for i, h := range heads {
		dl, err := outbox.DecodeDeadLetter(h.Head)
		if h.Head == nil || err != nil || dl.MessageID == "" {
			t.Errorf("dead letter %d kept with head %q (%v); want its head", i, h.Head, err)
		}
	}
}
