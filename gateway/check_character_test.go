package gateway

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestPrescriptionBadCheckCharacter: the gateway does not judge a short-form
// id's check character itself (one rule for every interaction): the
// prescription goes to EPS, which refuses it, and the prescriber gets that
// refusal as Spine's MCCI rejection (9999 FAILURE_TO_PROCESS_MESSAGE,
// "prescriptionID has invalid checksum"), as Spine would answer.
func TestPrescriptionBadCheckCharacter(t *testing.T) {
	_, client := startSim(t)
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	re := regexp.MustCompile(`extension="([0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-F]{5})([0-9A-Z+])"`)
	m := re.FindSubmatch(payload)
	if m == nil {
		t.Fatal("no short-form id in the prescription")
	}
	good, err := v3.ShortFormCheckChar(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	wrong := byte('0')
	if good == wrong {
		wrong = '1'
	}
	bad := append(append([]byte{}, m[1]...), wrong)
	payload = bytes.ReplaceAll(payload, append(append([]byte{}, m[1]...), m[2]...), bad)

	api := &countingAPI{EPSAPI: client}
	p := NewEPSProcessor(mapping.NewRegistry(), api, nil, nil, quietLog())
	out, err := p.Process(context.Background(), &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription,
		Family: v3.FamilyUK, MessageID: newID(t, 990), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if api.sent.Load() != 1 {
		t.Fatalf("%d prescriptions reached EPS, want 1: the check character is EPS's and Spine's to judge", api.sent.Load())
	}
	if len(out.Answers) != 1 {
		t.Fatalf("%d answers", len(out.Answers))
	}
	typeCode, _ := ackOf(t, out.Answers[0].Payload)
	if typeCode == "AA" {
		t.Fatal("a wrong check character was acknowledged AA")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(out.Answers[0].Payload); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range doc.FindElements("//justifyingDetectedIssueEvent/code") {
		if c.SelectAttrValue("code", "") == "9999" && bytes.Contains([]byte(c.SelectAttrValue("displayName", "")), []byte("invalid checksum")) {
			found = true
		}
	}
	if !found {
		t.Errorf("no 9999 'invalid checksum' detail in\n%s", out.Answers[0].Payload)
	}
}
