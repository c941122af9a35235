package gateway

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestRepeatDispensingIssuesThroughEPS: a legacy repeat dispensing
// prescription (6 issues, nominated to FA565) goes through the gateway to
// the simulator; each issue the dispenser downloads reaches it as the issue
// it is (repeatNumber low 1, then 2, then 3, high 6 on the prescription and
// its line items), as EPS releases it (basedOn numberOfRepeatsIssued).
// Before, the simulator released every issue without the issue number and
// issue 2 reached the dispenser as issue 1 of 6.
func TestRepeatDispensingIssuesThroughEPS(t *testing.T) {
	s, client := startSim(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	answer := func(interaction string, payload []byte) Answer {
		t.Helper()
		out, err := proc.Process(context.Background(), replayIn(interaction, payload))
		if err != nil || len(out.Answers) != 1 {
			t.Fatalf("%s: %v, %+v", interaction, err, out)
		}
		return out.Answers[0]
	}
	payload, _ := legacyPrescription(t, fixtureERD)
	if typeCode, _ := ackOf(t, answer(v3.ParentPrescription, payload).Payload); typeCode != "AA" {
		t.Fatalf("prescription answered %s", typeCode)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(payload); err != nil {
		t.Fatal(err)
	}
	sf := doc.FindElement("//pertinentPrescription/id[@root='2.16.840.1.113883.2.1.3.2.4.18.8']").SelectAttrValue("extension", "")
	release := []byte(strings.Replace(string(nominatedReleaseFCG71(t)), `extension="FCG71"`, `extension="FA565"`, 1))

	for issue := 1; issue <= 3; issue++ {
		a := answer(v3.NominatedReleaseRequest, release)
		if a.Interaction != v3.NominatedReleaseResponse {
			t.Fatalf("issue %d: answered %s\n%s", issue, a.Interaction, a.Payload)
		}
		got := etree.NewDocument()
		if err := got.ReadFromBytes(a.Payload); err != nil {
			t.Fatal(err)
		}
		repeats := append(got.FindElements("//pertinentPrescription/repeatNumber"), got.FindElements("//pertinentLineItem/repeatNumber")...)
		if len(repeats) < 2 {
			t.Fatalf("issue %d: %d repeatNumbers in\n%s", issue, len(repeats), a.Payload)
		}
		for _, r := range repeats {
			low, high := r.FindElement("low").SelectAttrValue("value", ""), r.FindElement("high").SelectAttrValue("value", "")
			if want := string(rune('0' + issue)); low != want || high != "6" {
				t.Errorf("issue %d released as repeatNumber %s of %s, want %s of 6", issue, low, high, want)
			}
		}
		p, ok := s.State().Get(sf)
		if !ok {
			t.Fatalf("%s not in the simulator", sf)
		}
		items := map[string]sim.ItemStatus{}
		for _, it := range p.Items {
			items[it.ID] = sim.ItemDispensed
		}
		now := time.Now()
		if err := s.State().Dispense(sim.DispenseRequest{MessageID: "D" + strconv.Itoa(issue), Dispenser: "FA565", ShortFormID: sf, Items: items}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.State().NextIssue(sf, now); err != nil {
			t.Fatal(err)
		}
	}
}
