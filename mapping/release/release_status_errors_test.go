package release_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// TestReleaseStatusErrors writes the project's release response back to
// v3 from FHIR whose release statuses are malformed, and checks each
// refusal names the MedicationRequest's element path and the problem; an
// item status matched by a line item id in another letter case is taken.
func TestReleaseStatusErrors(t *testing.T) {
	v3Msg := maptest.Testdata(t, "release/patient-release-response-070103.xml")
	body, meta, err := release.ReleaseResponseToFHIR(v3Msg, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	coding := func(system, code string) *fhir.Coding { return &fhir.Coding{System: system, Code: code} }
	status := func(cd *fhir.Coding) fhir.Extension {
		return fhir.Extension{URL: core.ExtensionTaskBusinessStatus, ValueCoding: cd}
	}
	dispensing := func(cd *fhir.Coding) fhir.Extension {
		return fhir.Extension{URL: core.ExtensionDispensingInformation, Extension: []fhir.Extension{{URL: "dispenseStatus", ValueCoding: cd}}}
	}
	// without returns the extensions but those of url.
	without := func(exts []fhir.Extension, url string) []fhir.Extension {
		var out []fhir.Extension
		for _, e := range exts {
			if e.URL != url {
				out = append(out, e)
			}
		}
		return out
	}
	tests := []struct {
		name string
		edit func(mr *fhir.MedicationRequest)
		want []string // nil: no error
	}{
		{"two prescription statuses", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(mr.Extension, status(coding(fhir.CodeSystemTaskBusinessStatus, "0001")))
		}, []string{"entry[0].resource.entry[1].resource.extension", "more than one extension " + core.ExtensionTaskBusinessStatus}},
		{"prescription status without a code", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(without(mr.Extension, core.ExtensionTaskBusinessStatus), status(coding(fhir.CodeSystemTaskBusinessStatus, "")))
		}, []string{"entry[0].resource.entry[1].resource.extension", "without a valueCoding code"}},
		{"prescription status of another system", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(without(mr.Extension, core.ExtensionTaskBusinessStatus), status(coding("urn:x", "0001")))
		}, []string{"entry[0].resource.entry[1].resource.extension.valueCoding.system", `system "urn:x"`}},
		{"two item statuses", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(mr.Extension, dispensing(coding(fhir.CodeSystemMedicationDispenseType, "0001")))
		}, []string{"entry[0].resource.entry[1].resource.extension", "more than one extension " + core.ExtensionDispensingInformation}},
		{"item status without a code", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(without(mr.Extension, core.ExtensionDispensingInformation), dispensing(nil))
		}, []string{"entry[0].resource.entry[1].resource.extension.extension", "dispenseStatus without a valueCoding code"}},
		{"item status of another system", func(mr *fhir.MedicationRequest) {
			mr.Extension = append(without(mr.Extension, core.ExtensionDispensingInformation), dispensing(coding("urn:y", "0001")))
		}, []string{"entry[0].resource.entry[1].resource.extension.extension.valueCoding.system", `system "urn:y"`}},
		{"line item id in lower case", func(mr *fhir.MedicationRequest) {
			for i := range mr.Identifier {
				mr.Identifier[i].Value = strings.ToLower(mr.Identifier[i].Value)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodeParams(t, body)
			rx := p.Find(release.ParamPassedPrescriptions).Resource.(*fhir.Bundle).Entry[0].Resource.(*fhir.Bundle)
			mrs := fhir.EntriesOf[*fhir.MedicationRequest](rx)
			if len(mrs) == 0 {
				t.Fatal("no MedicationRequest")
			}
			tt.edit(mrs[0])
			mrs[0].Extension = without(mrs[0].Extension, release.ExtensionReleaseVerbatim)
			in, err := fhir.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = release.ReleaseResponseToV3(in, meta, relEnv())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			relWantError(t, err, tt.want)
		})
	}
}
