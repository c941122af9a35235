package dispense_test

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// dispDNBundle maps a dispense notification fixture to FHIR.
func dispDNBundle(t *testing.T, rel string) *fhir.Bundle {
	t.Helper()
	b, err := fhir.ParseBundle(dispensetest.FHIROf(t, dispense.DispenseToFHIR, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDispenseFHIRShapes(t *testing.T) {
	type mdWant struct {
		item, status string
		qty          string
		performer    bool
	}
	tests := []struct {
		fixture     string
		mds         []mdWant
		replacement string
	}{
		{"dispense/dn-full-two-items.xml", []mdWant{
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0001", "32", true},
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e12", "0001", "21", true}}, ""},
		{"dispense/dn-partial-first.xml", []mdWant{{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0003", "60", true}}, ""},
		{"dispense/dn-partial-second.xml", []mdWant{{"b1000000-0000-4000-8000-000000000013", "0001", "40", true}}, ""},
		{"dispense/dn-owing.xml", []mdWant{
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0004", "", false},
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e12", "0003", "14", true}}, ""},
		{"dispense/dn-not-dispensed.xml", []mdWant{{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0002", "0", true}}, ""},
		{"dispense/dn-brands-packs.xml", []mdWant{
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0001", "32", true},
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0001", "32", true},
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0001", "36", true}}, ""},
		{"dispense/dn-amend.xml", []mdWant{
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e11", "0001", "32", true},
			{"6c3d6f0e-2a1b-4e7c-9d55-0b1a2c3d4e12", "0001", "21", true}}, "a1000000-0000-4000-8000-000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			b := dispDNBundle(t, tt.fixture)
			mds := fhir.EntriesOf[*fhir.MedicationDispense](b)
			if len(mds) != len(tt.mds) {
				t.Fatalf("%d MedicationDispenses, want %d", len(mds), len(tt.mds))
			}
			for i, w := range tt.mds {
				md := mds[i]
				if got := fhir.FindIdentifier(md.Identifier, fhir.SystemDispenseItemID); got != w.item {
					t.Errorf("md %d: item %s, want %s", i, got, w.item)
				}
				if got := fhir.FindCoding(md.Type, fhir.CodeSystemMedicationDispenseType); got == nil || got.Code != w.status {
					t.Errorf("md %d: type %v, want %s", i, got, w.status)
				}
				if w.qty == "" {
					// An owing MedicationDispense omits quantity, daysSupply,
					// whenPrepared and dosageInstruction; it names its
					// performer, as EPS requires of every MedicationDispense.
					if len(md.Performer) != 1 || md.Quantity != nil || md.DaysSupply != nil || md.WhenPrepared != "" || md.DosageInstruction != nil {
						t.Errorf("md %d: owing dispense carries a supply: %+v", i, md)
					}
					continue
				}
				if md.Quantity == nil || string(md.Quantity.Value) != w.qty {
					t.Errorf("md %d: quantity %+v, want %s", i, md.Quantity, w.qty)
				}
				if (len(md.Performer) > 0) != w.performer || len(md.DosageInstruction) != 1 {
					t.Errorf("md %d: performer %v dosage %v", i, md.Performer, md.DosageInstruction)
				}
			}
			mh := fhir.EntriesOf[*fhir.MessageHeader](b)[0]
			rep := fhir.FindExtension(mh.Extension, core.ExtensionReplacementOf)
			switch {
			case tt.replacement == "" && rep != nil:
				t.Errorf("unexpected replacementOf %+v", rep)
			case tt.replacement != "" && (rep == nil || rep.ValueIdentifier.Value != tt.replacement):
				t.Errorf("replacementOf %+v, want %s", rep, tt.replacement)
			}
		})
	}
}

// TestDispenseOwingFromFHIR starts from FHIR: an owing MedicationDispense
// (a performer, no quantity or dosage) beside a supplied one becomes a
// supplied line item without a component.
func TestDispenseOwingFromFHIR(t *testing.T) {
	b := dispDNBundle(t, "dispense/dn-owing.xml")
	body, err := fhir.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dispense.DispenseToV3(body, core.Meta{}, dispensetest.Env())
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := dispense.DispenseToFHIR(out, dispensetest.Env())
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := fhir.ParseBundle(back)
	if mds := fhir.EntriesOf[*fhir.MedicationDispense](b2); len(mds) != 2 || mds[0].Quantity != nil || len(mds[0].Performer) != 1 {
		t.Fatalf("owing dispense not kept: %s", back)
	}
}
