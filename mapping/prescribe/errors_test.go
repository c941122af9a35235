package prescribe

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// fixture reads a testdata/prescribe fixture.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prescribe", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editBundle decodes a Bundle as generic JSON, lets edit change it, and
// encodes it again.
func editBundle(t *testing.T, data []byte, edit func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	edit(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entries(b map[string]any) []any { return b["entry"].([]any) }

func resourceAt(b map[string]any, i int) map[string]any {
	return entries(b)[i].(map[string]any)["resource"].(map[string]any)
}

// eachOfType calls f for every entry resource of a type.
func eachOfType(b map[string]any, typ string, f func(r map[string]any)) {
	for i := range entries(b) {
		if r := resourceAt(b, i); r["resourceType"] == typ {
			f(r)
		}
	}
}

// dropType removes every entry of a type.
func dropType(b map[string]any, typ string) {
	var keep []any
	for i, e := range entries(b) {
		if resourceAt(b, i)["resourceType"] != typ {
			keep = append(keep, e)
		}
	}
	b["entry"] = keep
}

// TestPrescribeToV3BadInput checks that a FHIR prescription-order that cannot
// become a ParentPrescription gives an error naming the interaction and the
// FHIR element path, and no message.
func TestPrescribeToV3BadInput(t *testing.T) {
	base := fixture(t, "repeat-dispensing-pharmacist-endorsed.json")
	tests := []struct {
		name     string
		body     func(t *testing.T) []byte
		wantPath string
		wantMsg  string
	}{
		{"not JSON", func(*testing.T) []byte { return []byte("{not json") }, "Bundle", "invalid character"},
		{"not a Bundle", func(*testing.T) []byte { return []byte(`{"resourceType":"Patient"}`) }, "Bundle", "want Bundle"},
		{"no MedicationRequest", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) { dropType(b, "MedicationRequest") })
		}, "Bundle.entry", "no MedicationRequest"},
		{"differing groupIdentifier", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 3)["groupIdentifier"].(map[string]any)["value"] = "A0548B-A99968-451485"
			})
		}, "Bundle.entry[3].resource.groupIdentifier.value", "all line items must belong to one prescription"},
		{"short-form id not hexadecimal", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "MedicationRequest", func(r map[string]any) {
					r["groupIdentifier"].(map[string]any)["value"] = "3F7A2X-FA565A-0001A+"
				})
			})
		}, "Bundle.entry[1].resource.groupIdentifier.value", "upper-case hexadecimal"},
		{"unknown medication code system", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 2)["medicationCodeableConcept"] = map[string]any{"coding": []any{map[string]any{"system": "http://example.org/drugs", "code": "X1"}}}
			})
		}, "Bundle.entry[2].resource.medicationCodeableConcept.coding", "unknown code system"},
		{"no Patient", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) { dropType(b, "Patient") })
		}, "Bundle.entry", "no Patient"},
		{"Patient without NHS number", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Patient", func(r map[string]any) { delete(r, "identifier") })
			})
		}, "Bundle.entry[4].resource.identifier", "missing mandatory identifier"},
		{"Organization without ODS code", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Organization", func(r map[string]any) { delete(r, "identifier") })
			})
		}, "Bundle.entry[7].resource.identifier", "missing mandatory identifier with system https://fhir.nhs.uk/Id/ods-organization-code"},
		{"Organization with two ODS codes", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Organization", func(r map[string]any) {
					ids := r["identifier"].([]any)
					r["identifier"] = append(ids, ids[0])
				})
			})
		}, "Bundle.entry[7].resource.identifier", "more than one identifier with system https://fhir.nhs.uk/Id/ods-organization-code"},
		{"Organization with two types", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Organization", func(r map[string]any) {
					concept := map[string]any{"coding": []any{map[string]any{"system": core.CodeSystemV3OrganizationType, "code": "RO197"}}}
					r["type"] = []any{concept, concept}
				})
			})
		}, "Bundle.entry[7].resource.type", "more than one coding with system"},
		{"no Bundle identifier", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) { delete(b, "identifier") })
		}, "Bundle.identifier", "missing mandatory identifier"},
		{"wrong message event", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 0)["eventCoding"].(map[string]any)["code"] = "dispense-notification"
			})
		}, "Bundle.entry[0].resource.eventCoding.code", "want prescription-order"},
		{"signature that is not XML", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Provenance", func(r map[string]any) {
					r["signature"].([]any)[0].(map[string]any)["data"] = "bm90IHhtbA=="
				})
			})
		}, "Bundle.entry[10].resource.signature[0].data", "invalid signature format"},
		{"signature time that is no time", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Provenance", func(r map[string]any) {
					r["signature"].([]any)[0].(map[string]any)["when"] = "yesterday"
				})
			})
		}, "Bundle.entry[10].resource.signature[0].when", ""},
		{"two signatures by the requester", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Provenance", func(r map[string]any) {
					sigs := r["signature"].([]any)
					r["signature"] = append(sigs, sigs[0])
				})
			})
		}, "Bundle.entry[10].resource.signature[1]", "more than one Provenance signature"},
		{"repeat dispensing without repeats allowed", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				delete(resourceAt(b, 1)["dispenseRequest"].(map[string]any), "numberOfRepeatsAllowed")
			})
		}, "Bundle.entry[1].resource.dispenseRequest.numberOfRepeatsAllowed", "required for repeat dispensing"},
		{"no dispensing site preference", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				delete(resourceAt(b, 1)["dispenseRequest"].(map[string]any), "extension")
			})
		}, "Bundle.entry[1].resource.dispenseRequest.extension", "Extension-DM-PerformerSiteType"},
		{"mixed course of therapy", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 2)["courseOfTherapyType"] = map[string]any{"coding": []any{map[string]any{"code": "acute"}}}
			})
		}, "Bundle.entry[1].resource.courseOfTherapyType.coding", "course of therapy must match"},
		// The group identifiers' long-form ids: gatherOrder makes the
		// path only for a problem (groupLongFormID).
		{"no long-form id", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				delete(resourceAt(b, 1)["groupIdentifier"].(map[string]any), "extension")
			})
		}, "Bundle.entry[1].resource.groupIdentifier.extension", "missing mandatory extension " + fhir.ExtensionPrescriptionID},
		{"empty long-form id", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				gi := resourceAt(b, 1)["groupIdentifier"].(map[string]any)
				gi["extension"].([]any)[0].(map[string]any)["valueIdentifier"].(map[string]any)["value"] = ""
			})
		}, "Bundle.entry[1].resource.groupIdentifier.extension", "missing mandatory extension " + fhir.ExtensionPrescriptionID},
		{"two long-form ids", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				gi := resourceAt(b, 1)["groupIdentifier"].(map[string]any)
				gi["extension"] = append(gi["extension"].([]any), gi["extension"].([]any)[0])
			})
		}, "Bundle.entry[1].resource.groupIdentifier.extension", "more than one extension " + fhir.ExtensionPrescriptionID},
		{"second item without long-form id", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				delete(resourceAt(b, 2)["groupIdentifier"].(map[string]any), "extension")
			})
		}, "Bundle.entry[2].resource.groupIdentifier.extension", "missing mandatory extension " + fhir.ExtensionPrescriptionID},
		{"second item of another long-form id", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				gi := resourceAt(b, 2)["groupIdentifier"].(map[string]any)
				gi["extension"] = []any{map[string]any{"url": fhir.ExtensionPrescriptionID,
					"valueIdentifier": map[string]any{"system": fhir.SystemLongFormID, "value": "00000000-0000-4000-8000-000000000000"}}}
			})
		}, "Bundle.entry[2].resource.groupIdentifier.extension", "long-form prescription id differs"},
		{"second item of another short-form id", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 2)["groupIdentifier"].(map[string]any)["value"] = "A0548B-A99968-451485"
			})
		}, "Bundle.entry[2].resource.groupIdentifier.value", "short-form prescription id"},
		{"second item without group identifier", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) { delete(resourceAt(b, 2), "groupIdentifier") })
		}, "Bundle.entry[2].resource.groupIdentifier", "missing mandatory groupIdentifier"},
		{"requester that does not resolve", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				resourceAt(b, 1)["requester"] = map[string]any{"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
			})
		}, "Bundle.entry[1].resource.requester.reference", "does not resolve"},
		{"no dosage instruction", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) { delete(resourceAt(b, 3), "dosageInstruction") })
		}, "Bundle.entry[3].resource.dosageInstruction", "missing mandatory"},
		{"no professional code", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Practitioner", func(r map[string]any) { r["identifier"] = []any{} })
			})
		}, "Bundle.entry[6].resource.identifier", "expected exactly one professional code"},
		// The EPS API refuses it (organization.ts, onlyElement over
		// Organization.telecom: TOO_MANY_VALUES_SUBMITTED), and the v3
		// representedOrganization holds one telecom; before, every one
		// was written.
		{"organisation with two telecoms", func(t *testing.T) []byte {
			return editBundle(t, base, func(b map[string]any) {
				eachOfType(b, "Organization", func(r map[string]any) {
					r["telecom"] = append(r["telecom"].([]any), map[string]any{"system": "phone", "value": "0113 496 0998", "use": "work"})
				})
			})
		}, "Bundle.entry[7].resource.telecom", "more than one telecom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := PrescribeToV3(tt.body(t), core.Meta{}, core.FixedEnv())
			if err == nil {
				t.Fatalf("no error; got %d bytes of v3", len(out))
			}
			if out != nil {
				t.Errorf("half-made message returned with the error")
			}
			var fe *core.FHIRError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want *FHIRError", err, err)
			}
			if fe.Interaction != v3.ParentPrescription || fe.Path != tt.wantPath || !strings.Contains(fe.Msg, tt.wantMsg) {
				t.Errorf("error %q\nwant interaction %s, path %s, message containing %q", err, v3.ParentPrescription, tt.wantPath, tt.wantMsg)
			}
		})
	}
}

// TestPrescribeToFHIRBadInput checks that a ParentPrescription that cannot
// become a FHIR Bundle gives an error naming the interaction and the v3
// element path.
func TestPrescribeToFHIRBadInput(t *testing.T) {
	good, err := PrescribeToV3(fixture(t, "repeat-dispensing-pharmacist-endorsed.json"), core.Meta{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	const pp = "/PORX_IN020101UK31/ControlActEvent/subject/ParentPrescription"
	const rx = pp + "/pertinentInformation1/pertinentPrescription"
	replace := func(old, new string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			t.Helper()
			if !strings.Contains(string(good), old) {
				t.Fatalf("test message has no %q", old)
			}
			return []byte(strings.Replace(string(good), old, new, 1))
		}
	}
	cut := func(re string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			t.Helper()
			r := regexp.MustCompile(re)
			if !r.Match(good) {
				t.Fatalf("test message has no match for %s", re)
			}
			loc := r.FindIndex(good)
			return append(append([]byte(nil), good[:loc[0]]...), good[loc[1]:]...)
		}
	}
	tests := []struct {
		name       string
		msg        func(t *testing.T) []byte
		wantInter  string
		wantPath   string
		wantSubstr string
	}{
		{"not XML", func(*testing.T) []byte { return []byte("<PORX_IN020101UK31") }, "", "/", "not well-formed"},
		{"wrong namespace", replace(`xmlns="urn:hl7-org:v3"`, `xmlns="urn:example"`), "PORX_IN020101UK31", "/PORX_IN020101UK31", "namespace"},
		{"another interaction", func(*testing.T) []byte {
			return []byte(`<PORX_IN080101UK31 xmlns="urn:hl7-org:v3"/>`)
		}, "PORX_IN080101UK31", "/PORX_IN080101UK31", "not a Parent Prescription"},
		{"missing recordTarget", cut(`(?s)<recordTarget .*?</recordTarget>`), "PORX_IN020101UK31", pp + "/recordTarget", "missing mandatory element"},
		{"missing ControlActEvent", cut(`(?s)<ControlActEvent .*</ControlActEvent>`), "PORX_IN020101UK31", "/PORX_IN020101UK31/ControlActEvent", "missing mandatory element"},
		{"short-form id not hexadecimal", replace(`extension="3F7A21-FA565A-0001A+"`, `extension="3F7A2X-FA565A-0001A+"`),
			"PORX_IN020101UK31", rx + "/id[2]/@extension", "upper-case hexadecimal"},
		{"unknown medication code system", replace(`<code code="39113611000001102" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"`, `<code code="39113611000001102" codeSystem="1.2.3.4"`),
			"PORX_IN020101UK31", rx + "/pertinentInformation2[1]/pertinentLineItem/product/manufacturedProduct/manufacturedRequestedMaterial/code", "unknown code system"},
		{"unknown gender code system", replace(`codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25"`, `codeSystem="2.16.840.1.113883.5.1"`),
			"PORX_IN020101UK31", pp + "/recordTarget/Patient/patientPerson/administrativeGenderCode", "unknown code system"},
		{"care record refers to fewer items", cut(`(?s)<component typeCode="COMP">\s*<actRef .*?</component>`), "PORX_IN020101UK31",
			pp + "/pertinentInformation2/pertinentCareRecordElementCategory", "refers to 2 line items, the prescription has 3"},
		{"care record refers to another item", replace(`<actRef classCode="SBADM" moodCode="RQO">
                <id root="0E1F2A3B`, `<actRef classCode="SBADM" moodCode="RQO">
                <id root="FFFFFFFF`), "PORX_IN020101UK31",
			pp + "/pertinentInformation2/pertinentCareRecordElementCategory/component[1]/actRef/id", "does not match line item 1"},
		{"author time not a timestamp", replace(`<time value="20240301091542"/>`, `<time value="2024-03-01"/>`), "PORX_IN020101UK31",
			rx + "/author/time", "not a v3 timestamp"},
		{"quantity not a number", replace(`displayName="dose" value="200"`, `displayName="dose" value="two hundred"`), "PORX_IN020101UK31",
			rx + "/pertinentInformation2[1]/pertinentLineItem/component/lineItemQuantity/quantity/translation", "not a decimal"},
		{"unknown treatment type", replace(`<value code="0003" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.36"/>`, `<value code="0009" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.36"/>`),
			"PORX_IN020101UK31", rx + "/pertinentInformation5/pertinentPrescriptionTreatmentType/value", "unhandled prescription treatment type"},
		{"missing line item id", replace(`<id root="0E1F2A3B-4C5D-4E6F-8A9B-0C1D2E3F4A51"/>
                <code`, `<code`), "PORX_IN020101UK31", rx + "/pertinentInformation2[1]/pertinentLineItem/id", "missing mandatory element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := PrescribeToFHIR(tt.msg(t), core.FixedEnv())
			if err == nil {
				t.Fatalf("no error; got FHIR %s", body)
			}
			if body != nil {
				t.Errorf("half-made FHIR returned with the error")
			}
			var ve *v3.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *v3.Error", err, err)
			}
			if ve.Interaction != tt.wantInter || ve.Path != tt.wantPath || !strings.Contains(ve.Msg, tt.wantSubstr) {
				t.Errorf("error %q\nwant interaction %q, path %s, message containing %q", err, tt.wantInter, tt.wantPath, tt.wantSubstr)
			}
		})
	}
}
