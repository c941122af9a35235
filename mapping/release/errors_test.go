package release_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// relCase is one malformed message: base with old replaced by new (new
// alone when old is empty), and the texts the error must contain (the
// interaction and the element path).
type relCase struct {
	name, old, new string
	want           []string
}

// relRename is a relCase that renames the first element named tag (start
// and end tag) to tag+"X".
func relRename(name, tag string, want []string) relCase {
	return relCase{name: name, old: "\x00" + tag, want: want}
}

func relMutate(t *testing.T, base string, tc relCase) []byte {
	t.Helper()
	if tc.old == "" {
		return []byte(tc.new)
	}
	if tag, ok := strings.CutPrefix(tc.old, "\x00"); ok {
		i := strings.Index(base, "<"+tag+" ")
		if j := strings.Index(base, "<"+tag+">"); i < 0 || (j >= 0 && j < i) {
			i = j
		}
		if i < 0 {
			t.Fatalf("base lacks <%s>", tag)
		}
		end := strings.Index(base[i:], "</"+tag+">")
		if end < 0 {
			t.Fatalf("base lacks </%s>", tag)
		}
		end += i
		return []byte(base[:i] + "<" + tag + "X" + base[i+1+len(tag):end] + "</" + tag + "X>" + base[end+len(tag)+3:])
	}
	if !strings.Contains(base, tc.old) {
		t.Fatalf("base lacks %q", tc.old)
	}
	return []byte(strings.Replace(base, tc.old, tc.new, 1))
}

func relWantError(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// patientRequestFixture is the nominated request fixture made a patient one.
func patientRequestFixture(t *testing.T) string {
	t.Helper()
	s := string(maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml"))
	s = strings.ReplaceAll(s, "PORX_IN060102UK30", "PORX_IN132004UK30")
	s = strings.ReplaceAll(s, "NominatedPrescriptionReleaseRequest", "PatientPrescriptionReleaseRequest")
	return strings.Replace(s, "        </author>\n      </PatientPrescriptionReleaseRequest>", `        </author>
        <pertinentInformation contextConductionInd="true" typeCode="PERT">
          <seperatableInd value="false"/>
          <pertinentPrescriptionID classCode="OBS" moodCode="EVN">
            <code code="PID" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>
            <value root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="A0548B-A99968-451485"/>
          </pertinentPrescriptionID>
        </pertinentInformation>
      </PatientPrescriptionReleaseRequest>`, 1)
}

func TestReleaseRequestV3Malformed(t *testing.T) {
	const nom = "/PORX_IN060102UK30/ControlActEvent/subject/NominatedPrescriptionReleaseRequest"
	const pat = "/PORX_IN132004UK30/ControlActEvent/subject/PatientPrescriptionReleaseRequest"
	nominated := string(maptest.Testdata(t, "release/"+"nominated-release-request-060102.xml"))
	patient := patientRequestFixture(t)
	if _, _, err := release.ReleaseRequestToFHIR([]byte(patient), relEnv()); err != nil {
		t.Fatalf("the patient request base does not read: %v", err)
	}
	tests := []struct {
		base string
		relCase
	}{
		{nominated, relCase{"not xml", "", "<PORX_IN060102UK30", []string{"not well-formed"}}},
		{nominated, relCase{"not a release request", "", `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`, []string{"PORX_IN020101UK31", "not a release request"}}},
		{nominated, relRename("no author", "AgentPerson", []string{"PORX_IN060102UK30", nom + "/author/AgentPerson", "missing"})},
		{nominated, relCase{"bad time", `<effectiveTime value="20240612101455"/>`, `<effectiveTime value="2024-06-12"/>`, []string{nom + "/effectiveTime", "not a v3 timestamp"}}},
		{nominated, relCase{"request id not a UUID", `<id root="5D2E8F41-6A3B-4C9D-8E7F-1A2B3C4D5E6F"/>`, `<id root="1.2.3"/>`, []string{nom + "/id", "not a UUID"}}},
		{nominated, relCase{"owner ODS root", `<id root="1.2.826.0.1285.0.1.10" extension="FQ202"/>`, `<id root="1.2.3" extension="FQ202"/>`, []string{nom + "/author/AgentPerson/representedOrganization/id", "unknown identifier root"}}},
		{nominated, relCase{"job role system", `<code code="R8003" codeSystem="1.2.826.0.1285.0.2.1.104"/>`, `<code code="R8003" codeSystem="9.9"/>`, []string{nom + "/author/AgentPerson/code", "unknown code system"}}},
		{nominated, relCase{"stray payload", "<subject>\n", "<subject>\n<Stray/>\n", []string{"/PORX_IN060102UK30/ControlActEvent/subject/Stray", "unexpected element"}}},
		{patient, relCase{"short-form id not hexadecimal", `extension="A0548B-A99968-451485"`, `extension="A0548X-A99968-451485"`, []string{"PORX_IN132004UK30", pat + "/pertinentInformation/pertinentPrescriptionID/value/@extension"}}},
		{patient, relCase{"not a short-form id", `extension="A0548B-A99968-451485"`, `extension="nonsense"`, []string{pat + "/pertinentInformation/pertinentPrescriptionID/value/@extension"}}},
		{patient, relCase{"PID code", `<code code="PID"`, `<code code="XYZ"`, []string{pat + "/pertinentInformation/pertinentPrescriptionID/code", "unexpected code"}}},
		{patient, relRename("no prescription id", "pertinentPrescriptionID", []string{pat + "/pertinentInformation/pertinentPrescriptionID", "missing"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := release.ReleaseRequestToFHIR(relMutate(t, tc.base, tc.relCase), relEnv())
			relWantError(t, err, tc.want)
		})
	}
}

func TestReleaseResponseV3Malformed(t *testing.T) {
	const prr = "/PORX_IN070103UK31/ControlActEvent/subject/PrescriptionReleaseResponse"
	const rx = prr + "/component/ParentPrescription/pertinentInformation1/pertinentPrescription"
	base := string(maptest.Testdata(t, "release/"+"patient-release-response-070103.xml"))
	for _, tc := range []relCase{
		{"not xml", "", "<", []string{"not well-formed"}},
		{"not a response", "", `<PORX_IN110101UK30 xmlns="urn:hl7-org:v3"/>`, []string{"not a release response"}},
		relRename("no acknowledgement", "acknowledgement", []string{"/PORX_IN070103UK31/acknowledgement", "missing"}),
		{"no response id", `<id root="3E1C5B8A-9D2F-4A61-B7E0-5C4D3B2A1F09"/>
        <effectiveTime`, `<effectiveTime`, []string{prr + "/id", "missing"}},
		{"bad response time", `<effectiveTime value="20240612101500"/>
        <component`, `<effectiveTime value="soon"/>
        <component`, []string{"PORX_IN070103UK31", prr}},
		relRename("no ParentPrescription", "ParentPrescription", []string{prr + "/component/ParentPrescription", "missing"}),
		{"template root", `<templateId root="2.16.840.1.113883.2.1.3.2.4.17.120"`, `<templateId root="9.9"`, []string{prr + "/component/templateId", "unknown template root"}},
		{"item status system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.23" displayName="Item with dispenser"`, `codeSystem="9.9" displayName="Item with dispenser"`, []string{rx + "/pertinentInformation2[1]/pertinentLineItem/pertinentInformation4/pertinentItemStatus/value", "unknown code system"}},
		{"prescription status system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.16.35"`, `codeSystem="9.9"`, []string{rx + "/pertinentInformation10/pertinentPrescriptionStatus/value"}},
		relRename("line item quantity", "quantity", []string{rx + "/pertinentInformation2[1]/pertinentLineItem/component/lineItemQuantity/quantity", "missing"}),
		relRename("no request reference", "priorDownloadRequestRef", []string{prr + "/inFulfillmentOf/priorDownloadRequestRef", "missing"}),
		{"stray element", "<inFulfillmentOf ", "<Stray/><inFulfillmentOf ", []string{prr + "/Stray", "unexpected element"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := release.ReleaseResponseToFHIR(relMutate(t, base, tc), relEnv())
			relWantError(t, err, tc.want)
		})
	}
}

func TestReleaseRejectionV3Malformed(t *testing.T) {
	const rr = "/PORX_IN110101UK30/ControlActEvent/subject/PrescriptionReleaseReject/pertinentInformation/pertinentRejectionReason"
	base := string(maptest.Testdata(t, "release/"+"release-rejection-110101-with-another-dispenser.xml"))
	for _, tc := range []relCase{
		{"not a rejection", "", `<PORX_IN070101UK31 xmlns="urn:hl7-org:v3"/>`, []string{"not a prescription release rejection"}},
		{"reason code", `<code code="PRRR"`, `<code code="XXXX"`, []string{rr + "/code", "unexpected code"}},
		{"stray reason element", `<value code="0004"`, `<valueX code="0004"`, []string{rr + "/valueX", "unexpected element"}},
		{"reason without code", `<value code="0004"`, `<value`, []string{rr + "/value/@code", "missing"}},
		{"performer org id", `<id root="1.2.826.0.1285.0.1.10" extension="FA565"/>`, `<id root="7.7" extension="FA565"/>`, []string{rr + "/performer/AgentPerson/representedOrganization/id"}},
		relRename("no reversal", "reversalOf", []string{"/PORX_IN110101UK30/ControlActEvent/subject/PrescriptionReleaseReject/reversalOfX", "unexpected"}),
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := release.ReleaseRejectionToFHIR(relMutate(t, base, tc), relEnv())
			relWantError(t, err, tc.want)
		})
	}
}

// relJSON edits a FHIR body through f.
func relJSON(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// param returns the parameter with a name of a decoded Parameters.
func param(m map[string]any, name string) map[string]any {
	for _, p := range m["parameter"].([]any) {
		if pm := p.(map[string]any); pm["name"] == name {
			return pm
		}
	}
	return nil
}

func TestReleaseRequestFHIRMalformed(t *testing.T) {
	good, meta, err := release.ReleaseRequestToFHIR([]byte(patientRequestFixture(t)), relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := release.ReleaseRequestToV3(good, meta, relEnv()); err != nil {
		t.Fatalf("the base does not write: %v", err)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want []string
	}{
		{"not Parameters", func(m map[string]any) { m["resourceType"] = "Bundle" }, []string{"want Parameters"}},
		{"no owner", func(m map[string]any) {
			var keep []any
			for _, p := range m["parameter"].([]any) {
				if p.(map[string]any)["name"] != "owner" {
					keep = append(keep, p)
				}
			}
			m["parameter"] = keep
		}, []string{"PORX_IN132004UK30", "Parameters.parameter", "missing mandatory owner"}},
		{"owner not an Organization", func(m map[string]any) {
			param(m, "owner")["resource"] = map[string]any{"resourceType": "Patient"}
		}, []string{"Parameters.parameter[1].resource", "want Organization"}},
		{"owner without ODS code", func(m map[string]any) {
			delete(param(m, "owner")["resource"].(map[string]any), "identifier")
		}, []string{"Parameters.parameter[1].resource.identifier", "ODS"}},
		{"group identifier system", func(m map[string]any) {
			param(m, "group-identifier")["valueIdentifier"].(map[string]any)["system"] = "urn:x"
		}, []string{"Parameters.parameter[0].valueIdentifier.system"}},
		{"short-form id not hexadecimal", func(m map[string]any) {
			param(m, "group-identifier")["valueIdentifier"].(map[string]any)["value"] = "A0548X-A99968-451485"
		}, []string{"Parameters.parameter[0].valueIdentifier.value"}},
		{"status not accepted", func(m map[string]any) { param(m, "status")["valueCode"] = "rejected" }, []string{"Parameters.parameter[2].valueCode", "want accepted"}},
		{"unexpected parameter", func(m map[string]any) {
			m["parameter"] = append(m["parameter"].([]any), map[string]any{"name": "colour", "valueString": "blue"})
		}, []string{"Parameters.parameter[4].name", "unexpected parameter"}},
		{"two owners", func(m map[string]any) {
			m["parameter"] = append(m["parameter"].([]any), param(m, "owner"))
		}, []string{"Parameters.parameter[4]", "more than one owner"}},
		{"agent job role system", func(m map[string]any) {
			role := param(m, "agent")["resource"].(map[string]any)
			role["code"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)["system"] = "urn:x"
		}, []string{"Parameters.parameter[3].resource.code", "no job role code"}},
		{"agent practitioner unresolved", func(m map[string]any) {
			role := param(m, "agent")["resource"].(map[string]any)
			role["practitioner"] = map[string]any{"reference": "#nobody"}
		}, []string{"Parameters.parameter[3].resource.practitioner.reference", "does not resolve"}},
		{"bad lastUpdated", func(m map[string]any) { m["meta"] = map[string]any{"lastUpdated": "yesterday"} }, []string{"Parameters.meta.lastUpdated"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.ReleaseRequestToV3(relJSON(t, good, tc.edit), meta, relEnv())
			relWantError(t, err, tc.want)
		})
	}
	t.Run("nominated without agent", func(t *testing.T) {
		body := relJSON(t, good, func(m map[string]any) {
			var keep []any
			for _, p := range m["parameter"].([]any) {
				if n := p.(map[string]any)["name"]; n != "agent" && n != "group-identifier" {
					keep = append(keep, p)
				}
			}
			m["parameter"] = keep
		})
		_, err := release.ReleaseRequestToV3(body, core.Meta{}, relEnv())
		relWantError(t, err, []string{"PORX_IN060102UK30", "agent"})
	})
}

func TestReleaseResponseFHIRMalformed(t *testing.T) {
	good, meta, err := release.ReleaseResponseToFHIR(maptest.Testdata(t, "release/"+"patient-release-response-070103.xml"), relEnv())
	if err != nil {
		t.Fatal(err)
	}
	inner := func(m map[string]any) map[string]any {
		return param(m, "passedPrescriptions")["resource"].(map[string]any)["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	}
	entryOf := func(b map[string]any, rt string) map[string]any {
		for _, e := range b["entry"].([]any) {
			if r := e.(map[string]any)["resource"].(map[string]any); r["resourceType"] == rt {
				return r
			}
		}
		return nil
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want []string
	}{
		{"no passed prescriptions", func(m map[string]any) { param(m, "passedPrescriptions")["name"] = "prescriptions" },
			[]string{"PORX_IN070103UK31", "Parameters.parameter[0].name", "unexpected parameter"}},
		{"passed not a Bundle", func(m map[string]any) {
			param(m, "passedPrescriptions")["resource"] = map[string]any{"resourceType": "OperationOutcome", "issue": []any{}}
		}, []string{"Parameters.parameter[0].resource", "searchset Bundle"}},
		{"outcome among the passed", func(m map[string]any) {
			b := param(m, "passedPrescriptions")["resource"].(map[string]any)
			b["entry"] = append(b["entry"].([]any), map[string]any{"resource": map[string]any{"resourceType": "OperationOutcome", "issue": []any{}}})
		}, []string{"Parameters.parameter[0].resource.entry[1].resource", "OperationOutcome"}},
		{"bad lastUpdated", func(m map[string]any) {
			param(m, "passedPrescriptions")["resource"].(map[string]any)["meta"] = map[string]any{"lastUpdated": "then"}
		}, []string{"Parameters.parameter[0].resource.meta.lastUpdated"}},
		{"prescription without items", func(m map[string]any) {
			b := inner(m)
			var keep []any
			for _, e := range b["entry"].([]any) {
				if e.(map[string]any)["resource"].(map[string]any)["resourceType"] != "MedicationRequest" {
					keep = append(keep, e)
				}
			}
			b["entry"] = keep
		}, []string{"Parameters.parameter[0].resource.entry[0].resource.entry", "no MedicationRequest"}},
		{"prescription status system", func(m map[string]any) {
			mr := entryOf(inner(m), "MedicationRequest")
			for _, x := range mr["extension"].([]any) {
				if xm := x.(map[string]any); xm["url"] == core.ExtensionTaskBusinessStatus {
					xm["valueCoding"].(map[string]any)["system"] = "urn:x"
				}
			}
		}, []string{"Parameters.parameter[0].resource.entry[0].resource.entry[1].resource.extension.valueCoding.system"}},
		{"dispense status without code", func(m map[string]any) {
			mr := entryOf(inner(m), "MedicationRequest")
			for _, x := range mr["extension"].([]any) {
				if xm := x.(map[string]any); xm["url"] == core.ExtensionDispensingInformation {
					xm["extension"].([]any)[0].(map[string]any)["valueCoding"] = map[string]any{}
				}
			}
		}, []string{"Parameters.parameter[0].resource.entry[0].resource.entry[1].resource.extension.extension", "dispenseStatus"}},
		{"signature not base64", func(m map[string]any) {
			prov := entryOf(inner(m), "Provenance")
			prov["signature"].([]any)[0].(map[string]any)["data"] = "%%%"
		}, []string{"Parameters.parameter[0].resource.entry[0].resource.entry[", ".signature[0].data", "base64"}},
		{"head batch info", func(m map[string]any) {
			p := param(m, release.ParamReleaseResponse)
			p["part"] = append(p["part"].([]any), map[string]any{"name": "batchInfo", "part": []any{map[string]any{"name": "code", "valueCode": "1"}}})
		}, []string{"Parameters.parameter[2].part[2]", "batchInfo needs a code and a value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.ReleaseResponseToV3(relJSON(t, good, tc.edit), meta, relEnv())
			relWantError(t, err, tc.want)
		})
	}
}

func TestReleaseRejectionFHIRMalformed(t *testing.T) {
	good, meta, err := release.ReleaseRejectionToFHIR(maptest.Testdata(t, "release/"+"release-rejection-110101-with-another-dispenser.xml"), relEnv())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want []string
	}{
		{"not an outcome", func(m map[string]any) { m["resourceType"] = "Parameters" }, []string{"PORX_IN110101UK30", "want OperationOutcome"}},
		{"holding organisation unresolved", func(m map[string]any) {
			for _, x := range m["extension"].([]any) {
				if xm := x.(map[string]any); xm["url"] == core.ExtensionSpineSupportingInfo {
					xm["valueReference"] = map[string]any{"reference": "#nowhere"}
				}
			}
		}, []string{"OperationOutcome.extension.valueReference.reference", "does not resolve"}},
		{"holding organisation without ODS", func(m map[string]any) {
			delete(m["contained"].([]any)[0].(map[string]any), "identifier")
		}, []string{"OperationOutcome.contained[0].identifier"}},
		{"bad acknowledgement", func(m map[string]any) {
			for _, x := range m["extension"].([]any) {
				if xm := x.(map[string]any); xm["url"] == release.ExtensionReleaseRejection {
					xm["extension"] = append(xm["extension"].([]any), map[string]any{"url": "acknowledgement", "valueCode": "OK"})
				}
			}
		}, []string{"OperationOutcome.extension.extension[3].valueCode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.ReleaseRejectionToV3(relJSON(t, good, tc.edit), meta, relEnv())
			relWantError(t, err, tc.want)
		})
	}
}
