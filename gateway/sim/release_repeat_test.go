package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

// withCourse returns the prescription-order fixture for p with every
// MedicationRequest of course (and, for repeat dispensing, repeats issues
// after the first).
func withCourse(t *testing.T, p rx, course string, repeats int) []byte {
	t.Helper()
	var b jsonMap
	if err := json.Unmarshal(fixture(t, "prescription-order.json", p.repl(nil)), &b); err != nil {
		t.Fatal(err)
	}
	system := fhir.CodeSystemCourseOfTherapy
	if course == courseRepeatDispensing {
		system = fhir.CodeSystemCourseOfTherapyNHS
	}
	for _, e := range b["entry"].([]any) {
		r := e.(jsonMap)["resource"].(jsonMap)
		if r["resourceType"] != "MedicationRequest" {
			continue
		}
		r["courseOfTherapyType"] = jsonMap{"coding": []any{jsonMap{"system": system, "code": course}}}
		if course == courseRepeatDispensing {
			r["dispenseRequest"].(jsonMap)["numberOfRepeatsAllowed"] = repeats
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// releasedRepeats reads, by line item id, the basedOn of each
// MedicationRequest of the one prescription a $release answer passed:
// its reference and Extension-EPS-RepeatInformation's numbers, "" where
// the MedicationRequest has no basedOn.
func releasedRepeats(t *testing.T, a answer) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](releasedBundle(t, a)) {
		got := ""
		for _, based := range mr.BasedOn {
			got += based.Reference
			if x := fhir.FindExtension(based.Extension, fhir.ExtensionRepeatInformation); x != nil {
				for _, name := range []string{"numberOfRepeatsAllowed", "numberOfRepeatsIssued"} {
					if sub := fhir.FindExtension(x.Extension, name); sub != nil && sub.ValueInteger != nil {
						got += " " + name + "=" + string(*sub.ValueInteger)
					}
				}
			}
		}
		out[fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID)] = got
	}
	return out
}

// TestReleaseNamesTheRepeatIssue: EPS releases a repeat dispensing (and a
// repeat prescribing) prescription with each MedicationRequest's basedOn
// naming its line item and the issue in Extension-EPS-RepeatInformation
// (numberOfRepeatsAllowed: the issues after the first; numberOfRepeatsIssued:
// the issues before this one; the EPS API's
// translation/response/release/release-medication-request.ts, createBasedOn,
// from Spine's repeatNumber); an acute prescription has none. Before, the
// simulator released the prescription-order as received: issue 2 of 3 went
// out with the prescriber's basedOn and no numberOfRepeatsIssued, so the
// gateway answered the dispenser issue 1 of 3 and eRD issues 2..n could not
// be exercised end to end.
func TestReleaseNamesTheRepeatIssue(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	tests := []struct {
		name    string
		course  string
		repeats int
		issues  int // issues to dispense before the release checked
		want    string
	}{
		{"acute", "acute", 0, 0, ""},
		{"repeat prescribing", "continuous", 0, 0, " numberOfRepeatsAllowed=0 numberOfRepeatsIssued=0"},
		{"repeat dispensing issue 1 of 3", courseRepeatDispensing, 2, 0, " numberOfRepeatsAllowed=2 numberOfRepeatsIssued=0"},
		{"repeat dispensing issue 2 of 3", courseRepeatDispensing, 2, 1, " numberOfRepeatsAllowed=2 numberOfRepeatsIssued=1"},
		{"repeat dispensing issue 3 of 3", courseRepeatDispensing, 2, 2, " numberOfRepeatsAllowed=2 numberOfRepeatsIssued=2"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newRx(t, uint32(400+i), "FH542")
			post := func(path string, body []byte) answer { return do(t, http.MethodPost, api+path, body, nil) }
			post("/$process-message", withCourse(t, p, tc.course, tc.repeats)).want(t, 200, "informational")
			for n := 0; n < tc.issues; n++ {
				post("/Task/$release", fixture(t, "release-patient.json", p.repl(nil))).want(t, 200, "")
				post("/$process-message", fixture(t, "dispense-notification.json", p.repl(map[string]string{
					"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": fmt.Sprintf("d%d", n)}))).want(t, 200, "informational")
				do(t, http.MethodPost, base+"/_admin/next-issue?prescriptionId="+url.QueryEscape(p.sf), nil, nil).want(t, 200, "")
			}
			got := releasedRepeats(t, post("/Task/$release", fixture(t, "release-patient.json", p.repl(nil))))
			for _, item := range []string{p.item1, p.item2} {
				want := ""
				if tc.want != "" {
					want = item + tc.want
				}
				if got[item] != want {
					t.Errorf("item %s released with basedOn %q, want %q", item, got[item], want)
				}
			}
		})
	}
}

// TestReleaseIntent: EPS releases a repeat dispensing prescription's
// MedicationRequests with intent reflex-order and every other with intent
// order, whatever intent the prescriber sent (original-order,
// instance-order…: release-medication-request.ts, createMedicationRequest).
// Before, the simulator released the prescriber's intent unchanged.
func TestReleaseIntent(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	tests := []struct {
		course, sent, want string
	}{
		{"acute", "order", "order"},
		{"continuous", "instance-order", "order"},
		{courseRepeatDispensing, "original-order", "reflex-order"},
	}
	for i, tc := range tests {
		t.Run(tc.course, func(t *testing.T) {
			p := newRx(t, uint32(450+i), "FH542")
			order := strings.ReplaceAll(string(withCourse(t, p, tc.course, 2)), `"intent":"order"`, `"intent":"`+tc.sent+`"`)
			do(t, http.MethodPost, api+"/$process-message", []byte(order), nil).want(t, 200, "informational")
			b := releasedBundle(t, do(t, http.MethodPost, api+"/Task/$release", fixture(t, "release-patient.json", p.repl(nil)), nil))
			for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
				if mr.Intent != tc.want {
					t.Errorf("sent %s, released %s, want %s", tc.sent, mr.Intent, tc.want)
				}
			}
		})
	}
}
