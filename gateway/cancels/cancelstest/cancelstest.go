// Package cancelstest makes the legacy messages and EPS tracker answers
// that the tests of pending cancellations (package cancels and the
// gateway's flow tests) run on: one fixture prescription with one line
// item, its cancel request, a return and a not-dispensed notification of
// it, from the project's testdata.
package cancelstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/cancel"
	v3 "github.com/porxgate/porxgate/v3"
)

// The fixture prescription.
const (
	// RxFixture is the FHIR prescription (testdata/prescribe) the flow
	// starts from; its prescription id, line item and nominated pharmacy
	// follow.
	RxFixture  = "acute-nurse-controlled-drug-unsigned.json"
	RxID       = "C1D2E3-A99968-00A1BM"
	RxLineItem = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C01"
	RxPharmacy = "FCG71"
)

// extDispensingInformation carries a line item's dispense status in an
// EPS tracker Task input.
const extDispensingInformation = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation"

// Testdata reads a file of the project's testdata folder.
func Testdata(t testing.TB, rel string) []byte {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cancelstest: cannot tell where the testdata folder is")
	}
	// file is <repo>/gateway/cancels/cancelstest/cancelstest.go
	repo := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(file))))
	b, err := os.ReadFile(filepath.Join(repo, "testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// LegacyCancel makes a Cancel Request of interaction family fam for the
// only line item of the prescription in fixture (testdata/prescribe), as a
// legacy prescribing system would send it: the fixture Bundle turned into
// a prescription-order-update and mapped with mapping.CancelToV3.
func LegacyCancel(t testing.TB, fixture string, fam v3.Family) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(Testdata(t, "prescribe/"+fixture), &b); err != nil {
		t.Fatal(err)
	}
	b["identifier"] = map[string]any{"system": "https://tools.ietf.org/html/rfc4122", "value": ids.NewUUID()}
	loadgen.CancelUpdate(b)
	update, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := cancel.CancelToV3(update, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: fam})
	if err != nil {
		t.Fatalf("making the legacy cancel request: %v", err)
	}
	return payload
}

// LegacyReturn makes a Dispense Proposal Return of prescriptionID from
// pharmacy FCG71 (the project's return fixture with the id replaced),
// reversing a release response (reversalOf), without which EPS cannot
// take a return.
func LegacyReturn(t testing.TB, prescriptionID string) []byte {
	t.Helper()
	s := strings.Replace(string(Testdata(t, "return/return-no-reversal.xml")), "7D4A21-0FH542-C1B00X", prescriptionID, 1)
	s = strings.Replace(s, "F2000000-0000-4000-8000-000000000002", strings.ToUpper(ids.NewUUID()), 1)
	s = strings.Replace(s, "</DispenseProposalReturn>", `  <reversalOf inversionInd="true" negationInd="false" typeCode="REV">
          <seperatableInd value="true" />
          <priorPrescriptionReleaseResponseRef classCode="INFO" moodCode="EVN">
            <id root="`+strings.ToUpper(ids.NewUUID())+`" />
          </priorPrescriptionReleaseResponseRef>
        </reversalOf>
      </DispenseProposalReturn>`, 1)
	return []byte(s)
}

// LegacyNotDispensed makes a Dispense Notification from pharmacy FCG71
// saying the fixture prescription's item was not dispensed (the project's
// dn-not-dispensed fixture, LegacyDispense).
func LegacyNotDispensed(t testing.TB) []byte {
	t.Helper()
	return LegacyDispense(t, "dn-not-dispensed.xml")
}

// dispenseMessageID is the transmission id of the project's one-item
// dispense notification fixtures (testdata/dispense/dn-*.xml): ids
// F0000000-0000-4000-8000-0000000000NN.
var dispenseMessageID = regexp.MustCompile(`F0000000-0000-4000-8000-0000000000[0-9A-F]{2}`)

// LegacyDispense makes a Dispense Notification from pharmacy FCG71 of the
// fixture prescription's item: the project's one-item fixture
// testdata/dispense/<fixture> (dn-not-dispensed.xml, dn-partial-first.xml,
// dn-partial-second.xml) with the prescription and item ids replaced and a
// fresh transmission id.
func LegacyDispense(t testing.TB, fixture string) []byte {
	t.Helper()
	s := strings.ReplaceAll(string(Testdata(t, "dispense/"+fixture)), "7D4A21-0FH542-C1B00X", RxID)
	s = strings.ReplaceAll(s, "6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E11", RxLineItem)
	s = dispenseMessageID.ReplaceAllString(s, strings.ToUpper(ids.NewUUID()))
	return []byte(s)
}

// TrackerTask writes one tracker Task as the EPS tracker (and the
// simulator) answers it: prescription pid with business status status,
// owner (ODS, "" for none) and each line item's dispense status ("" for
// none).
func TrackerTask(pid, status, owner, lastModified string, items map[string]string) map[string]any {
	var inputs []any
	for id, st := range items {
		in := map[string]any{
			"type":           map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "16076005"}}},
			"valueReference": map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/prescription-order-item-number", "value": id}},
		}
		if st != "" {
			in["extension"] = []any{map[string]any{"url": extDispensingInformation, "extension": []any{
				map[string]any{"url": "dispenseStatus", "valueCoding": map[string]any{"system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-type", "code": st}},
			}}}
		}
		inputs = append(inputs, in)
	}
	t := map[string]any{
		"resourceType":   "Task",
		"id":             "t-" + pid,
		"status":         "in-progress",
		"intent":         "order",
		"businessStatus": map[string]any{"coding": []any{map[string]any{"system": "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status", "code": status}}},
		"focus":          map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/prescription-order-number", "value": pid}},
		"lastModified":   lastModified,
		"input":          inputs,
	}
	if owner != "" {
		t["owner"] = map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": owner}}
	}
	return t
}

// Searchset wraps resources in a searchset Bundle.
func Searchset(t testing.TB, resources ...map[string]any) []byte {
	t.Helper()
	var entries []any
	for _, r := range resources {
		entries = append(entries, map[string]any{"fullUrl": "urn:uuid:" + r["id"].(string), "resource": r})
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "entry": entries})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
