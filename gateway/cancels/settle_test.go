package cancels

import (
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// fhirOf maps a legacy message to the FHIR the gateway sends EPS.
func fhirOf(t testing.TB, canon string, payload []byte) []byte {
	t.Helper()
	tr := mapping.NewRegistry().ByInteraction(canon)
	if tr == nil {
		t.Fatalf("no translator for %s", canon)
	}
	body, _, err := tr.ToFHIR(payload, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatalf("mapping %s: %v", canon, err)
	}
	return body
}

func TestSettlementOf(t *testing.T) {
	dn := fhirOf(t, v3.DispenseNotification, cancelstest.LegacyNotDispensed(t))
	ret := fhirOf(t, v3.DispenseProposalReturn, cancelstest.LegacyReturn(t, rxID))
	s, err := settlementOf(v3.DispenseNotification, dn)
	if err != nil {
		t.Fatal(err)
	}
	if s.PrescriptionID != rxID || s.Source != sourceDispense || s.DispenserODS != cancelstest.RxPharmacy || s.DispenserName != "High Street Chemist" ||
		len(s.Items) != 1 || s.Items[rxLineItem] != "0002" {
		t.Errorf("dispense settlement %+v", s)
	}
	s, err = settlementOf(v3.DispenseProposalReturn, ret)
	if err != nil {
		t.Fatal(err)
	}
	if s.PrescriptionID != rxID || s.Source != sourceReturn || s.DispenserODS != cancelstest.RxPharmacy || s.Items != nil {
		t.Errorf("return settlement %+v", s)
	}
	for _, canon := range []string{v3.ParentPrescription, v3.ParentPrescriptionNonUrgent} {
		s, err = settlementOf(canon, cancelstest.Testdata(t, "prescribe/"+cancelstest.RxFixture))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Items[rxLineItem]; s.PrescriptionID != rxID || s.Source != sourcePrescription || len(s.Items) != 1 || !ok {
			t.Errorf("%s settlement %+v", canon, s)
		}
	}
}

func TestSettlementOfMalformed(t *testing.T) {
	cases := []struct {
		name, canon, body, want string
	}{
		{"claim settles nothing", v3.DispenseClaimInformation, `{}`, "settles no cancellation"},
		{"dispense not JSON", v3.DispenseNotification, `<x/>`, "dispense notification"},
		{"dispense not a Bundle", v3.DispenseNotification, `{"resourceType":"Task"}`, "want Bundle"},
		{"dispense without MedicationDispense", v3.DispenseNotification, `{"resourceType":"Bundle","type":"message","entry":[]}`, "no MedicationDispense"},
		{"dispense without type", v3.DispenseNotification,
			`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationDispense"}}]}`, "type"},
		{"dispense without request", v3.DispenseNotification,
			`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationDispense","type":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001"}]}}}]}`,
			"names no MedicationRequest"},
		{"dispense request without ids", v3.DispenseNotification,
			`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"MedicationRequest","id":"m"}],"authorizingPrescription":[{"reference":"#m"}],"type":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001"}]}}}]}`,
			"no line item id"},
		{"return not JSON", v3.DispenseProposalReturn, `[`, "return"},
		{"return not a Task", v3.DispenseProposalReturn, `{"resourceType":"Bundle"}`, "want Task"},
		{"return without groupIdentifier", v3.DispenseProposalReturn, `{"resourceType":"Task","status":"rejected"}`, "groupIdentifier"},
		{"prescription not a Bundle", v3.ParentPrescription, `{"resourceType":"Task"}`, "want Bundle"},
		{"prescription without MedicationRequest", v3.ParentPrescription, `{"resourceType":"Bundle","type":"message","entry":[]}`, "no MedicationRequest"},
		{"prescription request without ids", v3.ParentPrescriptionNonUrgent,
			`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationRequest"}}]}`, "no line item id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settlementOf(tc.canon, []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// FuzzSettlementOf: any FHIR body is read or refused, never a panic.
func FuzzSettlementOf(f *testing.F) {
	f.Add(true, []byte(`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"MedicationRequest","id":"m","groupIdentifier":{"value":"X"},"identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"i"}]}],"authorizingPrescription":[{"reference":"#m"}],"type":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001"}]}}}]}`))
	f.Add(false, []byte(`{"resourceType":"Task","groupIdentifier":{"value":"x"},"owner":{"identifier":{"value":"FCG71"}}}`))
	f.Fuzz(func(t *testing.T, dispense bool, body []byte) {
		canon := v3.DispenseProposalReturn
		if dispense {
			canon = v3.DispenseNotification
		}
		s, err := settlementOf(canon, body)
		if err == nil && s.PrescriptionID == "" {
			t.Fatalf("settlement without a prescription id from %q", body)
		}
	})
}
