package ack

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
	v3 "github.com/porxgate/porxgate/v3"
)

// corpusOutcomeCase is what porxgate must make of one corpus OperationOutcome.
type corpusOutcomeCase struct {
	family core.ErrorFamily
	status int
	// want is the v3 codes; nil means a success (AA).
	want []core.SpineCode
}

// corpusOutcomes lists every corpus file under examples/spec/errors and
// examples/errors that is an OperationOutcome, with the v3 answer expected.
// The family is the one of the request the outcome answers (its folder or
// file name); the tracker's Task query answers as the dispensing family.
func corpusOutcomes() map[string]corpusOutcomeCase {
	const (
		p    = v3.OIDPrescribeErrorCode
		d    = v3.OIDDispenseErrorCode
		c    = v3.OIDCancellationCode
		unab = "Unable to process message. Information missing or invalid - "
	)
	return map[string]corpusOutcomeCase{
		"examples/spec/errors/operation-outcome-success.json": {core.ErrorFamilyPrescribe, 200, nil},
		"examples/spec/errors/example-a-validation-error-missing-field/Response-FhirError.json": {core.ErrorFamilyPrescribe, 400,
			[]core.SpineCode{{System: p, Code: "9999", Display: unab + "ResourceType Bundle must contain 'entry' field", Severity: "ER"}}},
		"examples/spec/errors/prescription-order-update/R-0008-Cancellation.json": {core.ErrorFamilyCancel, 400,
			[]core.SpineCode{{System: c, Code: "0008", Display: "Prescription/item not found", Severity: "ER"}}},
		"examples/spec/errors/prescription-order-update/R-0009-Cancellation.json": {core.ErrorFamilyCancel, 400,
			[]core.SpineCode{{System: c, Code: "0009", Display: "Cancellation functionality disabled in SPINE", Severity: "ER"}}},
		"examples/spec/errors/prescription-order-update/R-5000-Cancellation.json": {core.ErrorFamilyCancel, 400,
			[]core.SpineCode{{System: c, Code: "5000", Display: unab + "Mismatch between prescription and cancellation NHSNumber", Severity: "ER"}}},
		"examples/spec/errors/prescription-order-update/R-5888-Cancellation.json": {core.ErrorFamilyCancel, 400,
			[]core.SpineCode{{System: c, Code: "5888", Display: "Invalid Message.", Severity: "ER"}}},
		"examples/spec/errors/release/not-found-error.json": {core.ErrorFamilyRelease, 400,
			[]core.SpineCode{{System: d, Code: "0003", Display: "Resource not found", Severity: "ER"}}},
		"examples/spec/errors/release/with-another-dispenser-error.json": {core.ErrorFamilyRelease, 400,
			[]core.SpineCode{{System: d, Code: "0004", Display: "Prescription is with another dispenser", Severity: "ER"}}},
		"examples/spec/errors/task/query-error.json": {core.ErrorFamilyDispense, 400,
			[]core.SpineCode{{System: d, Code: "5000", Display: unab + "Query parameter must be one of: identifier, focus:identifier.", Severity: "ER"}}},
		"examples/errors/1-Process-Response-Send-400_INVALID_CHECKSUM.json": {core.ErrorFamilyPrescribe, 400,
			[]core.SpineCode{{System: p, Code: "9999", Display: unab + "prescriptionID has invalid checksum", Severity: "ER"}}},
		"examples/errors/2-Prepare-Response-400_Invalid_Course_of_Therapy_mixed.json": {core.ErrorFamilyPrescribe, 400,
			[]core.SpineCode{{System: p, Code: "9999", Display: unab + "Course of therapy type must either match for all MedicationRequests or be a mixture of 'acute' and 'continuous'.", Severity: "ER"}}},
		"examples/errors/2-Process-Response-Send-400_Invalid_Course_of_Therapy_mixed.json": {core.ErrorFamilyPrescribe, 400,
			[]core.SpineCode{{System: p, Code: "9999", Display: unab + "Course of therapy type must either match for all MedicationRequests or be a mixture of 'acute' and 'continuous'.", Severity: "ER"}}},
		"examples/errors/3-Process-Response-Dispense-400_Invalid_Value.json": {core.ErrorFamilyDispense, 400,
			[]core.SpineCode{{System: d, Code: "5000", Display: unab + "Expected all MedicationDispenses to have the same value for MedicationDispense.extension:prescriptionNonDispensingReason", Severity: "ER"}}},
		"examples/errors/4-Process-Response-Send-400_invalid_intent.json": {core.ErrorFamilyPrescribe, 400,
			[]core.SpineCode{{System: p, Code: "9999", Display: unab + "MedicationRequest.intent must be order, original-order or instance-order.", Severity: "ER"}}},
	}
}

// TestCorpusErrorCodes walks every OperationOutcome of the corpus error
// examples and requires each to map to the defined v3 codes above (none by
// a fallback), every such file to be listed, and every
// medicationrequest-status-history code anywhere in them to be a defined
// cancellation response code.
func TestCorpusErrorCodes(t *testing.T) {
	root := corpustest.Dir(t)
	files := corpustest.Walk(t, func(rel string) bool {
		rel = filepath.ToSlash(rel)
		return filepath.Ext(rel) == ".json" && (strings.HasPrefix(rel, "examples/spec/errors/") || strings.HasPrefix(rel, "examples/errors/"))
	})
	cases := corpusOutcomes()
	seen := map[string]bool{}
	rCodes := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		collectStatusHistory(t, data, rCodes)
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if head.ResourceType != "OperationOutcome" {
			continue
		}
		seen[rel] = true
		tc, ok := cases[rel]
		if !ok {
			t.Errorf("%s: OperationOutcome not in the expectation table", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			var oo fhir.OperationOutcome
			if err := fhir.Unmarshal(data, &oo); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				a, _, err := AckFromOutcome(&oo, tc.status, AckRequest{RequestID: "R", Interaction: v3.ParentPrescription, SenderASID: "1", ReceiverASID: "2"}, ackTestEnv())
				if err != nil || a.TypeCode != core.AckAccepted {
					t.Errorf("success outcome → %+v, %v; want AA", a, err)
				}
				return
			}
			ve, err := core.V3ErrorFromOutcome(&oo, tc.status, tc.family)
			if err != nil {
				t.Fatal(err)
			}
			if len(ve.Unmapped) != 0 {
				t.Errorf("codes without a table row: %v", ve.Unmapped)
			}
			if !reflect.DeepEqual(ve.Codes, tc.want) {
				t.Errorf("v3 codes = %+v\nwant %+v", ve.Codes, tc.want)
			}
		})
	}
	for rel := range cases {
		if !seen[rel] {
			t.Errorf("%s: expected in the corpus, not found", rel)
		}
	}
	for code := range rCodes {
		c, err := core.CancellationFromFHIR(code, "")
		if err != nil {
			t.Errorf("corpus status-history code %s: %v", code, err)
			continue
		}
		if c.V3.System != v3.OIDCancellationCode || c.V3.Code != strings.TrimPrefix(code, "R-") {
			t.Errorf("%s → %+v", code, c.V3)
		}
	}
	if len(rCodes) != 12 {
		t.Errorf("status-history codes in the corpus: %d, want the 12 of R-0001…R-0010, R-5000, R-5888", len(rCodes))
	}
}

// collectStatusHistory adds every medicationrequest-status-history code of
// a JSON document to codes.
func collectStatusHistory(t *testing.T, data []byte, codes map[string]bool) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["system"] == fhir.CodeSystemStatusHistory {
				if c, ok := x["code"].(string); ok {
					codes[c] = true
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}
