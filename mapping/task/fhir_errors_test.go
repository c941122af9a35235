package task_test

import (
	"encoding/json"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	taskmap "github.com/porxgate/porxgate/mapping/task"
)

func TestTaskFHIRMalformed(t *testing.T) {
	task := func(r fhir.Resource) *fhir.Task { return r.(*fhir.Task) }
	ret := dispensetest.FHIROf(t, taskmap.ReturnToFHIR, "return/return-erd.xml")
	dispensetest.RunFHIRErrors(t, taskmap.ReturnToV3, ret, []dispensetest.FHIRErrorCase{
		{Name: "not json", Mutate: nil, Want: []string{"PORX_IN100101UK31", "Task"}},
		{Name: "not rejected", Mutate: func(r fhir.Resource) { task(r).Status = "in-progress" }, Want: []string{"Task.status"}},
		{Name: "no reason", Mutate: func(r fhir.Resource) { task(r).StatusReason = nil }, Want: []string{"Task.statusReason"}},
		{Name: "no prescription id", Mutate: func(r fhir.Resource) { task(r).GroupIdentifier = nil }, Want: []string{"Task.groupIdentifier"}},
		{Name: "repeat not a number", Mutate: func(r fhir.Resource) {
			n := json.Number("-1")
			task(r).Extension[0].Extension[0].ValueInteger = &n
		}, Want: []string{"Task.extension", "numberOfRepeatsIssued"}},
		{Name: "requester not contained", Mutate: func(r fhir.Resource) { task(r).Requester.Reference = "#nobody" }, Want: []string{"Task.requester.reference"}},
	})
	wdr := dispensetest.FHIROf(t, taskmap.WithdrawToFHIR, "withdraw/withdraw-erd.xml")
	dispensetest.RunFHIRErrors(t, taskmap.WithdrawToV3, wdr, []dispensetest.FHIRErrorCase{
		{Name: "no patient", Mutate: func(r fhir.Resource) { task(r).For = nil }, Want: []string{"PORX_IN510101UK31", "Task.for.identifier"}},
		{Name: "no reason", Mutate: func(r fhir.Resource) { task(r).StatusReason = nil }, Want: []string{"Task.statusReason"}},
		{Name: "bad authoredOn", Mutate: func(r fhir.Resource) { task(r).AuthoredOn = "yesterday" }, Want: []string{"Task.authoredOn"}},
	})
}
