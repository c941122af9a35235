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
			tr, env := release.ReleaseResponseTranslator(), relEnv()
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
				got, err := tr.ToV3(fhirBody, meta, env)
				if err != nil {
					t.Fatalf("%s refused: %v", name, err)
				}
				out := etree.NewDocument()
				if err := out.ReadFromBytes(got); err != nil {
					t.Fatal(err)
				}
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
