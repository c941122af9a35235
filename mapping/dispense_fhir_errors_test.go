package mapping_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	claimmap "github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	taskmap "github.com/porxgate/porxgate/mapping/task"
)

// dispFHIROf returns the FHIR a v3 dispFixture maps to.
func dispFHIROf(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), rel string) []byte {
	t.Helper()
	body, _, err := toFHIR([]byte(string(maptest.Testdata(t, rel))), dispTestEnv())
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return body
}

// dispFHIRErrorCase is a malformed FHIR body made by mutate from a good one.
type dispFHIRErrorCase struct {
	name   string
	mutate func(r fhir.Resource)
	want   []string
}

// dispRunFHIRErrors checks that each malformed body fails FHIR → v3 with an
// error naming the interaction and the FHIR element path.
func dispRunFHIRErrors(t *testing.T, toV3 func([]byte, core.Meta, core.Env) ([]byte, error), good []byte, cases []dispFHIRErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := good
			if tc.mutate != nil {
				r, err := fhir.DecodeResource(good)
				if err != nil {
					t.Fatal(err)
				}
				tc.mutate(r)
				if body, err = fhir.Marshal(r); err != nil {
					t.Fatal(err)
				}
			} else {
				body = []byte(`{"resourceType":`)
			}
			_, err := toV3(body, core.Meta{}, dispTestEnv())
			if err == nil {
				t.Fatal("want an error, got none")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// dispDispenses returns a Bundle's MedicationDispenses.
func dispDispenses(r fhir.Resource) []*fhir.MedicationDispense {
	return fhir.EntriesOf[*fhir.MedicationDispense](r.(*fhir.Bundle))
}

func TestDispenseFHIRMalformed(t *testing.T) {
	good := dispFHIROf(t, dispense.DispenseToFHIR, "dispense/dn-full-two-items.xml")
	dispRunFHIRErrors(t, dispense.DispenseToV3, good, []dispFHIRErrorCase{
		{"not json", nil, []string{"PORX_IN080101UK31", "Bundle"}},
		{"no identifier", func(r fhir.Resource) { r.(*fhir.Bundle).Identifier = nil }, []string{"PORX_IN080101UK31", "Bundle.identifier"}},
		{"wrong event", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](r.(*fhir.Bundle))[0].EventCoding.Code = "prescription-order"
		}, []string{"Bundle.entry[0].resource.eventCoding.code"}},
		{"no performer", func(r fhir.Resource) {
			for _, md := range dispDispenses(r) {
				md.Performer = nil
			}
		}, []string{"Bundle.entry[1].resource.performer", "no MedicationDispense names its performer"}},
		{"no prescription status", func(r fhir.Resource) { dispDispenses(r)[0].Extension = nil }, []string{"Bundle.entry[1].resource.extension", "Extension-EPS-TaskBusinessStatus"}},
		{"inconsistent non-dispensing reasons", func(r fhir.Resource) {
			for i, md := range dispDispenses(r) {
				md.Extension = append(md.Extension, fhir.Extension{URL: core.ExtensionNonDispensingReason, ValueCoding: &fhir.Coding{Code: []string{"0001", "0002"}[i]}})
			}
		}, []string{"Bundle.entry[2].resource.extension", "must be consistent"}},
		{"bad whenHandedOver", func(r fhir.Resource) { dispDispenses(r)[0].WhenHandedOver = "11/03/2024" }, []string{"Bundle.entry[1].resource.whenHandedOver"}},
		{"short-form id not hexadecimal", func(r fhir.Resource) {
			mr := dispDispenses(r)[0].Contained[1].(*fhir.MedicationRequest)
			mr.GroupIdentifier.Value = "7D4A2X-0FH542-C1B00Y"
		}, []string{"Bundle.entry[1].resource.authorizingPrescription.groupIdentifier.value", "hexadecimal"}},
		{"unresolved prescription", func(r fhir.Resource) { dispDispenses(r)[1].AuthorizingPrescription[0].Reference = "#nowhere" }, []string{"Bundle.entry[2].resource.authorizingPrescription[0].reference"}},
		{"no release response", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](r.(*fhir.Bundle))[0].Response = nil
		}, []string{"Bundle.entry[0].resource.response.identifier"}},
		{"quantity without unit code", func(r fhir.Resource) { dispDispenses(r)[0].Quantity.Code = "" }, []string{"Bundle.entry[1].resource.quantity.code"}},
		{"role without role profile system", func(r fhir.Resource) {
			role := dispDispenses(r)[0].Contained[0].(*fhir.PractitionerRole)
			role.Code = []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: "urn:x", Code: "y"}}}}
		}, []string{"Bundle.entry[1].resource.performer[0].actor.code", "job role"}},
		{"organisation without ODS code", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.Organization](r.(*fhir.Bundle))[0].Identifier = nil
		}, []string{"Bundle.entry[3].resource.identifier"}},
	})
}

func TestClaimFHIRMalformed(t *testing.T) {
	good := dispFHIROf(t, claimmap.ClaimToFHIR, "claim/claim-exemption-evidence.xml")
	claim := func(r fhir.Resource) *fhir.Claim { return r.(*fhir.Claim) }
	dispRunFHIRErrors(t, claimmap.ClaimToV3, good, []dispFHIRErrorCase{
		{"not json", nil, []string{"PORX_IN090101UK31", "Claim"}},
		{"no identifier", func(r fhir.Resource) { claim(r).Identifier = nil }, []string{"Claim.identifier"}},
		{"no insurance", func(r fhir.Resource) { claim(r).Insurance = nil }, []string{"Claim.insurance"}},
		{"unknown charge", func(r fhir.Resource) {
			pc := claim(r).Item[0].Detail[0].ProgramCode
			pc[len(pc)-1].Coding[0].Code = "paid-thrice"
		}, []string{"Claim.item[0].detail[0].programCode", "paid-thrice"}},
		{"no endorsement", func(r fhir.Resource) {
			d := &claim(r).Item[0].Detail[0]
			d.ProgramCode = d.ProgramCode[len(d.ProgramCode)-1:]
		}, []string{"Claim.item[0].detail[0].programCode", "endorsement"}},
		{"no item status", func(r fhir.Resource) { claim(r).Item[0].Detail[1].Modifier = nil }, []string{"Claim.item[0].detail[1].modifier"}},
		{"no provider", func(r fhir.Resource) { claim(r).Provider = nil }, []string{"Claim.provider"}},
		{"two items", func(r fhir.Resource) { claim(r).Item = append(claim(r).Item, claim(r).Item[0]) }, []string{"Claim.item", "exactly one"}},
		{"contained organisation without ODS", func(r fhir.Resource) {
			claim(r).Contained[1].(*fhir.Organization).Identifier = nil
		}, []string{"Claim.contained[1].identifier"}},
	})
}

func TestTaskFHIRMalformed(t *testing.T) {
	task := func(r fhir.Resource) *fhir.Task { return r.(*fhir.Task) }
	ret := dispFHIROf(t, taskmap.ReturnToFHIR, "return/return-erd.xml")
	dispRunFHIRErrors(t, taskmap.ReturnToV3, ret, []dispFHIRErrorCase{
		{"not json", nil, []string{"PORX_IN100101UK31", "Task"}},
		{"not rejected", func(r fhir.Resource) { task(r).Status = "in-progress" }, []string{"Task.status"}},
		{"no reason", func(r fhir.Resource) { task(r).StatusReason = nil }, []string{"Task.statusReason"}},
		{"no prescription id", func(r fhir.Resource) { task(r).GroupIdentifier = nil }, []string{"Task.groupIdentifier"}},
		{"repeat not a number", func(r fhir.Resource) {
			n := json.Number("-1")
			task(r).Extension[0].Extension[0].ValueInteger = &n
		}, []string{"Task.extension", "numberOfRepeatsIssued"}},
		{"requester not contained", func(r fhir.Resource) { task(r).Requester.Reference = "#nobody" }, []string{"Task.requester.reference"}},
	})
	wdr := dispFHIROf(t, taskmap.WithdrawToFHIR, "withdraw/withdraw-erd.xml")
	dispRunFHIRErrors(t, taskmap.WithdrawToV3, wdr, []dispFHIRErrorCase{
		{"no patient", func(r fhir.Resource) { task(r).For = nil }, []string{"PORX_IN510101UK31", "Task.for.identifier"}},
		{"no reason", func(r fhir.Resource) { task(r).StatusReason = nil }, []string{"Task.statusReason"}},
		{"bad authoredOn", func(r fhir.Resource) { task(r).AuthoredOn = "yesterday" }, []string{"Task.authoredOn"}},
	})
}

func TestRebuildReimbursementFHIRMalformed(t *testing.T) {
	bundle := func(r fhir.Resource) *fhir.Bundle { return r.(*fhir.Bundle) }
	reb := dispFHIROf(t, dispense.RebuildToFHIR, "rebuild/rebuild-540101.xml")
	dispRunFHIRErrors(t, dispense.RebuildToV3, reb, []dispFHIRErrorCase{
		{"no task", func(r fhir.Resource) { bundle(r).Entry = append(bundle(r).Entry[:1], bundle(r).Entry[2:]...) }, []string{"PORX_IN540101UK31", "Bundle.entry", "no Task"}},
		{"input without sequence", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.Task](bundle(r))[0].Input[1].Extension = nil
		}, []string{"Bundle.entry[1].resource.input[1].extension", "sequenceNumber"}},
		{"nested notification broken", func(r fhir.Resource) {
			nb := fhir.EntriesOf[*fhir.Bundle](bundle(r))[0]
			fhir.EntriesOf[*fhir.MedicationDispense](nb)[0].WhenHandedOver = "soon"
		}, []string{"Bundle.entry[2].resource/Bundle.entry[1].resource.whenHandedOver"}},
	})
	rmb := dispFHIROf(t, claimmap.ReimbursementToFHIR, "claim/noclaim-460101.xml")
	dispRunFHIRErrors(t, claimmap.ReimbursementToV3, rmb, []dispFHIRErrorCase{
		{"wrong event", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](bundle(r))[0].EventCoding.Code = "dispense-notification"
		}, []string{"Bundle.entry[0].resource.eventCoding.code"}},
		{"no effective time", func(r fhir.Resource) {
			fhir.EntriesOf[*fhir.MessageHeader](bundle(r))[0].Extension = nil
		}, []string{"PORX_IN460101UK31", "Bundle.entry[0].resource.extension"}},
	})
}
