package prescribe_test

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// releasedRead is what the prescription reader gives for one line item's
// additional instructions, and whether the prescription came back whole.
type releasedRead struct {
	words, note    string
	medication     []string
	patientInfo    []string
	carried, wrote bool
}

// readInstructions reads the ParentPrescription of msg, its line item
// itemID's additional instructions set to text (nil: as they are), with
// env.Released set to released.
func readInstructions(t *testing.T, msg []byte, itemID string, text *string, released bool) releasedRead {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	pp := doc.FindElement("//ParentPrescription")
	if pp == nil {
		t.Fatal("no ParentPrescription")
	}
	if text != nil {
		val := lineItemInstructions(pp, itemID)
		if val == nil {
			t.Fatalf("line item %s has no additional instructions", itemID)
		}
		val.SetText(*text)
	}
	env := core.FixedEnv()
	env.Released = released
	r, node := v3.NewReader("PORX_IN020101UK31", pp)
	b, written := prescribe.ReadParentPrescriptionWritten(node, nil, env, nil)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	var got releasedRead
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		for _, e := range mr.Extension {
			if e.URL == core.ExtensionV3Original {
				got.carried = true
			}
		}
		if !strings.EqualFold(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID), itemID) {
			continue
		}
		if len(mr.Note) > 0 {
			got.note = mr.Note[0].Text
		}
		if cd := fhir.FindExtension(mr.Extension, core.ExtensionControlledDrug); cd != nil {
			if w := fhir.FindExtension(cd.Extension, "quantityWords"); w != nil && w.ValueString != nil {
				got.words = *w.ValueString
			}
		}
	}
	for _, cr := range fhir.EntriesOf[*fhir.CommunicationRequest](b) {
		for _, pl := range cr.Payload {
			if pl.ContentString != "" {
				got.patientInfo = append(got.patientInfo, pl.ContentString)
			}
		}
	}
	for _, l := range fhir.EntriesOf[*fhir.List](b) {
		for _, e := range l.Entry {
			got.medication = append(got.medication, e.Item.Display)
		}
	}
	got.wrote = written != nil && core.SameElement(pp, written, prescribe.InSignature)
	return got
}

// lineItemInstructions returns the additional instructions value of the
// line item with id root under pp, or nil.
func lineItemInstructions(pp *etree.Element, root string) *etree.Element {
	for _, li := range pp.FindElements(".//pertinentLineItem") {
		if id := li.SelectElement("id"); id != nil && strings.EqualFold(id.SelectAttrValue("root", ""), root) {
			return li.FindElement("pertinentInformation1/pertinentAdditionalInstructions/value")
		}
	}
	return nil
}

// TestReadReleasedInstructions: with core.Env.Released the prescription
// reader itself reads a line item's additional instructions as the EPS
// API's release translation gives them (response/release/
// additional-instructions.ts): the <medication> and <patientInfo> mark-up
// read as XML, the controlled drug words and the note as they stand in
// Spine's text, escapes and all; and what it writes back to check them is
// the prescription as it was, with nothing carried. Without it (a
// prescriber's prescription) the reader is as before: the words and the
// note unescaped, as the EPS API escapes a prescriber's FHIR.
func TestReadReleasedInstructions(t *testing.T) {
	repeat := fixtureV3(t, "repeat-dispensing-pharmacist-endorsed.json")
	acute := fixtureV3(t, "acute-nurse-controlled-drug-unsigned.json")
	repeatItem := firstLineItemID(t, repeat)
	acuteItem := firstLineItemID(t, acute)
	text := func(s string) *string { return &s }
	repeatMeds := []string{"Salbutamol 100micrograms/dose inhaler CFC free (1/6)", "Furosemide 40mg tablets (1/6)"}
	repeatInfo := []string{"Surgery closed on Fridays & bank holidays", "Bring your inhaler to review"}
	tests := []struct {
		name       string
		msg        []byte
		item       string
		text       *string // the additional instructions as Spine holds them (nil: the fixture's)
		released   releasedRead
		prescribed releasedRead
	}{
		{"the fixture's note with an ampersand and patient information", repeat, repeatItem, nil,
			releasedRead{note: "Shake well &amp; use a spacer", medication: repeatMeds, patientInfo: repeatInfo, wrote: true},
			releasedRead{note: "Shake well & use a spacer", medication: repeatMeds, patientInfo: repeatInfo, wrote: true}},
		{"controlled drug words and a note with escapes", acute, acuteItem, text("CD: twenty &amp; no more\nIf BP &gt; 140 stop"),
			releasedRead{words: "twenty &amp; no more", note: "If BP &gt; 140 stop", wrote: true},
			releasedRead{words: "twenty & no more", note: "If BP > 140 stop", wrote: true}},
		{"a legacy bare ampersand", acute, acuteItem, text("Food & water"),
			releasedRead{note: "Food & water", wrote: true},
			// a prescriber's FHIR of it is escaped by EPS: porxgate carries the line item
			releasedRead{note: "Food & water", carried: true}},
		{"mark-up with escapes", acute, acuteItem, text("<medication>A &amp; B</medication>CD: ten\nx &lt; y"),
			releasedRead{medication: []string{"A & B"}, words: "ten", note: "x &lt; y", wrote: true},
			releasedRead{medication: []string{"A & B"}, words: "ten", note: "x < y", wrote: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, released := range []bool{true, false} {
				want := tc.prescribed
				if released {
					want = tc.released
				}
				got := readInstructions(t, tc.msg, tc.item, tc.text, released)
				if got.words != want.words || got.note != want.note || strings.Join(got.medication, "|") != strings.Join(want.medication, "|") ||
					strings.Join(got.patientInfo, "|") != strings.Join(want.patientInfo, "|") {
					t.Errorf("Released=%v: read words %q, note %q, medication %q, patient info %q; want %q, %q, %q, %q",
						released, got.words, got.note, got.medication, got.patientInfo, want.words, want.note, want.medication, want.patientInfo)
				}
				if got.carried != want.carried || got.wrote != want.wrote {
					t.Errorf("Released=%v: carried %v, written back whole %v; want %v, %v", released, got.carried, got.wrote, want.carried, want.wrote)
				}
			}
		})
	}
}

// firstLineItemID returns the id of the first line item of a message.
func firstLineItemID(t *testing.T, msg []byte) string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(msg); err != nil {
		t.Fatal(err)
	}
	id := doc.FindElement("//pertinentLineItem/id")
	if id == nil {
		t.Fatal("no line item")
	}
	return id.SelectAttrValue("root", "")
}
