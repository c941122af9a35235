package release_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// TestReleasedAdditionalInstructionsAsEPSGivesThem: the EPS API's release
// translation takes only the <medication> and <patientInfo> mark-up of a
// line item's additional instructions apart as XML; the controlled drug
// words and the note reach the FHIR as they stand in Spine's text, escapes
// and all (response/release/additional-instructions.ts). Written back for
// the dispenser, they must come out as Spine released them: the line item
// is inside the prescriber's signature. Before, porxgate escaped them
// again, as for a prescriber's FHIR: "If BP &gt; 140" reached the
// dispenser as "If BP &amp;gt; 140", a legacy "Food & water" as
// "Food &amp; water". porxgate's own reading of a release response keeps
// them as the EPS API does (it unescaped them).
func TestReleasedAdditionalInstructionsAsEPSGivesThem(t *testing.T) {
	raw := maptest.Testdata(t, "release/patient-release-response-070103.xml")
	const itemID = "B1000000-0000-4000-8000-000000000003"
	tests := []struct {
		name    string
		spine   string // the additional instructions text Spine releases
		cdWords string // what the EPS API puts in quantityWords
		note    string // and in the note
	}{
		{"note with a greater-than", "If BP &gt; 140 take two", "", "If BP &gt; 140 take two"},
		{"controlled drug words and a note with a less-than", "CD: twenty (20)\nUnder 5s &lt;2.5ml", "twenty (20)", "Under 5s &lt;2.5ml"},
		{"escaped ampersand", "Food &amp; water", "", "Food &amp; water"},
		// a legacy prescriber's unescaped ampersand: read as released, it
		// comes back as it stands, nothing carried (a prescriber's FHIR of
		// it would be escaped by EPS)
		{"legacy bare ampersand", "Food & water", "", "Food & water"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			val := additionalInstructionsOf(doc, itemID)
			if val == nil {
				t.Fatal("fixture has no additional instructions on " + itemID)
			}
			val.SetText(tc.spine)
			env := relEnv()
			body, meta := releaseFHIROf(t, doc, env)
			// porxgate reads them as the EPS API does, so its FHIR needs
			// nothing of its own to give them back
			if strings.Contains(string(body), core.PorxgateExtensionBase) {
				t.Errorf("porxgate's FHIR carries porxgate extensions: %s", body)
			}
			if got := noteOf(t, body, strings.ToLower(itemID)); got != tc.note {
				t.Errorf("porxgate's FHIR has note %q, want %q as the EPS API gives it", got, tc.note)
			}
			eps := epsInstructions(t, body, strings.ToLower(itemID), tc.cdWords, tc.note)
			for name, fhirBody := range map[string][]byte{"EPS's FHIR": eps, "porxgate's FHIR": body} {
				out := releaseV3Of(t, name, fhirBody, meta, env)
				gv := additionalInstructionsOf(out, itemID)
				if gv == nil {
					t.Fatalf("%s: no additional instructions written", name)
				}
				if gv.Text() != tc.spine {
					t.Errorf("%s: additional instructions %q, want %q as Spine released them", name, gv.Text(), tc.spine)
				}
			}
		})
	}
}

// releasedMedicationRequests returns the MedicationRequests of the
// passed prescriptions of a decoded release answer.
func releasedMedicationRequests(params jsonObj) []jsonObj {
	var out []jsonObj
	for _, p := range params["parameter"].([]any) {
		if p.(jsonObj)["name"] != release.ParamPassedPrescriptions {
			continue
		}
		for _, outer := range p.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
			for _, e := range outer.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
				if r := e.(jsonObj)["resource"].(jsonObj); r["resourceType"] == "MedicationRequest" {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// itemNumber is a MedicationRequest's first identifier value.
func itemNumber(r jsonObj) string {
	ids, _ := r["identifier"].([]any)
	if len(ids) == 0 {
		return ""
	}
	v, _ := ids[0].(jsonObj)["value"].(string)
	return v
}

// noteOf returns the note of the released MedicationRequest itemID.
func noteOf(t *testing.T, body []byte, itemID string) string {
	t.Helper()
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	for _, r := range releasedMedicationRequests(params) {
		if itemNumber(r) != itemID {
			continue
		}
		notes, _ := r["note"].([]any)
		if len(notes) == 0 {
			return ""
		}
		return notes[0].(jsonObj)["text"].(string)
	}
	t.Fatalf("no MedicationRequest %s", itemID)
	return ""
}

// additionalInstructionsOf returns the additional instructions value of
// the line item with id root, or nil.
func additionalInstructionsOf(doc *etree.Document, root string) *etree.Element {
	for _, li := range doc.FindElements("//pertinentLineItem") {
		if id := li.SelectElement("id"); id != nil && id.SelectAttrValue("root", "") == root {
			return li.FindElement("pertinentInformation1/pertinentAdditionalInstructions/value")
		}
	}
	return nil
}

// epsInstructions gives porxgate's FHIR of a release response the line
// item's controlled drug words and note as the EPS API gives them, and
// none of porxgate's extensions (the EPS API has none).
func epsInstructions(t *testing.T, body []byte, itemID, cdWords, note string) []byte {
	t.Helper()
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range releasedMedicationRequests(params) {
		var keep []any
		exts, _ := r["extension"].([]any)
		for _, x := range exts {
			url := x.(jsonObj)["url"].(string)
			if strings.HasPrefix(url, core.PorxgateExtensionBase) || url == core.ExtensionControlledDrug {
				continue
			}
			keep = append(keep, x)
		}
		if itemNumber(r) == itemID {
			found = true
			delete(r, "note")
			if note != "" {
				r["note"] = []any{jsonObj{"text": note}}
			}
			if cdWords != "" {
				keep = append(keep, jsonObj{"url": core.ExtensionControlledDrug,
					"extension": []any{jsonObj{"url": "quantityWords", "valueString": cdWords}}})
			}
		}
		r["extension"] = keep
	}
	if !found {
		t.Fatalf("no MedicationRequest %s", itemID)
	}
	out, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), core.PorxgateExtensionBase) {
		t.Fatalf("porxgate extensions left outside the MedicationRequests: %s", out)
	}
	return out
}

// TestReleasedRepeatDispensingIssue: the EPS API names the issue of a
// released repeat-dispensing prescription in each MedicationRequest's
// basedOn (Extension-EPS-RepeatInformation numberOfRepeatsIssued: the
// issues before it; response/release/release-medication-request.ts). The
// dispenser must get that issue in repeatNumber/low, as Spine released it;
// porxgate wrote 1 whatever the issue (3 of 6 reached the dispenser as 1 of
// 6).
func TestReleasedRepeatDispensingIssue(t *testing.T) {
	order := maptest.Testdata(t, "eps-fhir/Send--erd-telecom-from-practitioner.json")
	tests := []struct {
		issued  int
		wantLow string
	}{
		{0, "1"},
		{2, "3"},
		{5, "6"},
	}
	for _, tc := range tests {
		t.Run("issued "+strconv.Itoa(tc.issued), func(t *testing.T) {
			var b jsonObj
			if err := json.Unmarshal(order, &b); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range b["entry"].([]any) {
				r := e.(jsonObj)["resource"].(jsonObj)
				switch r["resourceType"] {
				case "MessageHeader":
					r["response"] = jsonObj{"identifier": "a7b86f8d-1d59-4b5c-a2c6-0c1d2e3f4a5b", "code": "ok"}
				case "MedicationRequest":
					// as the EPS API's release FHIR has it
					r["basedOn"] = []any{jsonObj{"reference": "urn:uuid:" + r["id"].(string), "extension": []any{jsonObj{
						"url": core.ExtensionEPSRepeatInformation, "extension": []any{
							jsonObj{"url": "numberOfRepeatsAllowed", "valueInteger": 5},
							jsonObj{"url": "numberOfRepeatsIssued", "valueInteger": tc.issued},
						}}}}}
					n++
				}
			}
			if n == 0 {
				t.Fatal("fixture has no MedicationRequest")
			}
			bundle := func(entries ...any) jsonObj {
				return jsonObj{"resourceType": "Bundle", "type": "searchset", "total": len(entries),
					"meta":       jsonObj{"lastUpdated": "2024-06-01T10:30:00+00:00"},
					"identifier": jsonObj{"system": "https://tools.ietf.org/html/rfc4122", "value": "c0000000-0000-4000-8000-000000000001"},
					"entry":      entries}
			}
			answer, err := json.Marshal(jsonObj{"resourceType": "Parameters", "parameter": []any{
				jsonObj{"name": release.ParamPassedPrescriptions, "resource": bundle(jsonObj{"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000002", "resource": b})},
				jsonObj{"name": release.ParamFailedPrescriptions, "resource": bundle()},
			}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := release.ReleaseResponseTranslator().ToV3(answer, core.Meta{}, relEnv())
			if err != nil {
				t.Fatalf("release answer refused: %v", err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(got); err != nil {
				t.Fatal(err)
			}
			lows := doc.FindElements("//pertinentPrescription/repeatNumber/low")
			lows = append(lows, doc.FindElements("//pertinentLineItem/repeatNumber/low")...)
			if len(lows) < 2 {
				t.Fatalf("%d repeat numbers written", len(lows))
			}
			for _, low := range lows {
				if v := low.SelectAttrValue("value", ""); v != tc.wantLow {
					t.Errorf("%s/repeatNumber/low %q, want %q", low.Parent().Parent().Tag, v, tc.wantLow)
				}
				if v := low.Parent().SelectElement("high").SelectAttrValue("value", ""); v != "6" {
					t.Errorf("%s/repeatNumber/high %q, want 6", low.Parent().Parent().Tag, v)
				}
			}
		})
	}
}

// releasedInstructions is how a release answer's prescription gives its
// line items' additional instructions: the repeat medications and patient
// information (List and CommunicationRequest), and each line item's
// controlled drug words and note by its id.
type releasedInstructions struct {
	medication, patientInfo []string
	words, notes            map[string]string
}

// releasedInstructionsOf reads the released instructions of the first
// prescription of a release answer.
func releasedInstructionsOf(t *testing.T, body []byte) releasedInstructions {
	t.Helper()
	var params jsonObj
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	got := releasedInstructions{words: map[string]string{}, notes: map[string]string{}}
	for _, r := range releasedMedicationRequests(params) {
		id := itemNumber(r)
		if notes, _ := r["note"].([]any); len(notes) > 0 {
			got.notes[id] = notes[0].(jsonObj)["text"].(string)
		}
		exts, _ := r["extension"].([]any)
		for _, x := range exts {
			if x.(jsonObj)["url"] != core.ExtensionControlledDrug {
				continue
			}
			for _, sub := range x.(jsonObj)["extension"].([]any) {
				if sub.(jsonObj)["url"] == "quantityWords" {
					got.words[id] = sub.(jsonObj)["valueString"].(string)
				}
			}
		}
	}
	for _, p := range params["parameter"].([]any) {
		if p.(jsonObj)["name"] != release.ParamPassedPrescriptions {
			continue
		}
		for _, outer := range p.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
			for _, e := range outer.(jsonObj)["resource"].(jsonObj)["entry"].([]any) {
				r := e.(jsonObj)["resource"].(jsonObj)
				switch r["resourceType"] {
				case "CommunicationRequest":
					for _, pl := range r["payload"].([]any) {
						if s, ok := pl.(jsonObj)["contentString"].(string); ok {
							got.patientInfo = append(got.patientInfo, s)
						}
					}
				case "List":
					for _, le := range r["entry"].([]any) {
						d, _ := le.(jsonObj)["item"].(jsonObj)["display"].(string) // none: ""
						got.medication = append(got.medication, d)
					}
				}
			}
		}
	}
	return got
}

// withInstructions sets the additional instructions of the line items of
// doc by id, giving a line item without them a copy of another's element.
func withInstructions(t *testing.T, doc *etree.Document, texts map[string]string) {
	t.Helper()
	var model *etree.Element
	for _, li := range doc.FindElements("//pertinentLineItem") {
		if el := li.SelectElement("pertinentInformation1"); el != nil {
			model = el
		}
	}
	if model == nil {
		t.Fatal("no line item with additional instructions")
	}
	for id, text := range texts {
		val := additionalInstructionsOf(doc, id)
		if val == nil {
			var li *etree.Element
			for _, l := range doc.FindElements("//pertinentLineItem") {
				if l.SelectElement("id").SelectAttrValue("root", "") == id {
					li = l
				}
			}
			if li == nil {
				t.Fatalf("no line item %s", id)
			}
			li.InsertChildAt(li.SelectElement("pertinentInformation2").Index(), model.Copy())
			val = additionalInstructionsOf(doc, id)
		}
		val.SetText(text)
	}
}

// TestReleasedInstructionsTakenApartAsEPSDoes: the EPS API's release
// translation takes a line item's additional instructions apart with
// /^\s*<medication>([\s\S]*?)<\/medication>/ (likewise <patientInfo>) and
// /^\s*CD: (.*?)(?:$|\n)/ (response/release/additional-instructions.ts,
// made so for a supplier's line breaks, AEA-3353): mark-up over several
// lines, and the controlled drug words after white space, are taken apart.
// porxgate's reading of a release response must give what the EPS API
// gives (the expectations are the official translator's output for these
// texts), and its own FHIR must still write the prescription back as Spine
// released it. Before, a patient information over two lines ended the
// mark-up: it, the rest of the mark-up and the words all went into the note.
func TestReleasedInstructionsTakenApartAsEPSDoes(t *testing.T) {
	raw := maptest.Testdata(t, "release/patient-release-response-070103.xml")
	const first, third = "B1000000-0000-4000-8000-000000000001", "B1000000-0000-4000-8000-000000000003"
	tests := []struct {
		name  string
		spine string // the first line item's additional instructions as Spine releases them
		third string // the third's ("": the fixture's "Do not swallow")
		want  releasedInstructions
	}{
		{"a supplier's line breaks (AEA-3353)",
			"\n<medication>med 1</medication>\n<medication>med 2</medication>\n<patientInfo>Your named GP is your registered GP.\n\n</patientInfo>\n<patientInfo>Next review date: 14-Sep-2023</patientInfo>\n\nCD: twenty eight",
			"", releasedInstructions{medication: []string{"med 1", "med 2"}, patientInfo: []string{"Your named GP is your registered GP.\n\n", "Next review date: 14-Sep-2023"},
				words: map[string]string{first: "twenty eight"}}},
		{"controlled drug words after spaces", "  CD: ten\nTake &amp; go",
			"", releasedInstructions{words: map[string]string{first: "ten"}, notes: map[string]string{first: "Take &amp; go"}}},
		{"controlled drug words after a no-break space", "\u00a0CD: five\n",
			"", releasedInstructions{words: map[string]string{first: "five"}}},
		{"patient information over two lines", "<patientInfo>Closed Fridays &amp;\nbank holidays</patientInfo>note",
			"", releasedInstructions{patientInfo: []string{"Closed Fridays &\nbank holidays"}, notes: map[string]string{first: "note"}}},
		{"white space between the mark-up", "<medication>x</medication> \t<patientInfo>y</patientInfo>\nCD: one\ntwo\nthree",
			"", releasedInstructions{medication: []string{"x"}, patientInfo: []string{"y"}, words: map[string]string{first: "one"}, notes: map[string]string{first: "two\nthree"}}},
		{"controlled drug words broken by a line separator", "CD: ten\u2028x\nnote",
			"", releasedInstructions{notes: map[string]string{first: "CD: ten\u2028x\nnote"}}},
		// common/response-bundles.ts makes the List and the
		// CommunicationRequest of the first line item's mark-up only; a
		// later item's is taken off its note and dropped
		{"mark-up on a later line item too", "<patientInfo>First info</patientInfo>",
			"<medication>Third med</medication><patientInfo>Third info</patientInfo>Do not swallow",
			releasedInstructions{patientInfo: []string{"First info"}}},
		{"mark-up on a later line item only", "Take with food",
			"<patientInfo>Third info</patientInfo>CD: two\nDo not swallow",
			releasedInstructions{words: map[string]string{third: "two"}, notes: map[string]string{first: "Take with food"}}},
		// the mark-up's content is read as XML by xml-js over sax
		{"numeric character references in the mark-up", "<patientInfo>Costs &#163;9.90 &#x2014; ask</patientInfo><medication>&#0065;&#X42;</medication>",
			"", releasedInstructions{medication: []string{"AB"}, patientInfo: []string{"Costs \u00a39.90 \u2014 ask"}}},
		{"named character references in the mark-up", "<medication>Para&nbsp;500 &Eacute;&EACUTE;</medication>",
			"", releasedInstructions{medication: []string{"Para\u00a0500 \u00c9\u00e9"}}},
		{"mark-up that is not well-formed stands as it is", "<patientInfo>A &amp; B & C</patientInfo><patientInfo>a < b &amp; c</patientInfo><medication>&ampx; &#0;</medication>",
			"", releasedInstructions{medication: []string{"&ampx; &#0;"}, patientInfo: []string{"A &amp; B & C", "a < b &amp; c"}}},
		{"mark-up of white space alone reads as nothing", "<medication>   </medication><medication>&#32;</medication><patientInfo>x</patientInfo>",
			"", releasedInstructions{medication: []string{"", ""}, patientInfo: []string{"x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			spine := map[string]string{first: tc.spine}
			if tc.third != "" {
				spine[third] = tc.third
			}
			withInstructions(t, doc, spine)
			// the third line item's note is "Do not swallow" in every case
			want := tc.want
			want.notes = map[string]string{strings.ToLower(third): "Do not swallow"}
			for id, n := range tc.want.notes {
				want.notes[strings.ToLower(id)] = n
			}
			want.words = map[string]string{}
			for id, w := range tc.want.words {
				want.words[strings.ToLower(id)] = w
			}
			env := relEnv()
			body, meta := releaseFHIROf(t, doc, env)
			got := releasedInstructionsOf(t, body)
			if strings.Join(got.medication, "|") != strings.Join(want.medication, "|") || strings.Join(got.patientInfo, "|") != strings.Join(want.patientInfo, "|") {
				t.Errorf("medication %q, patient information %q; want %q, %q as the EPS API gives them", got.medication, got.patientInfo, want.medication, want.patientInfo)
			}
			for _, m := range []struct {
				what      string
				got, want map[string]string
			}{{"controlled drug words", got.words, want.words}, {"notes", got.notes, want.notes}} {
				if len(m.got) != len(m.want) {
					t.Errorf("%s %q, want %q as the EPS API gives them", m.what, m.got, m.want)
					continue
				}
				for id, w := range m.want {
					if m.got[id] != w {
						t.Errorf("%s of %s: %q, want %q as the EPS API gives them", m.what, id, m.got[id], w)
					}
				}
			}
			out := releaseV3Of(t, "porxgate's FHIR", body, meta, env)
			for id, text := range spine {
				if got := textOf(additionalInstructionsOf(out, id)); got != text {
					t.Errorf("porxgate's FHIR writes back additional instructions %q on %s, want %q as Spine released them", got, id, text)
				}
			}
		})
	}
}

// TestReleasedMarkupWrittenAsSpineReleasedIt: the EPS API's release
// translation reads a line item's <medication> and <patientInfo> mark-up as
// XML (additional-instructions.ts), decoding each escape once: Spine's
// "<patientInfo>Fish &amp;amp; chips</patientInfo>" reaches the FHIR as
// "Fish &amp; chips". Written back for the dispenser, each must be escaped
// once again to come out as Spine released it; porxgate escaped them as it
// does a prescriber's FHIR, keeping an existing "&amp;" as the EPS API's
// request translation does, and so wrote "Fish &amp; chips", changing a
// signed line item.
func TestReleasedMarkupWrittenAsSpineReleasedIt(t *testing.T) {
	raw := maptest.Testdata(t, "release/patient-release-response-070103.xml")
	const first = "B1000000-0000-4000-8000-000000000001"
	tests := []struct {
		name          string
		spine         string // the first line item's additional instructions as Spine releases them
		cdWords, note string // as the EPS API gives them
	}{
		{"patient information with an escaped ampersand", "<patientInfo>Fish &amp;amp; chips</patientInfo>", "", ""},
		{"repeat medication with an escaped ampersand", "<medication>A &amp;amp; B</medication><patientInfo>x &lt; y</patientInfo>CD: ten\nnote", "ten", "note"},
		{"patient information with an ampersand", "<patientInfo>Fish &amp; chips</patientInfo>", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			withInstructions(t, doc, map[string]string{first: tc.spine})
			env := relEnv()
			body, meta := releaseFHIROf(t, doc, env)
			eps := epsInstructions(t, body, strings.ToLower(first), tc.cdWords, tc.note)
			out := releaseV3Of(t, "EPS's FHIR", eps, meta, env)
			if got := textOf(additionalInstructionsOf(out, first)); got != tc.spine {
				t.Errorf("EPS's FHIR writes additional instructions %q, want %q as Spine released them", got, tc.spine)
			}
		})
	}
}

// textOf returns an element's text, "(none)" for no element.
func textOf(el *etree.Element) string {
	if el == nil {
		return "(none)"
	}
	return el.Text()
}
