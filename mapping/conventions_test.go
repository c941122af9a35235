package mapping_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/prescribe"
	taskmap "github.com/porxgate/porxgate/mapping/task"
	v3 "github.com/porxgate/porxgate/v3"
)

// The tests of this file pin the conventions of docs/mappings/conventions.md
// (EPS's, where the MIM, EPS and the corpus could differ) on messages the
// project wrote itself (testdata/), so they hold without the corpus.

// translatorOf returns the translator of a v3 payload's interaction.
func translatorOf(t *testing.T, payload []byte) *core.Translator {
	t.Helper()
	_, tag, err := conformance.ExtractPayload(payload)
	if err != nil {
		t.Fatal(err)
	}
	tr := mapping.NewRegistry().ByInteraction(tag)
	if tr == nil {
		t.Fatalf("no translator for %s", tag)
	}
	return tr
}

// legacyRx makes a UK ParentPrescription from a FHIR fixture of testdata.
func legacyRx(t *testing.T, fixture string) []byte {
	t.Helper()
	v3b, err := prescribe.PrescribeToV3(maptest.Testdata(t, "prescribe/"+fixture), core.Meta{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	return v3b
}

// bundleOf decodes a FHIR Bundle.
func bundleOf(t *testing.T, body []byte) *fhir.Bundle {
	t.Helper()
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConventionProfessionalCode: a prescriber's v3 professional code of a
// G and seven digits (GMP national codes, the spurious code G9999999) reads
// as a gmc-number, never a gmp-number (EPS refuses a prescriber with one),
// and comes back unchanged.
func TestConventionProfessionalCode(t *testing.T) {
	rx := legacyRx(t, "acute-nurse-controlled-drug-unsigned.json")
	re := regexp.MustCompile(`(<id root="1\.2\.826\.0\.1285\.0\.2\.1\.54" extension=")[^"]*(")`)
	if len(re.FindAll(rx, -1)) == 0 {
		t.Fatal("fixture has no professional code")
	}
	for _, code := range []string{"G9999999", "G8123456", "6095103"} {
		t.Run(code, func(t *testing.T) {
			in := re.ReplaceAll(rx, []byte("${1}"+code+"${2}"))
			body, meta, err := prescribe.PrescribeToFHIR(in, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range fhir.EntriesOf[*fhir.Practitioner](bundleOf(t, body)) {
				for _, id := range p.Identifier {
					if id.System == fhir.SystemGMP {
						t.Errorf("Practitioner %s has a gmp-number %s", p.ID, id.Value)
					}
				}
			}
			if !bytes.Contains(body, []byte(`"system":"https://fhir.hl7.org.uk/Id/gmc-number","value":"`+code+`"`)) {
				t.Errorf("no gmc-number %s in\n%s", code, body)
			}
			back, err := prescribe.PrescribeToV3(body, meta, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(back, []byte(`extension="`+code+`"`)) {
				t.Errorf("%s did not come back", code)
			}
		})
	}
}

// TestConventionWithdrawRequester: an ODS code in the withdraw author's
// agentPersonSDS/id (as the EPS API writes it) becomes the Task's contained
// Organization and owner, the practitioner being the session's SDS user; an
// all-digit value stays the practitioner's SDS user id. Both come back.
func TestConventionWithdrawRequester(t *testing.T) {
	orig := maptest.Testdata(t, "withdraw/withdraw-erd.xml")
	const inner = `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
              <id extension="7654321"`
	if !bytes.Contains(orig, []byte(inner)) {
		t.Fatal("fixture's withdraw author changed")
	}
	withODS := bytes.Replace(orig, []byte(inner), []byte(strings.Replace(inner, "7654321", "FCG71", 1)), 1)
	tests := []struct {
		name      string
		payload   []byte
		wantOwner string
		wantUser  string
	}{
		{"ODS code", withODS, "FCG71", "7654321"},
		{"SDS user id", orig, "", "7654321"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, meta, err := taskmap.WithdrawToFHIR(tt.payload, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			res, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			task := res.(*fhir.Task)
			owner := ""
			if task.Owner != nil && task.Owner.Identifier != nil {
				owner = task.Owner.Identifier.Value
			}
			if owner != tt.wantOwner {
				t.Errorf("owner %q, want %q", owner, tt.wantOwner)
			}
			role, _ := task.FindContained("#requester").(*fhir.PractitionerRole)
			if role == nil || role.Practitioner == nil || role.Practitioner.Identifier == nil || role.Practitioner.Identifier.Value != tt.wantUser {
				t.Fatalf("requester %+v, want practitioner %s", role, tt.wantUser)
			}
			if tt.wantOwner != "" {
				org, _ := task.FindContained(role.Organization.Reference).(*fhir.Organization)
				if org == nil || fhir.FindIdentifier(org.Identifier, fhir.SystemODS) != tt.wantOwner {
					t.Errorf("contained organisation %+v, want ODS %s", org, tt.wantOwner)
				}
			}
			back, err := taskmap.WithdrawToV3(body, meta, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			d, err := conformance.Compare(tt.payload, back, conformance.Rules{FHIRRequest: tt.payload})
			if err != nil || d != nil {
				t.Errorf("withdraw changed on the way back: %v %v", d, err)
			}
		})
	}
}

// TestConventionCourseOfTherapy: repeat dispensing is
// continuous-repeat-dispensing under NHS England's code system, the others
// under HL7's.
func TestConventionCourseOfTherapy(t *testing.T) {
	for fixture, want := range map[string]string{
		"repeat-dispensing-pharmacist-endorsed.json": "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy|continuous-repeat-dispensing",
		"acute-nurse-controlled-drug-unsigned.json":  "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy|acute",
	} {
		t.Run(fixture, func(t *testing.T) {
			body, _, err := prescribe.PrescribeToFHIR(legacyRx(t, fixture), core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](bundleOf(t, body)) {
				c := mr.CourseOfTherapyType.Coding[0]
				if got := c.System + "|" + c.Code; got != want {
					t.Errorf("%s: course of therapy %s, want %s", mr.ID, got, want)
				}
			}
		})
	}
}

// shortFormRE finds short-form prescription ids.
var shortFormRE = regexp.MustCompile(`[0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-F]{5}[0-9A-Z+]`)

// TestConventionCheckCharacter: in every interaction and both directions a
// short-form id with a wrong check character is translated unchanged (the
// check character is Spine's to judge); one of the wrong shape is refused.
func TestConventionCheckCharacter(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payload, tag, err := conformance.ExtractPayload(raw)
		if err != nil || strings.HasPrefix(tag, "MCCI") {
			continue
		}
		if canon, _, err := v3.Canonical(tag); err == nil && (canon == v3.CancelResponse || canon == v3.SubsequentCancelResponse) {
			continue // Spine's answer echoes the request's id, read unchecked (cancel.shortFormIDRef)
		}
		id := shortFormRE.Find(payload)
		if id == nil {
			continue
		}
		good, err := v3.ShortFormCheckChar(string(id[:19]))
		if err != nil || good != id[19] {
			continue // an id the fixture already gets wrong (a rejection's echo)
		}
		bad := append(append([]byte{}, id[:19]...), wrongCheck(good))
		tr := mapping.NewRegistry().ByInteraction(tag)
		if tr == nil {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := bytes.ReplaceAll(payload, id, bad)
			body, meta, err := tr.ToFHIR(in, core.FixedEnv())
			if err != nil {
				t.Fatalf("v3 → FHIR refused %s: %v", bad, err)
			}
			if !bytes.Contains(body, bad) {
				t.Errorf("FHIR lost %s", bad)
			}
			back, err := tr.ToV3(body, meta, core.FixedEnv())
			if err != nil {
				t.Fatalf("FHIR → v3 refused %s: %v", bad, err)
			}
			if !bytes.Contains(back, bad) {
				t.Errorf("v3 lost %s", bad)
			}
			malformed := bytes.ReplaceAll(payload, id, append([]byte("ZZ"), id[2:]...))
			if _, _, err := tr.ToFHIR(malformed, core.FixedEnv()); err == nil {
				t.Errorf("an id of the wrong shape was accepted")
			}
		})
	}
	if n < 8 {
		t.Fatalf("only %d interactions checked", n)
	}
}

// wrongCheck returns a check character other than good.
func wrongCheck(good byte) byte {
	if good == '0' {
		return '1'
	}
	return '0'
}

// TestConventionDispenseRepeat: a dispense notification's repeat numbers as
// the EPS API writes them: the supply header's (issue, issues) is
// Extension-EPS-RepeatInformation's issued + 1 and allowed + 1; the line
// item's low is the UKCore numberOfPrescriptionsIssued and its high
// numberOfRepeatsAllowed + 1. The message comes back unchanged.
func TestConventionDispenseRepeat(t *testing.T) {
	payload := maptest.Testdata(t, "dispense/dn-erd.xml") // header and item repeatNumber 2..6
	body, meta, err := dispense.DispenseToFHIR(payload, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	b := bundleOf(t, body)
	md := fhir.EntriesOf[*fhir.MedicationDispense](b)[0]
	mr, _ := md.Contained[len(md.Contained)-1].(*fhir.MedicationRequest)
	if mr == nil {
		for _, r := range md.Contained {
			if m, ok := r.(*fhir.MedicationRequest); ok {
				mr = m
			}
		}
	}
	if mr == nil {
		t.Fatal("no contained MedicationRequest")
	}
	rep := fhir.FindExtension(mr.BasedOn[0].Extension, core.ExtensionEPSRepeatInformation)
	if got := subInt(rep, "numberOfRepeatsIssued") + "/" + subInt(rep, "numberOfRepeatsAllowed"); got != "1/5" {
		t.Errorf("EPS-RepeatInformation issued/allowed %s, want 1/5", got)
	}
	uk := fhir.FindExtension(mr.Extension, core.ExtensionUKCoreRepeatInformation)
	if got := subInt(uk, "numberOfPrescriptionsIssued") + "/" + string(*mr.DispenseRequest.NumberOfRepeatsAllowed); got != "2/5" {
		t.Errorf("UKCore numberOfPrescriptionsIssued / numberOfRepeatsAllowed %s, want 2/5", got)
	}
	back, err := dispense.DispenseToV3(body, meta, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if d, err := conformance.Compare(payload, back, conformance.Rules{FHIRRequest: payload}); err != nil || d != nil {
		t.Errorf("dispense notification changed on the way back: %v %v", d, err)
	}
}

// subInt returns a sub-extension's integer as text.
func subInt(e *fhir.Extension, url string) string {
	if e == nil {
		return "none"
	}
	s := fhir.FindExtension(e.Extension, url)
	switch {
	case s == nil:
		return "none"
	case s.ValueInteger != nil:
		return string(*s.ValueInteger)
	case s.ValueUnsignedInt != nil:
		return string(*s.ValueUnsignedInt)
	}
	return "none"
}

// TestConventionUnknownGP: a v3 null GP reads as V81999, and V81999 or no
// generalPractitioner is written as the id V81999, as the EPS API writes it.
func TestConventionUnknownGP(t *testing.T) {
	rx := legacyRx(t, "acute-nurse-controlled-drug-unsigned.json")
	gp := regexp.MustCompile(`(<healthCareProvider classCode="PROV">\s*)<id [^>]*/>`)
	if !gp.Match(rx) {
		t.Fatal("fixture has no healthCareProvider id")
	}
	in := gp.ReplaceAll(rx, []byte(`${1}<id nullFlavor="UNK"/>`))
	body, _, err := prescribe.PrescribeToFHIR(in, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	b := bundleOf(t, body)
	p := fhir.EntriesOf[*fhir.Patient](b)[0]
	if p.GeneralPractitioner[0].Identifier.Value != core.UnknownGPODSCode {
		t.Errorf("null GP read as %+v", p.GeneralPractitioner)
	}
	// FHIR → v3, from the project's FHIR fixture (no carried v3 parts).
	fb := bundleOf(t, maptest.Testdata(t, "prescribe/acute-nurse-controlled-drug-unsigned.json"))
	fp := fhir.EntriesOf[*fhir.Patient](fb)[0]
	unknown := []fhir.Reference{{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: core.UnknownGPODSCode}}}
	for _, gps := range [][]fhir.Reference{unknown, nil} {
		fp.GeneralPractitioner = gps
		out, err := fhir.Marshal(fb)
		if err != nil {
			t.Fatal(err)
		}
		v3b, err := prescribe.PrescribeToV3(out, core.Meta{}, core.FixedEnv())
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`<healthCareProvider classCode="PROV">\s*<id (root="1\.2\.826\.0\.1285\.0\.1\.10" extension="V81999"|extension="V81999" root="1\.2\.826\.0\.1285\.0\.1\.10")/>`).Match(v3b) {
			t.Errorf("generalPractitioner %d not written as V81999", len(gps))
		}
	}
}

// TestConventionDispenseAuthorTime: the supply header's author time travels
// in Bundle.timestamp and the Bundle carries no porxgate extension for it.
func TestConventionDispenseAuthorTime(t *testing.T) {
	body, _, err := dispense.DispenseToFHIR(maptest.Testdata(t, "dispense/dn-full-two-items.xml"), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	b := bundleOf(t, body)
	if b.Timestamp == "" {
		t.Error("no Bundle.timestamp")
	}
	if bytes.Contains(body, []byte(`"url":"authorTime"`)) {
		t.Error("author time still in a porxgate extension")
	}
}

// TestConventionDispenserLicence: a legacy dispenser organisation with a
// healthCareProviderLicense (which its CMET, UKCT_MT120201UK03, does not
// have) is accepted and read as the Organization's partOf, and FHIR → v3
// writes the dispenser without it, as the EPS API does.
func TestConventionDispenserLicence(t *testing.T) {
	payload := maptest.Testdata(t, "dispense/dn-full-two-items.xml")
	licence := `<healthCareProviderLicense classCode="PROV"><Organization classCode="ORG" determinerCode="INSTANCE">` +
		`<id root="1.2.826.0.1285.0.1.10" extension="Y99999"/><code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/>` +
		`<name>LEGACY PHARMACY GROUP</name></Organization></healthCareProviderLicense></representedOrganization>`
	in := bytes.Replace(payload, []byte("</representedOrganization>"), []byte(licence), 1)
	if bytes.Equal(in, payload) {
		t.Fatal("fixture has no representedOrganization")
	}
	body, meta, err := dispense.DispenseToFHIR(in, core.FixedEnv())
	if err != nil {
		t.Fatalf("a dispenser with a licence is refused: %v", err)
	}
	orgs := fhir.EntriesOf[*fhir.Organization](bundleOf(t, body))
	if len(orgs) == 0 || orgs[0].PartOf == nil || orgs[0].PartOf.Identifier == nil || orgs[0].PartOf.Identifier.Value != "Y99999" {
		t.Fatalf("licence not read as partOf: %s", body)
	}
	back, err := dispense.DispenseToV3(body, meta, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(back, []byte("healthCareProviderLicense")) {
		t.Error("FHIR → v3 wrote a healthCareProviderLicense for the dispenser")
	}
	if d, err := conformance.Compare(payload, back, conformance.Rules{FHIRRequest: payload}); err != nil || d != nil {
		t.Errorf("dispense notification without the licence differs: %v %v", d, err)
	}
}

// TestConventionTaskRepeatInstance: a return's or withdraw's v3 repeat
// instance n (the eRD issue, from 1) is numberOfRepeatsIssued n-1 in the
// Task, as EPS counts it, and comes back as n; instance 0 names no issue.
func TestConventionTaskRepeatInstance(t *testing.T) {
	for _, tc := range []struct{ fixture, rel string }{
		{"return/return-erd.xml", "pertinentInformation2"},
		{"withdraw/withdraw-erd.xml", "pertinentInformation1"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			payload := maptest.Testdata(t, tc.fixture)
			re := regexp.MustCompile(`(<` + tc.rel + `[^>]*>\s*<seperatableInd value="false" />\s*<pertinentRepeatInstanceInfo classCode="OBS" moodCode="EVN">\s*<code [^>]*/>\s*<value value=")(\d+)(")`)
			m := re.FindSubmatch(payload)
			if m == nil {
				t.Fatal("fixture has no repeat instance")
			}
			tr := translatorOf(t, payload)
			body, meta, err := tr.ToFHIR(payload, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			task, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			tk, ok := task.(*fhir.Task)
			if !ok {
				t.Fatalf("not a Task: %T", task)
			}
			want := map[string]string{"2": "1", "3": "2"}[string(m[2])]
			if got := subInt(fhir.FindExtension(tk.Extension, core.ExtensionEPSRepeatInformation), "numberOfRepeatsIssued"); got != want {
				t.Errorf("instance %s: numberOfRepeatsIssued %s, want %s", m[2], got, want)
			}
			back, err := tr.ToV3(body, meta, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			if d, err := conformance.Compare(payload, back, conformance.Rules{FHIRRequest: payload}); err != nil || d != nil {
				t.Errorf("changed on the way back: %v %v", d, err)
			}
			zero := re.ReplaceAll(payload, []byte("${1}0${3}"))
			if _, _, err := tr.ToFHIR(zero, core.FixedEnv()); err == nil || !strings.Contains(err.Error(), "issue number") {
				t.Errorf("repeat instance 0: want an error naming the issue number, got %v", err)
			}
		})
	}
}
