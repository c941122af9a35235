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
			a.wantIssues(t, tc.want...)
		})
	}
}

// wantIssues fails t unless a is a 400 OperationOutcome of exactly these
// issues, in this order.
func (a answer) wantIssues(t *testing.T, want ...fhir.Issue) {
	t.Helper()
	var got struct {
		ResourceType string       `json:"resourceType"`
		Issue        []fhir.Issue `json:"issue"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("answer %d does not decode: %v: %s", a.status, err, a.body)
	}
	if a.status != http.StatusBadRequest || got.ResourceType != "OperationOutcome" || !reflect.DeepEqual(got.Issue, want) {
		w, _ := json.Marshal(want)
		t.Fatalf("answer %d: %s\nwant 400 with issues %s", a.status, a.body, w)
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
