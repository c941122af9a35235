package gateway

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
)

// newTestJournal returns an in-memory journal; the server under test runs
// its writer (ServeAndWork).
func newTestJournal(t *testing.T) *journal.Journal {
	t.Helper()
	return journal.New(journal.NewMemory(journal.Retention{}), journal.Options{})
}

// exchangeOf waits until the journal holds exchange id with a step of
// each kind (the writer gathers queued events for a moment, so a step
// written at once, as a kept answer is, may come before those queued
// earlier).
func exchangeOf(t *testing.T, j *journal.Journal, id string, kinds ...string) *journal.Exchange {
	t.Helper()
	var x *journal.Exchange
	waitFor(t, "exchange "+id+" with steps "+strings.Join(kinds, ", "), func() bool {
		x, _ = j.Backend().Get(context.Background(), id)
		if x == nil {
			return false
		}
		for _, kind := range kinds {
			if !slices.ContainsFunc(x.Steps, func(s journal.Step) bool { return s.Kind == kind }) {
				return false
			}
		}
		return true
	})
	return x
}

// TestNoRoutesKeepsAnswers: with no routing table (as under make run) the
// answer is kept for its party in the journal, with its body, and shown on
// the admin page — not sent to the dead letters without it.
func TestNoRoutesKeepsAnswers(t *testing.T) {
	j := newTestJournal(t)
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(newFakeProcessor()), WithJournal(j))
	r := newReq(newID(t, 1))
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	x := exchangeOf(t, j, r.messageID, journal.StepV3Answer, journal.StepDelivery)
	var kept, answer bool
	for _, s := range x.Steps {
		kept = kept || s.Kind == journal.StepDelivery && strings.Contains(s.Title, "kept for "+senderParty)
		answer = answer || s.Kind == journal.StepV3Answer && strings.Contains(s.Body, `typeCode="AA"`)
	}
	if !kept || !answer {
		t.Fatalf("kept %v, answer body %v: %+v", kept, answer, x.Steps)
	}
	if x.Outcome.Result != "accepted" {
		t.Errorf("outcome %+v", x.Outcome)
	}
	if code, body := get(t, g.adminBase(t)+PathDeadLetters); code != 200 || !strings.Contains(body, `"count":0`) {
		t.Errorf("dead letters: %d %s", code, body)
	}
	code, page := get(t, g.adminBase(t)+"/admin/ui/exchange/"+r.messageID)
	if code != 200 || !strings.Contains(page, "kept for "+senderParty) || !strings.Contains(page, "MCCI_IN010000UK13") {
		t.Errorf("page %d does not show the kept answer:\n%.1500s", code, page)
	}
}

// TestJournalRecordsFaults: a deferral (EPS unavailable), a retry and a
// permanent failure each leave a fault step and an outcome in plain words.
func TestJournalRecordsFaults(t *testing.T) {
	j := newTestJournal(t)
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		switch {
		case strings.HasPrefix(in.MessageID, "00000001") && n == 1:
			return nil, Deferred(errors.New("breaker open"))
		case strings.HasPrefix(in.MessageID, "00000002"):
			return nil, Permanent(errors.New("cannot map"))
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	deferred, failed := newReq(newID(t, 1)), newReq(newID(t, 2))
	for _, r := range []ebReq{deferred, failed} {
		if code, body := sendEb(t, g.base, r); code != 202 {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
	}
	x := exchangeOf(t, j, deferred.messageID, journal.StepFault, journal.StepV3Answer, journal.StepDelivery)
	if !strings.Contains(x.Steps[1].Title, "EPS unavailable") || x.Outcome.Result != "accepted" {
		t.Errorf("deferred exchange: outcome %+v steps %+v", x.Outcome, x.Steps)
	}
	x = exchangeOf(t, j, failed.messageID, journal.StepFault)
	if x.Outcome.Result != "dead-letter" || !strings.Contains(x.Outcome.Text, "cannot map") {
		t.Errorf("failed exchange outcome %+v", x.Outcome)
	}
	got, _ := j.Backend().Search(context.Background(), journal.Query{Outcome: "dead-letter"})
	if len(got) != 1 || got[0].ID != failed.messageID {
		t.Errorf("search by outcome: %+v", got)
	}
}

// TestTrackerAPICallsJournalled: every Tracker API call is journalled with
// who (the Spine headers), what (path and query) and when.
func TestTrackerAPICallsJournalled(t *testing.T) {
	j := newTestJournal(t)
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithJournal(j))
	req, _ := http.NewRequest(http.MethodGet, g.base+PathTrackerSearch+"?nhsNumber=9449304130&format=trace-summary", nil)
	req.Header.Set("Spine-From-Asid", "200000000123")
	req.Header.Set("Spine-UserId", "555555555555")
	req.Header.Set("Spine-RoleProfileId", "666666666666")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var a journal.Access
	waitFor(t, "the Tracker API access entry", func() bool {
		list, _ := j.Backend().Accesses(context.Background(), 10)
		if len(list) == 0 {
			return false
		}
		a = list[0]
		return true
	})
	if a.Door != "tracker-api" || a.What != PathTrackerSearch+"?nhsNumber=9449304130&format=trace-summary" ||
		!strings.Contains(a.Who, "Spine-From-Asid=200000000123") || !strings.Contains(a.Who, "Spine-UserId=555555555555") ||
		!strings.Contains(a.Who, "Spine-RoleProfileId=666666666666") || a.Status != resp.StatusCode || time.Since(a.At) > time.Minute {
		t.Errorf("access entry %+v (status %d)", a, resp.StatusCode)
	}
}

// TestSOAPExchangeJournalled: a SOAP sync exchange is journalled with its
// transport headers, request and the reply answered in the HTTP response,
// the ASID as its party and the release outcome in plain words.
func TestSOAPExchangeJournalled(t *testing.T) {
	j := newTestJournal(t)
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(soapProcessor(nil)), WithJournal(j))
	id := newID(t, 9)
	if code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload)); code != 200 {
		t.Fatalf("SOAP = %d\n%s", code, body)
	}
	x := exchangeOf(t, j, id, journal.StepV3Answer)
	if x.Transport != "soap" || x.Party != "200000009876" || x.Outcome.Result != "released" {
		t.Errorf("exchange %+v", x.Summary())
	}
	req, ans := x.Steps[0], x.Steps[1]
	if req.Headers["From ASID"] != "200000009876" || !strings.Contains(req.Body, "Zoë ✓") ||
		!strings.Contains(ans.Title, "answered in the HTTP response") || !strings.Contains(ans.Body, "café ✓") {
		t.Errorf("steps %+v", x.Steps)
	}
}

// brokenBackend is a journal backend whose writes fail.
type brokenBackend struct{ *journal.Memory }

func (brokenBackend) Apply(context.Context, journal.Event) error { return errors.New("disk on fire") }
func (brokenBackend) ApplyAll(context.Context, []journal.Event) (int, error) {
	return 0, errors.New("disk on fire")
}

// TestNoRoutesJournalDownDeadLetters: when the journal cannot keep an
// answer, it goes to the dead letters as before: nothing is lost, and the
// drops are counted.
func TestNoRoutesJournalDownDeadLetters(t *testing.T) {
	j := journal.New(brokenBackend{journal.NewMemory(journal.Retention{})}, journal.Options{})
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(newFakeProcessor()), WithJournal(j))
	r := newReq(newID(t, 3))
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	dls := waitDeadLetters(t, g, 1)
	if !strings.Contains(dls[0].Reason, "no routing table") {
		t.Errorf("dead letter %+v", dls[0])
	}
	waitFor(t, "drops counted", func() bool { return j.Dropped() > 0 })
}

// TestJournalQueueBytesFollowsTheMemoryLimit: the journal's queue holds at
// most an eighth of the soft memory limit, never more than the journal's
// own default (no limit, or a large one) nor less than 1 MiB.
func TestJournalQueueBytesFollowsTheMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int64
		want  int64
	}{
		{"the default 100 MiB", 100 << 20, 100 << 20 / 8},
		{"no limit", math.MaxInt64, journal.DefaultQueueBytes},
		{"a limit of 1 GiB", 1 << 30, journal.DefaultQueueBytes},
		{"a limit of 4 MiB", 4 << 20, 1 << 20},
	} {
		if got := journalQueueBytes(tc.limit); got != tc.want {
			t.Errorf("%s: journalQueueBytes(%d) = %d, want %d", tc.name, tc.limit, got, tc.want)
		}
	}
}
