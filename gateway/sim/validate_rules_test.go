package sim

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

// releasedRx starts a simulator and gives it prescription n, released to
// its nominated pharmacy: the simulator's FHIR base, the prescription
// and a poster of its fixtures.
func releasedRx(t *testing.T, n uint32) (string, rx, func(path, fix string, extra map[string]string) answer) {
	t.Helper()
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, n, "FH542")
	post := poster(t, api, p)
	post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
	post("/Task/$release", "release-nominated.json", nil).want(t, http.StatusOK, "")
	return api, p, post
}

// ruleCase is one request for a rule of the EPS API's validation: one it
// refuses (want: the issues of EPS's 400 answer, in order), or one it
// takes (want nil: answered 200).
type ruleCase struct {
	name string
	path string // under the FHIR base
	body []byte
	want []fhir.Issue
}

// runRuleCases posts each case to the simulator at api (its FHIR base)
// and checks its answer.
func runRuleCases(t *testing.T, api string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, http.MethodPost, api+tc.path, tc.body, nil)
			if tc.want == nil {
				if a.status != http.StatusOK {
					t.Fatalf("answer %d, want 200: %s", a.status, a.body)
				}
				return
			}
			a.wantIssuesStatus(t, http.StatusBadRequest, tc.want...)
		})
	}
}

// wantIssuesStatus fails t unless a is an OperationOutcome of exactly
// these issues, in this order, answered with status.
func (a answer) wantIssuesStatus(t *testing.T, status int, want ...fhir.Issue) {
	t.Helper()
	var got struct {
		ResourceType string       `json:"resourceType"`
		Issue        []fhir.Issue `json:"issue"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("answer %d does not decode: %v: %s", a.status, err, a.body)
	}
	if a.status != status || got.ResourceType != "OperationOutcome" || !reflect.DeepEqual(got.Issue, want) {
		w, _ := json.Marshal(want)
		t.Fatalf("answer %d: %s\nwant %d with issues %s", a.status, a.body, status, w)
	}
}

// editFixture returns fixture name (tokens replaced by repl), decoded,
// changed by edit and encoded again.
func editFixture(t *testing.T, name string, repl map[string]string, edit func(res map[string]any)) []byte {
	t.Helper()
	var res map[string]any
	if err := json.Unmarshal(fixture(t, name, repl), &res); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(res)
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entryOf returns the resource of a decoded Bundle's entry i.
func entryOf(b map[string]any, i int) map[string]any {
	return b["entry"].([]any)[i].(map[string]any)["resource"].(map[string]any)
}

// corpusFile reads a file of the shared corpus (rel: its path there).
func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusIssues returns the issues of a corpus OperationOutcome.
func corpusIssues(t *testing.T, rel string) []fhir.Issue {
	t.Helper()
	var oo struct {
		Issue []fhir.Issue `json:"issue"`
	}
	if err := json.Unmarshal(corpusFile(t, rel), &oo); err != nil {
		t.Fatal(err)
	}
	return oo.Issue
}

// TestMedicationRequestRulesAsEPS: the EPS API refuses, before it reaches
// Spine, a $process-message Bundle any of whose MedicationRequests has
// intent plan or reflex-order, or names its medicine both by
// medicationCodeableConcept and medicationReference (bundle-validator.ts,
// validateMedicationRequests): 400, one issue each. Before, the simulator
// took such a prescription (200): the corpus's
// 4-Process-Request-Send-400_invalid_intent was answered success.
func TestMedicationRequestRulesAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	intentIssue := valueIssue("MedicationRequest.intent must be order, original-order or instance-order.",
		"Bundle.entry.resource.ofType(MedicationRequest).intent")
	bothIssue := fhir.Issue{Severity: "error", Code: "structure",
		Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: codeSystemSpineErrorR4, Code: "CONFLICTING_VALUES",
			Display: "Conflicting values have been specified in different fields"}}},
		Diagnostics: "MedicationRequest cannot contain both medicationReference and medicationCodeableConcept fields."}
	order := func(n uint32, edit func(b map[string]any)) []byte {
		return editFixture(t, "prescription-order.json", newRx(t, n, "FH542").repl(nil), edit)
	}
	intent := func(i int, v string) func(b map[string]any) {
		return func(b map[string]any) { entryOf(b, i)["intent"] = v }
	}
	cases := []ruleCase{
		{"corpus invalid intent (plan)", "/$process-message",
			corpusFile(t, "examples/errors/4-Process-Request-Send-400_invalid_intent.json"),
			corpusIssues(t, "examples/errors/4-Process-Response-Send-400_invalid_intent.json")},
		{"second item reflex-order", "/$process-message", order(1, intent(2, "reflex-order")), []fhir.Issue{intentIssue}},
		{"both items plan: one issue", "/$process-message", order(2, func(b map[string]any) {
			intent(1, "plan")(b)
			intent(2, "plan")(b)
		}), []fhir.Issue{intentIssue}},
		{"medication both ways", "/$process-message", order(3, func(b map[string]any) {
			entryOf(b, 1)["medicationReference"] = map[string]any{"reference": "urn:uuid:med"}
		}), []fhir.Issue{bothIssue}},
		{"intent and medication: intent first", "/$process-message", order(4, func(b map[string]any) {
			intent(1, "plan")(b)
			entryOf(b, 2)["medicationReference"] = map[string]any{"reference": "urn:uuid:med"}
		}), []fhir.Issue{intentIssue, bothIssue}},
		{"cancellation intent plan", "/$process-message",
			editFixture(t, "cancel.json", newRx(t, 5, "FH542").repl(nil), intent(1, "plan")), []fhir.Issue{intentIssue}},
		{"original-order taken", "/$process-message", order(6, intent(1, "original-order")), nil},
		{"instance-order taken", "/$process-message", order(7, intent(1, "instance-order")), nil},
		{"order taken", "/$process-message", order(8, nil), nil},
	}
	runRuleCases(t, api, cases)
}

// TestPrescriptionRulesAsEPS: the EPS API refuses, before it reaches
// Spine, a prescription-order whose MedicationRequests disagree on what a
// prescription has once (authoredOn, requester...), mix courses of
// therapy other than acute and continuous, whose requester is named by
// a gmp-number, a repeat dispensing one without validityPeriod or
// expectedSupplyDuration or whose items disagree on their repeats, one
// with an item not active, two items of one line item id, an item without
// dosage instructions, or with several not each sequenced
// (bundle-validator.ts, verifyPrescriptionBundle;
// course-of-therapy-type.ts). Before, the simulator took each (200): the
// corpus's 2-Process-Request-Send-400_Invalid_Course_of_Therapy_mixed was
// answered success.
func TestPrescriptionRulesAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	n := uint32(20)
	order := func(edits ...func(b map[string]any)) []byte {
		n++
		return editFixture(t, "prescription-order.json", newRx(t, n, "FH542").repl(nil), func(b map[string]any) {
			for _, e := range edits {
				e(b)
			}
		})
	}
	set := func(i int, field string, v any) func(b map[string]any) {
		return func(b map[string]any) { entryOf(b, i)[field] = v }
	}
	dispenseRequest := func(i int, field string, v any) func(b map[string]any) {
		return func(b map[string]any) {
			dr := entryOf(b, i)["dispenseRequest"].(map[string]any)
			if v == nil {
				delete(dr, field)
				return
			}
			dr[field] = v
		}
	}
	repeatDispensing := func(b map[string]any) {
		for _, i := range []int{1, 2} {
			set(i, "courseOfTherapyType", map[string]any{"coding": []any{map[string]any{
				"system": fhir.CodeSystemCourseOfTherapyNHS, "code": courseRepeatDispensing}}})(b)
			dispenseRequest(i, "numberOfRepeatsAllowed", 2)(b)
		}
	}
	course := func(i int, code string) func(b map[string]any) {
		return set(i, "courseOfTherapyType", map[string]any{"coding": []any{map[string]any{
			"system": fhir.CodeSystemCourseOfTherapy, "code": code}}})
	}
	gmp := func(b map[string]any) {
		entryOf(b, 4)["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
		b["entry"] = append(b["entry"].([]any), map[string]any{"fullUrl": "urn:uuid:prac", "resource": map[string]any{
			"resourceType": "Practitioner", "identifier": []any{
				map[string]any{"system": fhir.SystemSDSUser, "value": "555086689106"},
				map[string]any{"system": fhir.SystemGMP, "value": "G1234567"}}}})
	}
	dosages := func(i int, d ...map[string]any) func(b map[string]any) {
		list := []any{}
		for _, x := range d {
			list = append(list, x)
		}
		return set(i, "dosageInstruction", list)
	}
	inconsistent := func(path, received string) fhir.Issue {
		return valueIssue("Expected all MedicationRequests to have the same value for "+path+". Received "+received+".", mrPath+"."+path)
	}
	missing := func(field string) fhir.Issue {
		return valueIssue("Expected MedicationRequest to have a value for "+field+".", mrPath+"."+field)
	}
	cases := []ruleCase{
		{"corpus course of therapy mixed", "/$process-message",
			corpusFile(t, "examples/errors/2-Process-Request-Send-400_Invalid_Course_of_Therapy_mixed.json"),
			corpusIssues(t, "examples/errors/2-Process-Response-Send-400_Invalid_Course_of_Therapy_mixed.json")},
		{"authoredOn on one item only", "/$process-message", order(set(2, "authoredOn", "2025-03-01T09:00:00+00:00")),
			[]fhir.Issue{inconsistent("authoredOn", `[null,"2025-03-01T09:00:00+00:00"]`)}},
		{"two requesters, two validity periods", "/$process-message", order(
			set(2, "requester", map[string]any{"reference": "urn:uuid:other"}),
			dispenseRequest(1, "validityPeriod", map[string]any{"start": "2025-03-02"})),
			[]fhir.Issue{
				inconsistent("requester", `[{"reference":"urn:uuid:0f6c3a1e-0000-4000-8000-000000000005"},{"reference":"urn:uuid:other"}]`),
				inconsistent("dispenseRequest.validityPeriod", `[{"start":"2025-03-02"},{"end":"2025-08-31","start":"2025-03-01"}]`)}},
		{"requester named by gmp-number", "/$process-message", order(gmp), []fhir.Issue{{Severity: "error", Code: "value",
			Diagnostics: "Bundle resource Practitioner.identifier expected exactly one professional code from GMC|NMC|GPhC|HCPC|professional-code."}}},
		{"repeat dispensing without validity period and supply duration", "/$process-message", order(repeatDispensing,
			dispenseRequest(1, "validityPeriod", nil), dispenseRequest(1, "expectedSupplyDuration", nil),
			dispenseRequest(2, "validityPeriod", nil), dispenseRequest(2, "expectedSupplyDuration", nil)),
			[]fhir.Issue{missing("dispenseRequest.validityPeriod"), missing("dispenseRequest.expectedSupplyDuration")}},
		{"repeat dispensing items of different repeats", "/$process-message", order(repeatDispensing,
			dispenseRequest(2, "numberOfRepeatsAllowed", 5)),
			[]fhir.Issue{inconsistent("dispenseRequest.numberOfRepeatsAllowed", "[2,5]")}},
		{"item on hold", "/$process-message", order(set(2, "status", "on-hold")),
			[]fhir.Issue{valueIssue("MedicationRequest.status must be active.", mrPath+".status")}},
		{"one line item id twice", "/$process-message", editFixture(t, "prescription-order.json",
			newRx(t, 40, "FH542").repl(map[string]string{"ITEM2": newRx(t, 40, "FH542").item1}), nil),
			[]fhir.Issue{valueIssue("Expected all MedicationRequests to have a different value for identifier.", mrPath+".identifier")}},
		{"item without dosage instructions", "/$process-message", order(dosages(1)),
			[]fhir.Issue{missingFieldIssue("dosageInstructions")}},
		{"two dosage instructions, one without sequence", "/$process-message",
			order(dosages(2, map[string]any{"text": "one", "sequence": 1}, map[string]any{"text": "two"})),
			[]fhir.Issue{{Severity: "error", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{Code: "MISSING_VALUE",
				Display: "The request contains multiple dosage instruction lines but no corresponding dosage sequence number."}}}}}},
		{"status and dosage: in EPS's order", "/$process-message", order(set(1, "status", "draft"), dosages(2)),
			[]fhir.Issue{valueIssue("MedicationRequest.status must be active.", mrPath+".status"), missingFieldIssue("dosageInstructions")}},
		{"taken: plain", "/$process-message", order(), nil},
		{"taken: acute and continuous mixed", "/$process-message", order(course(1, "acute"), course(2, courseContinuous)), nil},
		{"taken: two sequenced dosage instructions", "/$process-message",
			order(dosages(2, map[string]any{"text": "one", "sequence": 1}, map[string]any{"text": "two", "sequence": 2})), nil},
		{"taken: repeat dispensing", "/$process-message", order(repeatDispensing), nil},
	}
	runRuleCases(t, api, cases)
}

// TestDispenseRulesAsEPS: the EPS API refuses, before it reaches Spine, a
// dispense notification whose MedicationDispenses disagree on when they
// were handed over, the patient or the repeat, or on their performer, one
// without a performer, one naming its medicine both ways, a performer
// role naming its Practitioner by reference, or a dispensing
// Organization without the reimbursement authority that pays it
// (bundle-validator.ts, verifyDispenseBundle); and its translation
// refuses items not dispensed for different reasons
// (dispense-notification.ts). Before, the simulator took each: the
// corpus's 3-Process-Request-Dispense-400_Invalid_Value was answered not
// found, as if EPS had asked Spine.
func TestDispenseRulesAsEPS(t *testing.T) {
	api, p, _ := releasedRx(t, 50)
	dispense := func(edits ...func(b map[string]any)) []byte {
		return editFixture(t, "dispense-notification.json", p.repl(map[string]string{"STATUS1": "0003", "STATUS2": "0004"}),
			func(b map[string]any) {
				for _, e := range edits {
					e(b)
				}
			})
	}
	set := func(i int, field string, v any) func(b map[string]any) {
		return func(b map[string]any) { entryOf(b, i)[field] = v }
	}
	nonDispensing := func(i int, code string) func(b map[string]any) {
		return func(b map[string]any) {
			entryOf(b, i)["extension"] = append(entryOf(b, i)["extension"].([]any), map[string]any{"url": extPrescriptionNonDispensing,
				"valueCoding": map[string]any{"system": "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason", "code": code}})
		}
	}
	containedRole := func(b map[string]any, i int) map[string]any {
		return entryOf(b, i)["contained"].([]any)[0].(map[string]any)
	}
	org := func(b map[string]any) map[string]any { return entryOf(b, 3) }
	inconsistent := func(field, received string) fhir.Issue {
		return valueIssue("Expected all MedicationDispenses to have the same value for "+field+". Received "+received+".", mdPath+"."+field)
	}
	invalid := func(diagnostics string) fhir.Issue {
		return fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: diagnostics}
	}
	cases := []ruleCase{
		{"corpus non-dispensing reasons differ", "/$process-message",
			corpusFile(t, "examples/errors/3-Process-Request-Dispense-400_Invalid_Value.json"),
			corpusIssues(t, "examples/errors/3-Process-Response-Dispense-400_Invalid_Value.json")},
		{"non-dispensing reasons differ", "/$process-message", dispense(nonDispensing(1, "0001"), nonDispensing(2, "0002")),
			corpusIssues(t, "examples/errors/3-Process-Response-Dispense-400_Invalid_Value.json")},
		{"handed over at two times", "/$process-message", dispense(set(1, "whenHandedOver", "2025-03-01T10:00:00+00:00"),
			set(2, "whenHandedOver", "2025-03-01T11:00:00+00:00")),
			[]fhir.Issue{inconsistent("whenHandedOver", `["2025-03-01T10:00:00+00:00","2025-03-01T11:00:00+00:00"]`)}},
		{"two patients", "/$process-message", dispense(
			set(1, "subject", map[string]any{"identifier": map[string]any{"system": fhir.SystemNHSNumber, "value": "9449304130"}}),
			set(2, "subject", map[string]any{"identifier": map[string]any{"system": fhir.SystemNHSNumber, "value": "9449310394"}})),
			[]fhir.Issue{inconsistent("subject.identifier.value", `["9449304130","9449310394"]`)}},
		{"two performers", "/$process-message", dispense(func(b map[string]any) {
			other := map[string]any{}
			for k, v := range containedRole(b, 2) {
				other[k] = v
			}
			other["id"] = "other"
			entryOf(b, 2)["contained"] = append(entryOf(b, 2)["contained"].([]any), other)
			set(2, "performer", []any{map[string]any{"actor": map[string]any{"reference": "#other"}}})(b)
		}), []fhir.Issue{inconsistent("performer", `[{"reference":"#performer"},{"reference":"#other"}]`)}},
		{"an item of no performer", "/$process-message", dispense(set(2, "performer", []any{})),
			[]fhir.Issue{valueIssue("Expected MedicationDispense to have a value for performer.ofType(PractitionerRole).",
				mdPath+".performer.ofType(PractitionerRole)")}},
		{"medication both ways", "/$process-message", dispense(
			set(1, "medicationCodeableConcept", map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "39720311000001101"}}}),
			set(1, "medicationReference", map[string]any{"reference": "urn:uuid:med"})),
			[]fhir.Issue{conflictingMedicationIssue("Dispense")}},
		{"performer's practitioner by reference", "/$process-message", dispense(func(b map[string]any) {
			containedRole(b, 1)["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
		}), []fhir.Issue{invalid(`Bundle.entry("PractitionerRole").practitioner populated incorrectly. Please populate with Identifier and Display.`)}},
		{"no reimbursement authority", "/$process-message", dispense(func(b map[string]any) { delete(org(b), "extension") }),
			[]fhir.Issue{invalid("The dispense notification is missing the reimbursement authority and it should be provided.")}},
		{"relationships without the authority's ODS code", "/$process-message", dispense(func(b map[string]any) {
			org(b)["extension"] = []any{map[string]any{"url": extOrganisationRelationships, "extension": []any{}}}
		}), []fhir.Issue{invalid("The dispense notification is missing the ODS code for reimbursement authority and it should be provided.")}},
		{"taken: one reason for both", "/$process-message", dispense(nonDispensing(1, "0001"), nonDispensing(2, "0001"),
			func(b map[string]any) { b["identifier"].(map[string]any)["value"] = "d-taken" }), nil},
	}
	runRuleCases(t, api, cases)
	// Without a performer list at all, EPS fails (m.performer.map).
	do(t, http.MethodPost, api+"/$process-message", dispense(func(b map[string]any) {
		delete(entryOf(b, 2), "performer")
		entryOf(b, 1)["whenHandedOver"] = "2025-03-01T10:00:00+00:00" // not reported: EPS fails first
	}), nil).wantIssuesStatus(t, http.StatusInternalServerError, serverErrorIssue())
}

// TestClaimRulesAsEPS: the EPS API refuses, before it reaches Spine, a
// Claim without exactly one insurance, one naming a reimbursement
// authority other than T1450 (NHSBSA) or RQFZ1 (NWSSP), one whose
// provider role names its Practitioner by reference, and one without an
// endorsement code (claim-validator.ts, verifyClaim). Before, the
// simulator took each (200).
func TestClaimRulesAsEPS(t *testing.T) {
	api, p, post := releasedRx(t, 60)
	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001"}).
		want(t, http.StatusOK, "informational")
	claim := func(edit func(c map[string]any)) []byte {
		return editFixture(t, "claim.json", p.repl(nil), edit)
	}
	insurer := func(code string) func(c map[string]any) {
		return func(c map[string]any) {
			c["insurance"] = []any{map[string]any{"sequence": 1, "focal": true, "coverage": map[string]any{
				"identifier": map[string]any{"system": fhir.SystemODS, "value": code}}}}
		}
	}
	detail := func(c map[string]any) map[string]any {
		return c["item"].([]any)[0].(map[string]any)["detail"].([]any)[0].(map[string]any)
	}
	invalid := func(diagnostics string) fhir.Issue {
		return fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: diagnostics}
	}
	noEndorsement := invalid("The claim is missing the required endorsement code.")
	cases := []ruleCase{
		{"no insurance", "/Claim", claim(func(c map[string]any) { delete(c, "insurance") }),
			[]fhir.Issue{invalid("Expected 1 item(s) in Claim.insurance, but received 0.")}},
		{"two insurances", "/Claim", claim(func(c map[string]any) { c["insurance"] = append(c["insurance"].([]any), c["insurance"].([]any)[0]) }),
			[]fhir.Issue{invalid("Expected 1 item(s) in Claim.insurance, but received 2.")}},
		{"unknown authority", "/Claim", claim(insurer("Y12345")),
			[]fhir.Issue{valueIssue("Claim.insurance[0].coverage.identifier.value must be one of: 'T1450', 'RQFZ1'.",
				"Claim.insurance[0].coverage.identifier.value")}},
		{"provider's practitioner by reference", "/Claim", claim(func(c map[string]any) {
			c["contained"] = append(c["contained"].([]any), map[string]any{"resourceType": "PractitionerRole", "id": "provider",
				"practitioner": map[string]any{"reference": "urn:uuid:prac"}, "organization": map[string]any{"reference": "#organisation"}})
			c["provider"] = map[string]any{"reference": "#provider"}
		}), []fhir.Issue{invalid(`Parameters.parameter("agent").resource.practitioner populated incorrectly. Please populate with Identifier and Display.`)}},
		{"no endorsement", "/Claim", claim(func(c map[string]any) { delete(detail(c), "programCode") }), []fhir.Issue{noEndorsement}},
		{"first coded line item not endorsed", "/Claim", claim(func(c map[string]any) {
			detail(c)["programCode"] = []any{map[string]any{"coding": []any{map[string]any{
				"system": "https://fhir.nhs.uk/CodeSystem/DM-prescription-charge", "code": "0001"}}}}
		}), []fhir.Issue{noEndorsement}},
		{"authority and endorsement: in EPS's order", "/Claim", claim(func(c map[string]any) {
			insurer("X")(c)
			delete(c, "item")
		}), []fhir.Issue{valueIssue("Claim.insurance[0].coverage.identifier.value must be one of: 'T1450', 'RQFZ1'.",
			"Claim.insurance[0].coverage.identifier.value"), noEndorsement}},
		{"taken: NWSSP", "/Claim", claim(insurer("RQFZ1")), nil},
	}
	runRuleCases(t, api, cases)
}

// TestTaskRequesterAsEPS: the EPS API refuses a return or withdrawal
// Task whose requester is not a reference to a contained
// PractitionerRole (it throws: that fatal issue is the whole answer),
// one whose role names its Practitioner by reference (task-validator.ts,
// verifyTask), and a withdrawal whose role does not name its
// Organization by a reference to a contained one (withdraw.ts), which
// its v3 author needs. Before, the simulator took each (200), finding the
// pharmacy in Task.owner.
func TestTaskRequesterAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 70, "FH542")
	post := poster(t, api, p)
	post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
	partlyDispense(t, post)
	task := func(fix string, edit func(task map[string]any)) []byte {
		return editFixture(t, fix, p.repl(map[string]string{"FOCUSID": "d1"}), edit)
	}
	role := func(task map[string]any) map[string]any { return task["contained"].([]any)[0].(map[string]any) }
	fatal := func(display, expression string) fhir.Issue {
		is := fhir.Issue{Severity: "fatal", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: codeSystemSpineErrorR4, Code: "INVALID_VALUE", Display: display}}}}
		if expression != "" {
			is.Expression = []string{expression}
		}
		return is
	}
	notReference := fatal("task.requester should be a reference to contained.practitionerRole", "task.requester")
	byIdentifier := map[string]any{"identifier": map[string]any{"system": fhir.SystemSDSRoleProfile, "value": "555086718101"}}
	serverError := []fhir.Issue{{Severity: "fatal", Code: "exception", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
		System: "https://fhir.nhs.uk/CodeSystem/http-error-codes", Code: "SERVER_ERROR",
		Display: "500: The Server has encountered an error processing the request."}}}}}
	// EPS fails on what it takes for granted (isReference of undefined).
	for name, body := range map[string][]byte{
		"withdrawal without requester":                task("withdraw.json", func(m map[string]any) { delete(m, "requester") }),
		"withdrawal whose role names no organisation": task("withdraw.json", func(m map[string]any) { delete(role(m), "organization") }),
	} {
		t.Run(name, func(t *testing.T) {
			do(t, http.MethodPost, api+"/Task", body, nil).wantIssuesStatus(t, http.StatusInternalServerError, serverError...)
		})
	}
	cases := []ruleCase{
		{"return with requester by identifier", "/Task", task("return.json", func(m map[string]any) { m["requester"] = byIdentifier }),
			[]fhir.Issue{notReference}},
		{"intent proposal, requester by identifier: the throw alone", "/Task", task("withdraw.json", func(m map[string]any) {
			m["intent"] = "proposal"
			m["requester"] = byIdentifier
		}), []fhir.Issue{notReference}},
		{"requester not contained", "/Task", task("withdraw.json", func(m map[string]any) { m["requester"] = map[string]any{"reference": "#nobody"} }),
			[]fhir.Issue{fatal("Contained resource with reference #nobody not found", "")}},
		{"requester's practitioner by reference", "/Task", task("return.json", func(m map[string]any) {
			role(m)["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
		}), []fhir.Issue{{Severity: "error", Code: "invalid",
			Diagnostics: `Task.contained("PractitionerRole").practitioner populated incorrectly. Please populate with Identifier and Display.`}}},
		{"withdrawal whose role names its organisation by identifier", "/Task", task("withdraw.json", func(m map[string]any) {
			role(m)["organization"] = map[string]any{"identifier": map[string]any{"system": fhir.SystemODS, "value": "FH542"}}
		}), []fhir.Issue{fatal("practitionerRole.organization should be a Reference", `task.contained("PractitionerRole").organization`)}},
		{"withdrawal whose organisation is not contained", "/Task", task("withdraw.json", func(m map[string]any) {
			role(m)["organization"] = map[string]any{"reference": "#gone"}
		}), []fhir.Issue{fatal("Contained resource with reference #gone not found", "")}},
		{"taken: withdrawal", "/Task", task("withdraw.json", nil), nil},
		{"taken: return whose role names no organisation", "/Task", task("return.json", func(m map[string]any) { delete(role(m), "organization") }), nil},
	}
	runRuleCases(t, api, cases)
}

// TestDispenserIdentifiersAsEPS: the EPS API reads the SDS ids of the
// role a release (agent), a Task (requester) or a Claim (provider) names
// its dispenser by, and of each PractitionerRole of a $process-message
// Bundle, to compare them with the access token's
// (parameters-validator.ts, task-validator.ts, claim-validator.ts,
// bundle-validator.ts): a Practitioner named by identifier must be named
// by one sds-user-id, and a role's identifiers must hold one
// sds-role-profile-id; else it throws, and answers one fatal issue
// (TOO_FEW_VALUES_SUBMITTED, TOO_MANY_VALUES_SUBMITTED) naming where. A
// release's agent naming its Practitioner by reference is refused beside
// the other issues. Before, the simulator took each.
func TestDispenserIdentifiersAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 80, "FH542")
	post := poster(t, api, p)
	post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
	fatal := func(code, system, where string) fhir.Issue {
		n := "few"
		if code == "TOO_MANY_VALUES_SUBMITTED" {
			n = "many"
		}
		is := fhir.Issue{Severity: "fatal", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: codeSystemSpineErrorR4, Code: code,
			Display: "Too " + n + " values submitted. Expected 1 element where system == '" + system + "'."}}}}
		is.Expression = []string{where}
		return is
	}
	gmc := map[string]any{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C6095103"}
	roleProfile := map[string]any{"system": fhir.SystemSDSRoleProfile, "value": "555086718101"}
	sdsUser := map[string]any{"identifier": map[string]any{"system": fhir.SystemSDSUser, "value": "3415870201"}}
	agent := func(edit func(role map[string]any)) []byte {
		return editFixture(t, "release-nominated.json", p.repl(nil), func(prm map[string]any) {
			edit(prm["parameter"].([]any)[1].(map[string]any)["resource"].(map[string]any))
		})
	}
	cases := []ruleCase{
		{"release agent's practitioner by GMC number", "/Task/$release", agent(func(r map[string]any) {
			r["practitioner"] = map[string]any{"identifier": gmc}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", fhir.SystemSDSUser, `parameters.parameter("PractitionerRole").practitioner.identifier`)}},
		{"release agent's role without its role profile id", "/Task/$release", agent(func(r map[string]any) {
			r["identifier"] = []any{gmc}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", fhir.SystemSDSRoleProfile, `parameters.parameter("PractitionerRole").identifier`)}},
		{"release agent's practitioner by reference", "/Task/$release", agent(func(r map[string]any) {
			r["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
		}), []fhir.Issue{{Severity: "error", Code: "invalid",
			Diagnostics: `Parameters.parameter("agent").resource.practitioner populated incorrectly. Please populate with Identifier and Display.`}}},
		{"return requester by GMC number", "/Task", editFixture(t, "return.json", p.repl(nil), func(m map[string]any) {
			m["contained"].([]any)[0].(map[string]any)["practitioner"] = map[string]any{"identifier": gmc}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", fhir.SystemSDSUser, `task.contained("PractitionerRole").practitioner.identifier`)}},
		{"claim provider of two role profile ids", "/Claim", editFixture(t, "claim.json", p.repl(nil), func(c map[string]any) {
			c["contained"] = append(c["contained"].([]any), map[string]any{"resourceType": "PractitionerRole", "id": "provider",
				"identifier": []any{roleProfile, roleProfile}, "organization": map[string]any{"reference": "#organisation"}})
			c["provider"] = map[string]any{"reference": "#provider"}
		}), []fhir.Issue{fatal("TOO_MANY_VALUES_SUBMITTED", fhir.SystemSDSRoleProfile, `claim.contained("PractitionerRole").identifier`)}},
		{"prescriber role without its role profile id", "/$process-message", editFixture(t, "prescription-order.json", newRx(t, 81, "FH542").repl(nil),
			func(b map[string]any) { entryOf(b, 4)["identifier"] = []any{gmc} }),
			[]fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", fhir.SystemSDSRoleProfile, `Bundle.entry("PractitionerRole").identifier`)}},
		{"taken: release agent with its SDS ids", "/Task/$release", agent(func(r map[string]any) {
			r["identifier"] = []any{roleProfile}
			r["practitioner"] = sdsUser
		}), nil},
	}
	runRuleCases(t, api, cases)
}

// TestRoleReferencesAsEPS: the EPS API refuses a $process-message Bundle
// a PractitionerRole of which names its practitioner other than by a
// reference to a Bundle entry (a responsible party's role: by reference
// or by identifier, not both), or its organization or a
// healthcareService other than by reference (bundle-validator.ts,
// validatePractitionerRole; a prescription's requester's organization
// twice, as verifyPrescriptionBundle checks it again). Before, the
// simulator took each (200).
func TestRoleReferencesAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	n := uint32(90)
	order := func(edit func(b map[string]any)) []byte {
		n++
		return editFixture(t, "prescription-order.json", newRx(t, n, "FH542").repl(nil), edit)
	}
	sdsUser := map[string]any{"system": fhir.SystemSDSUser, "value": "3415870201"}
	// withResponsible adds a responsible party's role naming its
	// practitioner by practitioner (a Reference, as JSON).
	withResponsible := func(practitioner map[string]any) func(b map[string]any) {
		return func(b map[string]any) {
			for _, i := range []int{1, 2} {
				entryOf(b, i)["extension"] = []any{map[string]any{"url": extResponsible, "valueReference": map[string]any{"reference": "urn:uuid:role-rp"}}}
			}
			b["entry"] = append(b["entry"].([]any),
				map[string]any{"fullUrl": "urn:uuid:role-rp", "resource": map[string]any{"resourceType": "PractitionerRole",
					"identifier":   []any{map[string]any{"system": fhir.SystemSDSRoleProfile, "value": "200102238987"}},
					"practitioner": practitioner, "organization": map[string]any{"reference": "urn:uuid:0f6c3a1e-0000-4000-8000-000000000006"},
					"telecom": []any{map[string]any{"system": "phone", "use": "work", "value": "01234567890"}}}},
				map[string]any{"fullUrl": "urn:uuid:prac-rp", "resource": map[string]any{"resourceType": "Practitioner",
					"identifier": []any{sdsUser}}})
		}
	}
	wanted := func(path string) fhir.Issue {
		return fhir.Issue{Severity: "error", Code: "invalid",
			Diagnostics: path + " populated incorrectly. Please populate with Reference to resource within Bundle."}
	}
	cases := []ruleCase{
		{"requester's practitioner by identifier", "/$process-message", order(func(b map[string]any) {
			entryOf(b, 4)["practitioner"] = map[string]any{"identifier": sdsUser}
		}), []fhir.Issue{wanted("practitionerRole.practitioner")}},
		{"responsible party's practitioner both ways", "/$process-message", order(withResponsible(map[string]any{
			"reference": "urn:uuid:prac-rp", "identifier": sdsUser})),
			[]fhir.Issue{{Severity: "error", Code: "invalid",
				Diagnostics: "Responsible practitioner must be either a reference to a Practitioner resource or an identifier reference."}}},
		{"requester's organization by identifier: twice", "/$process-message", order(func(b map[string]any) {
			entryOf(b, 4)["organization"] = map[string]any{"identifier": map[string]any{"system": fhir.SystemODS, "value": "A83008"}}
		}), []fhir.Issue{wanted("practitionerRole.organization"), wanted("practitionerRole.organization")}},
		{"healthcare service by identifier", "/$process-message", order(func(b map[string]any) {
			entryOf(b, 4)["healthcareService"] = []any{map[string]any{"reference": "urn:uuid:hs"},
				map[string]any{"identifier": map[string]any{"system": fhir.SystemODS, "value": "A99968"}}}
		}), []fhir.Issue{wanted("practitionerRole.healthcareService[1]")}},
		{"taken: responsible party's practitioner by identifier", "/$process-message", order(withResponsible(map[string]any{"identifier": sdsUser})), nil},
		{"taken: responsible party's practitioner by reference", "/$process-message", order(withResponsible(map[string]any{"reference": "urn:uuid:prac-rp"})), nil},
	}
	runRuleCases(t, api, cases)
}

// TestMessageEventAsEPS: the EPS API answers a $process-message Bundle of
// an event it does not take with one fatal issue naming the three it
// takes, before any other check (bundle-validator.ts, messageTypeIssue).
// Before, the simulator answered an INVALID_VALUE error of its own
// wording ("unsupported MessageHeader.eventCoding ...").
func TestMessageEventAsEPS(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 100, "FH542")
	event := func(code string) []byte {
		return editFixture(t, "prescription-order.json", p.repl(nil), func(b map[string]any) {
			entryOf(b, 0)["eventCoding"].(map[string]any)["code"] = code
			entryOf(b, 1)["intent"] = "plan" // checked after the event: not reported
		})
	}
	wrongEvent := fhir.Issue{Severity: "fatal", Code: "value",
		Diagnostics: "MessageHeader.eventCoding.code must be one of: prescription-order, prescription-order-update, dispense-notification.",
		Expression:  []string{"Bundle.entry.resource.ofType(MessageHeader).eventCoding.code"}}
	runRuleCases(t, api, []ruleCase{
		{"prescription-order-response", "/$process-message", event("prescription-order-response"), []fhir.Issue{wrongEvent}},
		{"porxgate's rebuild dispense history", "/$process-message", event("rebuild-dispense-history"), []fhir.Issue{wrongEvent}},
	})
}

// TestDispenseStatusesAsEPS: the EPS API's translation of a dispense
// notification reads with onlyElement each MedicationDispense's
// prescription-dispense-item-number, the first's prescription status
// (Extension-EPS-TaskBusinessStatus) and each one's item status (its one
// medicationdispense-type coding), and throws without exactly one
// (dispense-notification.ts): one fatal issue. Before, the simulator took
// a notification without a prescription status, or with two dispense
// item numbers (its own check of the item status answered in its own
// words).
func TestDispenseStatusesAsEPS(t *testing.T) {
	api, p, _ := releasedRx(t, 110)
	dispense := func(edit func(b map[string]any)) []byte {
		return editFixture(t, "dispense-notification.json", p.repl(map[string]string{"STATUS1": "0001", "STATUS2": "0001"}), edit)
	}
	fatal := func(code, display, at string) fhir.Issue {
		return fhir.Issue{Severity: "fatal", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: codeSystemSpineErrorR4, Code: code, Display: display}}}, Expression: []string{at}}
	}
	cases := []ruleCase{
		{"no prescription status, no extension", "/$process-message", dispense(func(b map[string]any) { delete(entryOf(b, 1), "extension") }),
			[]fhir.Issue{fatal("INVALID_VALUE", "Required field missing.", "MedicationDispense.extension")}},
		{"no prescription status", "/$process-message", dispense(func(b map[string]any) {
			entryOf(b, 1)["extension"] = []any{map[string]any{"url": extPrescriptionNonDispensing, "valueCoding": map[string]any{"code": "0001"}}}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Too few values submitted. Expected 1 element where url == '"+extTaskBusinessStatus+"'.",
			"MedicationDispense.extension")}},
		{"item status in another system", "/$process-message", dispense(func(b map[string]any) {
			entryOf(b, 2)["type"] = map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "FF"}}}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Too few values submitted. Expected 1 element where system == '"+
			fhir.CodeSystemMedicationDispenseType+"'.", "MedicationDispense.type.coding")}},
		{"two dispense item numbers", "/$process-message", dispense(func(b map[string]any) {
			ids := entryOf(b, 2)["identifier"].([]any)
			entryOf(b, 2)["identifier"] = append(ids, ids[0])
		}), []fhir.Issue{fatal("TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element where system == '"+
			fhir.SystemDispenseItemID+"'.", "MedicationDispense.identifier")}},
		{"taken: the prescription status on the first only", "/$process-message", dispense(func(b map[string]any) { delete(entryOf(b, 2), "extension") }), nil},
	}
	runRuleCases(t, api, cases)
}

// TestMessageIDsAsEPS: the EPS API's translation reads every message's
// id first, the one identifier of system rfc4122 (getMessageId:
// Bundle.identifier, Task.identifier, Claim.identifier), and a
// withdrawal's focus, the notification it withdraws, likewise; it throws
// without exactly one: one fatal issue naming where. Before, the
// simulator took such messages, keeping their ids for its duplicate
// check whatever their system.
func TestMessageIDsAsEPS(t *testing.T) {
	api, p, post := releasedRx(t, 120)
	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0003", "STATUS2": "0004", "MESSAGEID": "d1"}).
		want(t, http.StatusOK, "informational")
	fatal := func(code, at string) fhir.Issue {
		n := "few"
		if code == "TOO_MANY_VALUES_SUBMITTED" {
			n = "many"
		}
		return fhir.Issue{Severity: "fatal", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: codeSystemSpineErrorR4, Code: code,
			Display: "Too " + n + " values submitted. Expected 1 element where system == '" + fhir.SystemRFC4122 + "'."}}},
			Expression: []string{at}}
	}
	otherSystem := map[string]any{"system": "https://fhir.nhs.uk/Id/prescription", "value": "5a0c9a3e-5b0e-4d4a-9a58-0d4e0c0b1f11"}
	cases := []ruleCase{
		{"prescription-order id of another system", "/$process-message", editFixture(t, "prescription-order.json", newRx(t, 121, "FH542").repl(nil),
			func(b map[string]any) { b["identifier"] = otherSystem }), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Bundle.identifier")}},
		{"dispense notification id of another system", "/$process-message", editFixture(t, "dispense-notification.json",
			p.repl(map[string]string{"STATUS1": "0001", "STATUS2": "0001"}), func(b map[string]any) { b["identifier"] = otherSystem }),
			[]fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Bundle.identifier")}},
		{"return id of another system", "/Task", editFixture(t, "return.json", p.repl(nil), func(m map[string]any) {
			m["identifier"] = []any{otherSystem}
		}), []fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Task.identifier")}},
		{"withdrawal of a notification named in another system", "/Task", editFixture(t, "withdraw.json", p.repl(map[string]string{"FOCUSID": "d1"}),
			func(m map[string]any) { m["focus"].(map[string]any)["identifier"] = otherSystem }),
			[]fhir.Issue{fatal("TOO_FEW_VALUES_SUBMITTED", "Task.focus.identifier")}},
		{"claim of two ids", "/Claim", editFixture(t, "claim.json", p.repl(nil), func(c map[string]any) {
			ids := c["identifier"].([]any)
			c["identifier"] = append(ids, map[string]any{"system": fhir.SystemRFC4122, "value": "c0000000-0000-4000-8000-000000000002"})
		}), []fhir.Issue{fatal("TOO_MANY_VALUES_SUBMITTED", "Claim.identifier")}},
		{"taken: withdrawal of d1", "/Task", fixture(t, "withdraw.json", p.repl(map[string]string{"FOCUSID": "d1"})), nil},
	}
	runRuleCases(t, api, cases)
}
