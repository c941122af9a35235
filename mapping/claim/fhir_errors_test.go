package claim_test

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
	claimmap "github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

func TestClaimFHIRMalformed(t *testing.T) {
	good := dispensetest.FHIROf(t, claimmap.ClaimToFHIR, "claim/claim-exemption-evidence.xml")
	claim := func(r fhir.Resource) *fhir.Claim { return r.(*fhir.Claim) }
	dispensetest.RunFHIRErrors(t, claimmap.ClaimToV3, good, []dispensetest.FHIRErrorCase{
		{Name: "not json", Mutate: nil, Want: []string{"PORX_IN090101UK31", "Claim"}},
		{Name: "no identifier", Mutate: func(r fhir.Resource) { claim(r).Identifier = nil }, Want: []string{"Claim.identifier"}},
		{Name: "no insurance", Mutate: func(r fhir.Resource) { claim(r).Insurance = nil }, Want: []string{"Claim.insurance"}},
		{Name: "unknown charge", Mutate: func(r fhir.Resource) {
			pc := claim(r).Item[0].Detail[0].ProgramCode
			pc[len(pc)-1].Coding[0].Code = "paid-thrice"
		}, Want: []string{"Claim.item[0].detail[0].programCode", "paid-thrice"}},
		{Name: "no endorsement", Mutate: func(r fhir.Resource) {
			d := &claim(r).Item[0].Detail[0]
			d.ProgramCode = d.ProgramCode[len(d.ProgramCode)-1:]
		}, Want: []string{"Claim.item[0].detail[0].programCode", "endorsement"}},
		{Name: "no item status", Mutate: func(r fhir.Resource) { claim(r).Item[0].Detail[1].Modifier = nil }, Want: []string{"Claim.item[0].detail[1].modifier"}},
		{Name: "no provider", Mutate: func(r fhir.Resource) { claim(r).Provider = nil }, Want: []string{"Claim.provider"}},
		{Name: "two items", Mutate: func(r fhir.Resource) { claim(r).Item = append(claim(r).Item, claim(r).Item[0]) }, Want: []string{"Claim.item", "exactly one"}},
		{Name: "contained organisation without ODS", Mutate: func(r fhir.Resource) {
			claim(r).Contained[1].(*fhir.Organization).Identifier = nil
		}, Want: []string{"Claim.contained[1].identifier"}},
	})
}

func TestReimbursementFHIRMalformed(t *testing.T) {
	bundle := func(r fhir.Resource) *fhir.Bundle { return r.(*fhir.Bundle) }
	rmb := dispensetest.FHIROf(t, claimmap.ReimbursementToFHIR, "claim/noclaim-460101.xml")
	dispensetest.RunFHIRErrors(t, claimmap.ReimbursementToV3, rmb, []dispensetest.FHIRErrorCase{
		{Name: "wrong event", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](bundle(r))[0].EventCoding.Code = "dispense-notification"
		}, Want: []string{"Bundle.entry[0].resource.eventCoding.code"}},
		{Name: "no effective time", Mutate: func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](bundle(r))[0].Extension = nil
		}, Want: []string{"PORX_IN460101UK31", "Bundle.entry[0].resource.extension"}},
	})
}
