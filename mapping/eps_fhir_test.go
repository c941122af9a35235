package mapping_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// The messages of testdata/eps-fhir are EPS FHIR requests the project wrote
// from the EPS API's models and translator code (see the folder's
// README.md), each named <corpus kind>--<what it varies>.json. The official
// translator, run beside the project, gives the same v3 for every one but
// the eRD return (schema order, see conventions.md); the checks below pin
// what that v3 must say, derived from the EPS code and the MIM schemas.

// epsFHIRCheck is one expectation on the v3 of a testdata/eps-fhir message:
// the elements at path (etree path syntax, local names) number count, when
// attr is set the first has that attribute value ("" = absent), and when
// text is set the first has that text.
type epsFHIRCheck struct {
	path  string
	count int
	attr  string
	value string
	text  string
}

// epsFHIRChecks are the expectations per file.
var epsFHIRChecks = map[string][]epsFHIRCheck{
	// A dispensed quantity whose unit has a name and no code: a translation
	// without a code, as the EPS API writes it (dispense-notification.ts:
	// SnomedCode of an absent code; its validators take the Bundle).
	"Dispense--unit-without-code.json": {
		{path: "//pertinentSuppliedLineItem/component/suppliedLineItemQuantity/quantity/translation[@displayName='tablet'][@value='0']", count: 1, attr: "code", value: ""},
	},
	// The dispenser (UKCT_MT120201UK03) as EPS writes it: the role's first
	// telecom; the organisation's first telecom and first address (the
	// CMET holds at most one of each) and no healthCareProviderLicense
	// (the CMET has none), whatever the FHIR Organization holds.
	"Dispense--dispenser-two-telecoms-two-addresses-part-of.json": {
		{path: "//pertinentSupplyHeader/author/AgentPerson/telecom", count: 1, attr: "value", value: "tel:07700900555"},
		{path: "//pertinentSupplyHeader/author/AgentPerson/representedOrganization/telecom", count: 1, attr: "value", value: "tel:01632960999"},
		{path: "//pertinentSupplyHeader/author/AgentPerson/representedOrganization/addr", count: 1, attr: "use", value: "WP"},
		{path: "//healthCareProviderLicense", count: 0},
	},
	// An organisation without telecom takes the role's first (EPS's
	// convertOrganization); one without address is written without.
	"Dispense--dispenser-organization-without-telecom.json": {
		{path: "//pertinentSupplyHeader/author/AgentPerson/representedOrganization/telecom", count: 1, attr: "value", value: "tel:01632960123"},
		{path: "//pertinentSupplyHeader/author/AgentPerson/representedOrganization/addr", count: 0},
	},
	// A quantity unit without display: no displayName (the MIM's ST has at
	// least one character; EPS leaves it out).
	"Dispense--units-without-display.json": {
		{path: "//suppliedLineItemQuantity/quantity/translation", count: 2, attr: "displayName", value: ""},
		{path: "//supplyRequest/quantity/translation", count: 2, attr: "displayName", value: ""},
	},
	// Two MedicationDispenses with dispense item numbers of their own for
	// one prescription line item are one supplied line item (the first's
	// number) with two supplies, as EPS groups them; every
	// MedicationDispense is a care record element.
	"Dispense--two-supplies-one-line-item.json": {
		{path: "//pertinentSuppliedLineItem", count: 2},
		{path: "//pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem/component", count: 2},
		{path: "//pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem/id", count: 1, attr: "root", value: "6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E11"},
		{path: "//pertinentCareRecordElementCategory/component", count: 3},
	},
	// A further pack listed after another item: the care record list
	// follows the MedicationDispenses (v3 → FHIR orders them by it).
	"Dispense--extra-pack-after-other-item.json": {
		{path: "//pertinentSuppliedLineItem", count: 2},
		{path: "//pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem/component", count: 2},
		{path: "//pertinentCareRecordElementCategory/component[3]/actRef/id", count: 1, attr: "root", value: "6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E11"},
	},
	"Dispense--two-packs-one-dispense-item-number.json": {
		{path: "//pertinentSuppliedLineItem", count: 2},
		{path: "//pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem/component", count: 2},
	},
	// A MedicationDispense, or its contained MedicationRequest, naming a
	// bundle Medication by medicationReference (EPS's getMedicationCoding
	// reads both; porxgate refused it before).
	"Dispense--medication-reference.json": {
		{path: "//pertinentSupplyHeader/pertinentInformation1[1]//manufacturedSuppliedMaterial/code", count: 1, attr: "code", value: "322236009"},
		{path: "//pertinentSupplyHeader/pertinentInformation1[2]//manufacturedRequestedMaterial/code", count: 1, attr: "code", value: "323509004"},
	},
	// The eRD issue a Task names is numberOfRepeatsIssued + 1 (EPS FHIR
	// counts the issues before it); a return's sits between
	// pertinentInformation1 and pertinentInformation3 (PORX_MT121301UK31).
	"Return--erd-issue.json": {
		{path: "//DispenseProposalReturn/pertinentInformation2/pertinentRepeatInstanceInfo/value", count: 1, attr: "value", value: "3"},
	},
	"Withdraw--erd-issue.json": {
		{path: "//ETPWithdraw/pertinentInformation1/pertinentRepeatInstanceInfo/value", count: 1, attr: "value", value: "4"},
	},
	"Claim--dispenser-two-telecoms-two-addresses.json": {
		{path: "//legalAuthenticator/AgentPerson/telecom", count: 1, attr: "value", value: "tel:01632960123"},
		{path: "//legalAuthenticator/AgentPerson/representedOrganization/telecom", count: 1, attr: "value", value: "tel:01632960999"},
		{path: "//legalAuthenticator/AgentPerson/representedOrganization/addr", count: 1, attr: "use", value: "WP"},
	},
	"Release--nominated-two-telecoms.json": {
		{path: "//NominatedPrescriptionReleaseRequest/author/AgentPerson/telecom", count: 1, attr: "value", value: "tel:01619999000"},
		{path: "//NominatedPrescriptionReleaseRequest/author/AgentPerson/representedOrganization/telecom", count: 1, attr: "value", value: "tel:01619999001"},
		{path: "//NominatedPrescriptionReleaseRequest/author/AgentPerson/representedOrganization/addr", count: 1},
	},
	"Release--nominated-owner-part-of.json": {
		{path: "//healthCareProviderLicense", count: 0},
	},
	// Dosage sequences with gaps, listed out of order: the groups in
	// ascending sequence order (12 after 3), a group's texts in their
	// order, nothing for the missing numbers (common/dosage-instructions.ts,
	// getDosageInstruction; porxgate wrote ", then , then " for each gap).
	"Send--acute-dosage-sequence-gaps.json": {
		{path: "//pertinentLineItem/pertinentInformation2/pertinentDosageInstructions/value", count: 1,
			text: "One tablet twice a day for 7 days, and one extra tablet at night if needed, then then one tablet daily for 14 days, then Then one tablet weekly"},
	},
	// A repeat-dispensing validity period starting at a time of day (and
	// across midnight in UTC): the days supply starts on its UTC date and
	// the ParentPrescription's effectiveTime is the start (EPS's
	// parent-prescription.ts); v3 → FHIR keeps the time in
	// validityPeriod.start (it wrote the date alone and carried the time in
	// Extension-Porxgate-EffectiveTime, which EPS ignores, so EPS would
	// have told Spine 20240229000000).
	"Send--erd-validity-start-time.json": {
		{path: "//ParentPrescription/effectiveTime", count: 1, attr: "value", value: "20240229233000"},
		{path: "//pertinentPrescription/component1/daysSupply/effectiveTime/low", count: 1, attr: "value", value: "20240229"},
	},
	// Patient shapes the corpus lacks: a birth date without a day (EPS's
	// moment.utc reads it as the first), gender other, names official /
	// temp (text only) / anonymous, telecoms with spaces, without use and
	// as email (EPS prefixes tel: to any value), an address without
	// postcode and one with only a postcode (demographics.ts, patient.ts).
	"Send--acute-patient-partial-birth-date.json": {
		{path: "//recordTarget/Patient/patientPerson/birthTime", count: 1, attr: "value", value: "19480401"},
		{path: "//recordTarget/Patient/patientPerson/administrativeGenderCode", count: 1, attr: "code", value: "9"},
		{path: "//recordTarget/Patient/patientPerson/name", count: 3},
		{path: "//recordTarget/Patient/patientPerson/name[2]", count: 1, attr: "use", value: "A", text: "Baby Adeyemi"},
		{path: "//recordTarget/Patient/telecom[1]", count: 1, attr: "value", value: "tel:07700900123"},
		{path: "//recordTarget/Patient/telecom[2]", count: 1, attr: "value", value: "tel:fola@example.org"},
		{path: "//recordTarget/Patient/telecom[3]", count: 1, attr: "use", value: ""},
		{path: "//recordTarget/Patient/addr[1]/streetAddressLine", count: 5},
		{path: "//recordTarget/Patient/addr[1]/postalCode", count: 0},
		{path: "//recordTarget/Patient/addr[2]/streetAddressLine", count: 0},
	},
	// whenHandedOver with an offset: the notification's effectiveTime is
	// UTC, the day before here (dispense-notification.ts).
	"Dispense--handed-over-offset.json": {
		{path: "//DispenseNotification/effectiveTime", count: 1, attr: "value", value: "20240310231500"},
	},
	// A charge exemption with no evidence seen: an exemption (negationInd
	// false) whose authorizingEvidenceSeen is negated (dispense-claim.ts).
	"Claim--exemption-no-evidence-seen.json": {
		{path: "//coverage/coveringChargeExempt", count: 1, attr: "negationInd", value: "false"},
		{path: "//coverage/coveringChargeExempt/value", count: 1, attr: "code", value: "0004"},
		{path: "//coveringChargeExempt/authorization/authorizingEvidenceSeen", count: 1, attr: "negationInd", value: "true"},
	},
	"Release--patient-owner-without-telecom.json": {
		{path: "//PatientPrescriptionReleaseRequest/author/AgentPerson/representedOrganization/telecom", count: 1, attr: "value", value: "tel:01619999000"},
	},
}

// TestEPSFHIRMessages translates every testdata/eps-fhir message FHIR → v3,
// checks what its v3 must say, and requires v3 → FHIR → v3 to give that
// v3 back.
func TestEPSFHIRMessages(t *testing.T) {
	dir := filepath.Join(maptest.TestdataDir(), "eps-fhir")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no messages in %s: %v", dir, err)
	}
	reg := mapping.NewRegistry()
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			kind, _, ok := strings.Cut(name, "--")
			tr := reg.ByKind(kind)
			if !ok || tr == nil {
				t.Fatalf("no translator for kind %q", kind)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.ToV3(body, core.Meta{}, conformance.Env())
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(got); err != nil {
				t.Fatal(err)
			}
			for _, ck := range epsFHIRChecks[name] {
				els := doc.FindElements(ck.path)
				if len(els) != ck.count {
					t.Errorf("%s: %d elements, want %d", ck.path, len(els), ck.count)
					continue
				}
				if ck.text != "" && len(els) > 0 && els[0].Text() != ck.text {
					t.Errorf("%s text %q, want %q", ck.path, els[0].Text(), ck.text)
				}
				if ck.attr == "" || len(els) == 0 {
					continue
				}
				for _, el := range els {
					a := el.SelectAttr(ck.attr)
					switch {
					case ck.value == "" && a != nil:
						t.Errorf("%s/@%s = %q, want none", ck.path, ck.attr, a.Value)
					case ck.value != "" && a == nil:
						t.Errorf("%s/@%s absent, want %q", ck.path, ck.attr, ck.value)
					case ck.value != "" && a.Value != ck.value:
						t.Errorf("%s/@%s = %q, want %q", ck.path, ck.attr, a.Value, ck.value)
					}
					if ck.value != "" {
						break
					}
				}
			}
			fh, meta, err := tr.ToFHIR(got, conformance.Env())
			if err != nil {
				t.Fatalf("v3 → FHIR: %v", err)
			}
			// The v3 is EPS-shaped: its FHIR needs nothing of porxgate's own
			// for the EPS API to give that v3 back.
			if strings.Contains(string(fh), core.PorxgateExtensionBase) {
				t.Errorf("v3 → FHIR carries porxgate extensions: %s", fh)
			}
			again, err := tr.ToV3(fh, meta, conformance.Env())
			if err != nil {
				t.Fatalf("FHIR → v3 again: %v", err)
			}
			if d, err := v3.Compare(got, again, v3.Rules{}); err != nil || d != nil {
				t.Fatalf("v3 → FHIR → v3 differs: %v %v", d, err)
			}
		})
	}
	for name := range epsFHIRChecks {
		if !seen[name] {
			t.Errorf("checks for %s, which testdata/eps-fhir does not hold", name)
		}
	}
}

// TestEPSFHIRReturnOrder: the eRD return's repeat instance
// (pertinentInformation2) comes after pertinentInformation1 and before
// pertinentInformation3 and reversalOf, as the PORX_MT121301UK31 schema
// orders DispenseProposalReturn (the EPS API writes it after reversalOf,
// which the schema refuses).
func TestEPSFHIRReturnOrder(t *testing.T) {
	body := maptest.Testdata(t, "eps-fhir/Return--erd-issue.json")
	got, err := mapping.NewRegistry().ByKind("Return").ToV3(body, core.Meta{}, conformance.Env())
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	ret := doc.FindElement("//DispenseProposalReturn")
	if ret == nil {
		t.Fatal("no DispenseProposalReturn")
	}
	var order []string
	for _, el := range ret.ChildElements() {
		order = append(order, el.Tag)
	}
	want := "id effectiveTime author pertinentInformation1 pertinentInformation2 pertinentInformation3 reversalOf"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("DispenseProposalReturn children %q, want %q", got, want)
	}
}
