package tracker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

// trackerJSONEqual reports whether two JSON texts hold the same value.
func trackerJSONEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// trackerRoundTrip takes legacy tracker JSON to FHIR and back.
func trackerRoundTrip(t testing.TB, data []byte) (fhirJSON, back []byte) {
	t.Helper()
	r, err := ParseTrackerJSON(data)
	if err != nil {
		t.Fatalf("reading the legacy JSON: %v", err)
	}
	fhirJSON, err = TrackerJSONToFHIR(data, core.CountingIDs())
	if err != nil {
		t.Fatalf("legacy → FHIR: %v", err)
	}
	again, err := TrackerFromFHIR(r.Kind, fhirJSON)
	if err != nil {
		t.Fatalf("FHIR → legacy: %v\n%s", err, fhirJSON)
	}
	back, err = json.Marshal(again)
	if err != nil {
		t.Fatalf("writing the legacy JSON: %v", err)
	}
	return fhirJSON, back
}

// TestTrackerCorpusRoundTrip takes every corpus tracker answer legacy JSON →
// FHIR → legacy JSON and wants the same JSON back.
func TestTrackerCorpusRoundTrip(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool {
		rel = filepath.ToSlash(rel)
		return strings.HasPrefix(rel, "tracker-responses/") && strings.HasSuffix(rel, ".json")
	})
	if len(files) == 0 {
		t.Fatal("no tracker-responses in the corpus")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fhirJSON, back := trackerRoundTrip(t, data)
			if !trackerJSONEqual(t, data, back) {
				t.Errorf("round trip changed the answer\nFHIR: %s\nback: %s\nwant: %s", fhirJSON, back, data)
			}
		})
	}
}

// TestTrackerCorpusFHIRShape checks the FHIR of the corpus answers against
// the EPS tracker's facts: one Task per prescription with the business
// status code, the short-form id as focus, the NHS number as for, the
// course of therapy, one input per line item; an error as an
// OperationOutcome that keeps the status code.
func TestTrackerCorpusFHIRShape(t *testing.T) {
	dir := corpustest.Dir(t)
	read := func(rel string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "tracker-responses", rel))
		if err != nil {
			t.Fatal(err)
		}
		out, err := TrackerJSONToFHIR(data, core.CountingIDs())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("summary", func(t *testing.T) {
		b, err := fhir.ParseBundle(read("summary/success.json"))
		if err != nil {
			t.Fatal(err)
		}
		tasks := fhir.EntriesOf[*fhir.Task](b)
		if b.Type != "searchset" || b.Total == nil || *b.Total != 5 || len(tasks) != 5 {
			t.Fatalf("bundle type %q total %v tasks %d, want searchset 5 5", b.Type, b.Total, len(tasks))
		}
		first := tasks[0]
		if got := fhir.FindCoding(first.BusinessStatus, fhir.CodeSystemTaskBusinessStatus); got == nil || got.Code != "0008" || first.Status != "completed" {
			t.Errorf("Claimed prescription: businessStatus %+v status %s, want 0008 completed", got, first.Status)
		}
		if first.Focus.Identifier.System != fhir.SystemShortFormID || first.Focus.Identifier.Value != "003D4D-A99968-4C5AAJ" {
			t.Errorf("focus = %+v", first.Focus.Identifier)
		}
		if first.For.Identifier.System != fhir.SystemNHSNumber || first.For.Identifier.Value != "9449304106" {
			t.Errorf("for = %+v", first.For.Identifier)
		}
		if first.AuthoredOn != "2021-11-05T11:40:02+00:00" || first.LastModified != "2021-11-05T11:41:59+00:00" {
			t.Errorf("authoredOn %s lastModified %s", first.AuthoredOn, first.LastModified)
		}
		course := fhir.FindExtension(fhir.FindExtension(first.Extension, ExtensionEPSPrescription).Extension, "courseOfTherapyType")
		if course.ValueCoding.Code != core.CourseAcute {
			t.Errorf("course of therapy %s, want acute", course.ValueCoding.Code)
		}
		if fhir.FindExtension(first.Extension, core.ExtensionEPSRepeatInformation) != nil || fhir.FindExtension(first.Extension, ExtensionTrackerPrescription) != nil {
			t.Errorf("an acute R2 prescription needs neither repeat information nor porxgate's extension: %+v", first.Extension)
		}
		if len(first.Input) != 2 || first.Input[0].ValueReference.Display != "Amlodipine 5mg/5ml oral solution" {
			t.Errorf("inputs = %+v", first.Input)
		}
	})
	t.Run("detail", func(t *testing.T) {
		b, err := fhir.ParseBundle(read("detail/success-claimed.json"))
		if err != nil {
			t.Fatal(err)
		}
		tasks := fhir.EntriesOf[*fhir.Task](b)
		if len(tasks) != 1 {
			t.Fatalf("%d tasks, want 1", len(tasks))
		}
		task := tasks[0]
		if task.Owner == nil || task.Owner.Identifier.Value != "FB444" || task.Requester == nil || task.Requester.Identifier.Value != "M12345" {
			t.Errorf("owner %+v requester %+v, want the dispensing pharmacy FB444 and prescriber M12345", task.Owner, task.Requester)
		}
		repeat := fhir.FindExtension(task.Extension, core.ExtensionEPSRepeatInformation)
		if repeat == nil || fhir.FindExtension(repeat.Extension, "numberOfRepeatsAllowed").ValueInteger.String() != "6" ||
			fhir.FindExtension(repeat.Extension, "numberOfRepeatsIssued").ValueInteger.String() != "2" {
			t.Errorf("repeat information = %+v, want 6 allowed, 2 issued", repeat)
		}
		status := fhir.FindExtension(fhir.FindExtension(task.Input[0].Extension, core.ExtensionDispensingInformation).Extension, "dispenseStatus")
		if status.ValueCoding.Code != "0001" {
			t.Errorf("item status %+v, want 0001", status.ValueCoding)
		}
		rel := fhir.FindExtension(task.Output[0].Extension, ExtensionDispensingReleaseInformation)
		if d := fhir.FindExtension(rel.Extension, "dateClaimed"); d == nil || d.ValueDateTime == nil || *d.ValueDateTime != "2018-05-22T09:57:03+00:00" {
			t.Errorf("dateClaimed = %+v", d)
		}
	})
	t.Run("error", func(t *testing.T) {
		res, err := fhir.DecodeResource(read("detail/error-no-issue-number.json"))
		if err != nil {
			t.Fatal(err)
		}
		oo, ok := res.(*fhir.OperationOutcome)
		if !ok {
			t.Fatalf("got a %s, want an OperationOutcome", res.GetResourceType())
		}
		c := fhir.FindCoding(oo.Issue[0].Details, CodeSystemTrackerStatus)
		spine := fhir.FindCoding(oo.Issue[0].Details, fhir.CodeSystemSpineErrorOrWarning)
		if oo.Issue[0].Code != "not-found" || c == nil || c.Code != "8" || spine == nil || spine.Display != "Prescription repeat instance not found" {
			t.Errorf("issue = %+v", oo.Issue[0])
		}
	})
}
