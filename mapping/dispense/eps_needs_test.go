package dispense_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestEPSCannotTake: a dispense notification from a dispenser without
// telecom, or with a supplied line item reporting no supply (an owing or
// not dispensed item without component/suppliedLineItemQuantity, first or
// later), makes a Bundle EPS's dispense translation fails on with HTTP 500
// (it reads the performer's first telecom, and the quantity and dosage of
// every MedicationDispense, unchecked); each is named by its v3 element,
// without a MIM rule. The project's notifications with a supply for every
// item, and the EPS-shaped Bundles (owing with a quantity of 0), pass.
func TestEPSCannotTake(t *testing.T) {
	full := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	// The second line item's supply: the last component of the file.
	comps := regexp.MustCompile(`(?s)\s*<component typeCode="COMP">\s*<seperatableInd value="false" />\s*<suppliedLineItemQuantity .*?</component>`).FindAllStringIndex(full, -1)
	if len(comps) != 2 {
		t.Fatalf("fixture has %d supplies, want 2", len(comps))
	}
	secondWithout := full[:comps[1][0]] + full[comps[1][1]:]
	noTel := strings.Replace(full, `<telecom use="WP" value="tel:01632960123" />`, "", 1)
	if noTel == full {
		t.Fatal("fixture lacks its dispenser's telecom")
	}
	const supply = "/DispenseNotification/pertinentInformation1/pertinentSupplyHeader/pertinentInformation1/pertinentSuppliedLineItem/component"
	tests := []struct {
		name, interaction, v3 string
		element               string // "" when EPS can take it
	}{
		{"a supply for every item", v3.DispenseNotification, full, ""},
		{"partial, second supply of an item", v3.DispenseNotification, string(maptest.Testdata(t, "dispense/dn-partial-second.xml")), ""},
		{"brands and packs", v3.DispenseNotification, string(maptest.Testdata(t, "dispense/dn-brands-packs.xml")), ""},
		{"dispenser without telecom", v3.DispenseNotification, noTel, "/DispenseNotification/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/telecom"},
		{"owing item without supply, first", v3.DispenseNotification, string(maptest.Testdata(t, "dispense/dn-owing.xml")), supply},
		{"owing item without supply, SM", "PORX_IN080101SM31", string(maptest.Testdata(t, "dispense/dn-owing.xml")), supply},
		{"second item without supply", v3.DispenseNotification, secondWithout, supply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := dispense.DispenseToFHIR([]byte(tt.v3), dispensetest.Env())
			if err != nil {
				t.Fatal(err)
			}
			dispensetest.EPSRefusal(t, dispense.EPSCannotTake(tt.interaction, body), tt.interaction, tt.element)
		})
	}
	for _, name := range []string{"Dispense--owing-with-dosage.json", "Dispense--all-not-dispensed-same-reason.json", "Dispense--two-supplies-one-line-item.json"} {
		if err := dispense.EPSCannotTake(v3.DispenseNotification, maptest.Testdata(t, "eps-fhir/"+name)); err != nil {
			t.Errorf("%s: %v, want nil (an EPS-shaped Bundle)", name, err)
		}
	}
}
