package journal

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// batchOf returns a writer's batch as the gateway makes one: messages
// exchanges, their events interleaved (request, FHIR request, EPS answer,
// v3 answer, delivery), the requests with a payload of payload bytes.
func batchOf(messages, payload int) []Event {
	var evs []Event
	for k := range 5 {
		for m := range messages {
			id := fmt.Sprintf("M%04d", m)
			ev := Event{Exchange: id, Step: &Step{Kind: StepFHIRRequest, Body: strings.Repeat("f", payload/2)}}
			switch k {
			case 0:
				ev.IDs = IDs{MessageIDs: []string{id}, ConversationID: "C" + id, RefToMessageIDs: []string{""}}
				ev.Step = &Step{Kind: StepLegacyRequest, Body: strings.Repeat("x", payload)}
			case 1:
				ev.IDs = IDs{XRequestIDs: []string{"X" + id}}
			case 2:
				ev.Step = &Step{Kind: StepEPSAnswer, Body: "{}"}
			case 3:
				ev.Step = &Step{Kind: StepV3Answer, Body: "<ack/>"}
			case 4:
				ev.IDs = IDs{MessageIDs: []string{"D" + id}}
				ev.Step = &Step{Kind: StepDelivery}
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

// TestByExchangeAndSplitRuns: byExchange groups a batch's events by
// exchange in the order they came (the exchanges in the order of their
// first events), as appending each event to its exchange's list did, and
// a list appended to does not write into the next one's; splitRuns cuts
// that order into runs within the bounds, every event once.
func TestByExchangeAndSplitRuns(t *testing.T) {
	for _, tc := range []struct {
		name              string
		messages, payload int
	}{
		{"one message", 1, 100},
		{"a batch of small messages", 100, 2000},
		{"messages each over a run's bytes", 3, maxRunBytes},
		{"none", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := batchOf(tc.messages, tc.payload)
			order, byID := byExchange(evs)
			var wantOrder []string
			wantByID := map[string][]Event{}
			for _, ev := range evs {
				if _, ok := wantByID[ev.Exchange]; !ok {
					wantOrder = append(wantOrder, ev.Exchange)
				}
				wantByID[ev.Exchange] = append(wantByID[ev.Exchange], ev)
			}
			if !reflect.DeepEqual(order, wantOrder) || len(byID) != len(wantByID) {
				t.Fatalf("order = %v, want %v", order, wantOrder)
			}
			for id, want := range wantByID {
				if !reflect.DeepEqual(byID[id], want) {
					t.Fatalf("byID[%s] = %d events, not as they came", id, len(byID[id]))
				}
			}
			if len(order) > 1 {
				first, second := order[0], order[1]
				_ = append(byID[first], Event{Exchange: "appended"})
				if byID[second][0].Exchange != second {
					t.Fatal("appending to one exchange's list wrote into the next one's")
				}
			}

			runs, starting := splitRuns(evs)
			var flat []Event
			for i, run := range runs {
				if len(run) == 0 {
					t.Fatalf("run %d is empty", i)
				}
				var size int64
				for _, ev := range run {
					size += eventSize(ev)
				}
				if len(run) > 1 && size > maxRunBytes {
					t.Errorf("run %d carries %d bytes in %d events, over %d", i, size, len(run), maxRunBytes)
				}
				flat = append(flat, run...)
			}
			var want []Event
			for _, id := range wantOrder {
				want = append(want, wantByID[id]...)
			}
			if len(flat) != len(want) || (len(want) > 0 && !reflect.DeepEqual(flat, want)) {
				t.Fatalf("the runs hold %d events, not the %d in their exchanges' order", len(flat), len(want))
			}
			if len(runs) > 1 {
				_ = append(runs[0], Event{Exchange: "appended"})
				if runs[1][0].Exchange == "appended" {
					t.Fatal("appending to one run wrote into the next")
				}
			}
			for _, id := range wantOrder {
				if !starting[id] {
					t.Errorf("exchange %s records its request, starting says not", id)
				}
			}
		})
	}
}

// TestIDsCountAndSize: count and size agree with the list all makes,
// empty ids included (all lists them, but for an empty ConversationID).
func TestIDsCountAndSize(t *testing.T) {
	for _, ids := range []IDs{
		{},
		{MessageIDs: []string{"M1"}},
		{MessageIDs: []string{"M1", ""}, ConversationID: "C1", RefToMessageIDs: []string{"R1"}, PrescriptionIDs: []string{"P1", "P2"},
			NHSNumbers: []string{"9449304130"}, ODSCodes: []string{"A83008", "FCG71"}, XRequestIDs: []string{"X1"}},
		{ConversationID: "C only"},
	} {
		all := ids.all()
		size := 0
		for _, v := range all {
			size += len(v) + 3
		}
		if ids.count() != len(all) || ids.size() != size {
			t.Errorf("%+v: count %d, size %d; all gives %d ids of %d", ids, ids.count(), ids.size(), len(all), size)
		}
	}
}

// within says whether p points into evs.
func within(p *Event, evs []Event) bool {
	for i := range evs {
		if p == &evs[i] {
			return true
		}
	}
	return false
}

// TestByExchangeInPlace: a run cut by splitRuns (each exchange's events
// together) is grouped as byExchange groups it, each exchange's events a
// part of the run itself; events of an exchange that come apart are
// grouped as byExchange groups them.
func TestByExchangeInPlace(t *testing.T) {
	runs, _ := splitRuns(batchOf(40, 2000))
	for i, run := range runs {
		order, byID := byExchangeInPlace(run)
		wantOrder, wantByID := byExchange(run)
		if !reflect.DeepEqual(order, wantOrder) || !reflect.DeepEqual(byID, wantByID) {
			t.Fatalf("run %d grouped otherwise than byExchange groups it", i)
		}
		for _, id := range order {
			if evs := byID[id]; len(evs) > 0 && !within(&evs[0], run) {
				t.Fatalf("run %d: the events of %s were copied", i, id)
			}
		}
	}
	interleaved := batchOf(3, 100) // M0000's events, M0001's, M0002's, then M0000's again...
	order, byID := byExchangeInPlace(interleaved)
	wantOrder, wantByID := byExchange(interleaved)
	if !reflect.DeepEqual(order, wantOrder) || !reflect.DeepEqual(byID, wantByID) {
		t.Fatalf("interleaved events grouped as %v, want %v", order, wantOrder)
	}
}
