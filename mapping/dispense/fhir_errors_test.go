package dispense_test

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

func TestDispenseFHIRMalformed(t *testing.T) {
	good := dispensetest.FHIROf(t, dispense.DispenseToFHIR, "dispense/dn-full-two-items.xml")
	dispensetest.RunFHIRErrors(t, dispense.DispenseToV3, good, []dispensetest.FHIRErrorCase{
		{Name: "not json", Mutate: nil, Want: []string{"PORX_IN080101UK31", "Bundle"}},
		{Name: "no identifier", Mutate: func(r fhir.Resource) { r.(*fhir.Bundle).Identifier = nil }, Want: []string{"PORX_IN080101UK31", "Bundle.identifier"}},
		{Name: "wrong event", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](r.(*fhir.Bundle))[0].EventCoding.Code = "prescription-order"
		}, Want: []string{"Bundle.entry[0].resource.eventCoding.code"}},
		{Name: "no performer", Mutate: func(r fhir.Resource) {
			for _, md := range dispensetest.Dispenses(r) {
				md.Performer = nil
			}
		}, Want: []string{"Bundle.entry[1].resource.performer", "no MedicationDispense names its performer"}},
		{Name: "no prescription status", Mutate: func(r fhir.Resource) { dispensetest.Dispenses(r)[0].Extension = nil }, Want: []string{"Bundle.entry[1].resource.extension", "Extension-EPS-TaskBusinessStatus"}},
		{Name: "inconsistent non-dispensing reasons", Mutate: func(r fhir.Resource) {
			for i, md := range dispensetest.Dispenses(r) {
				md.Extension = append(md.Extension, fhir.Extension{URL: core.ExtensionNonDispensingReason, ValueCoding: &fhir.Coding{Code: []string{"0001", "0002"}[i]}})
			}
		}, Want: []string{"Bundle.entry[2].resource.extension", "must be consistent"}},
		{Name: "bad whenHandedOver", Mutate: func(r fhir.Resource) { dispensetest.Dispenses(r)[0].WhenHandedOver = "11/03/2024" }, Want: []string{"Bundle.entry[1].resource.whenHandedOver"}},
		{Name: "short-form id not hexadecimal", Mutate: func(r fhir.Resource) {
			mr := dispensetest.Dispenses(r)[0].Contained[1].(*fhir.MedicationRequest)
			mr.GroupIdentifier.Value = "7D4A2X-0FH542-C1B00Y"
		}, Want: []string{"Bundle.entry[1].resource.authorizingPrescription.groupIdentifier.value", "hexadecimal"}},
		{Name: "unresolved prescription", Mutate: func(r fhir.Resource) { dispensetest.Dispenses(r)[1].AuthorizingPrescription[0].Reference = "#nowhere" }, Want: []string{"Bundle.entry[2].resource.authorizingPrescription[0].reference"}},
		{Name: "no release response", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](r.(*fhir.Bundle))[0].Response = nil
		}, Want: []string{"Bundle.entry[0].resource.response.identifier"}},
		{Name: "quantity without unit code or name", Mutate: func(r fhir.Resource) {
			q := dispensetest.Dispenses(r)[0].Quantity
			q.Code, q.Unit = "", ""
		}, Want: []string{"Bundle.entry[1].resource.quantity"}},
		{Name: "role without role profile system", Mutate: func(r fhir.Resource) {
			role := dispensetest.Dispenses(r)[0].Contained[0].(*fhir.PractitionerRole)
			role.Code = []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: "urn:x", Code: "y"}}}}
		}, Want: []string{"Bundle.entry[1].resource.performer[0].actor.code", "job role"}},
		{Name: "organisation without ODS code", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.Organization](r.(*fhir.Bundle))[0].Identifier = nil
		}, Want: []string{"Bundle.entry[3].resource.identifier"}},
	})
}

func TestRebuildFHIRMalformed(t *testing.T) {
	bundle := func(r fhir.Resource) *fhir.Bundle { return r.(*fhir.Bundle) }
	reb := dispensetest.FHIROf(t, dispense.RebuildToFHIR, "rebuild/rebuild-540101.xml")
	dispensetest.RunFHIRErrors(t, dispense.RebuildToV3, reb, []dispensetest.FHIRErrorCase{
		{Name: "no task", Mutate: func(r fhir.Resource) { bundle(r).Entry = append(bundle(r).Entry[:1], bundle(r).Entry[2:]...) }, Want: []string{"PORX_IN540101UK31", "Bundle.entry", "no Task"}},
		{Name: "input without sequence", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.Task](bundle(r))[0].Input[1].Extension = nil
		}, Want: []string{"Bundle.entry[1].resource.input[1].extension", "sequenceNumber"}},
		{Name: "nested notification broken", Mutate: func(r fhir.Resource) {
			nb := fhir.EntriesOf[*fhir.Bundle](bundle(r))[0]
			fhir.EntriesOf[*fhir.MedicationDispense](nb)[0].WhenHandedOver = "soon"
		}, Want: []string{"Bundle.entry[2].resource/Bundle.entry[1].resource.whenHandedOver"}},
	})
}
