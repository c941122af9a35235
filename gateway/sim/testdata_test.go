package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/ids"
)

// fixture reads testdata/name and replaces its upper-case tokens.
func fixture(t testing.TB, name string, repl map[string]string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	s := string(raw)
	// Longest tokens first, so that no token is a prefix problem.
	for _, k := range []string{"SHORTFORMID", "NHSNUMBER", "MESSAGEID", "REQUESTER", "PHARMACY", "REPLACES",
		"FOCUSID", "CLAIMID", "STATUS1", "STATUS2", "ITEM1", "ITEM2"} {
		if v, ok := repl[k]; ok {
			s = strings.ReplaceAll(s, k, v)
		}
	}
	return []byte(s)
}

// rx describes one test prescription.
type rx struct {
	sf, item1, item2, nhs, pharmacy string
}

func newRx(t testing.TB, n uint32, pharmacy string) rx {
	t.Helper()
	sf, err := MakeShortFormID(n, "A83008")
	if err != nil {
		t.Fatal(err)
	}
	return rx{
		sf:       sf,
		item1:    fmt.Sprintf("a0000000-0000-4000-8000-%012d", n*10+1),
		item2:    fmt.Sprintf("a0000000-0000-4000-8000-%012d", n*10+2),
		nhs:      "9449304130",
		pharmacy: pharmacy,
	}
}

// repl gives each message a fresh MESSAGEID, as a sender gives each
// message its own: EPS refuses one it took already (state_duplicate.go).
func (p rx) repl(extra map[string]string) map[string]string {
	m := map[string]string{"SHORTFORMID": p.sf, "ITEM1": p.item1, "ITEM2": p.item2, "NHSNUMBER": p.nhs,
		"PHARMACY": p.pharmacy, "MESSAGEID": ids.NewUUID(),
		"REQUESTER": "100102238986", "REPLACES": "", "FOCUSID": "", "CLAIMID": "c0000000-0000-4000-8000-000000000001"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// trackerTaskOver asks the simulator's tracker at api (its FHIR base) about
// prescription sf and returns the one Task it answers, as decoded JSON.
func trackerTaskOver(t *testing.T, api, sf string) map[string]any {
	t.Helper()
	a := do(t, http.MethodGet, api+"/Task?focus:identifier="+url.QueryEscape(fhir.SystemShortFormID+"|"+sf), nil, nil)
	a.want(t, http.StatusOK, "")
	entries, _ := a.json["entry"].([]any)
	if len(entries) != 1 {
		t.Fatalf("tracker answered %d Tasks for %s, want 1: %s", len(entries), sf, a.body)
	}
	return entries[0].(map[string]any)["resource"].(map[string]any)
}

// businessStatus returns a tracker Task's business status code.
func businessStatus(task map[string]any) string {
	return task["businessStatus"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
}

// itemStatuses returns a tracker Task's line item statuses, in item order.
func itemStatuses(task map[string]any) []string {
	var out []string
	for _, in := range task["input"].([]any) {
		info := in.(map[string]any)["extension"].([]any)[0].(map[string]any)["extension"].([]any)
		for _, e := range info {
			if c, ok := e.(map[string]any)["valueCoding"].(map[string]any); ok {
				out = append(out, c["code"].(string))
			}
		}
	}
	return out
}

// poster posts p's fixtures (with extra replacements) to the simulator at
// api, its FHIR base.
func poster(t *testing.T, api string, p rx) func(path, fix string, extra map[string]string) answer {
	return func(path, fix string, extra map[string]string) answer {
		t.Helper()
		return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
	}
}

// partlyDispense releases p, already stored, to its pharmacy by a
// nominated release and sends dispense notification d1: item 1 partly
// dispensed, item 2 owing.
func partlyDispense(t *testing.T, post func(path, fix string, extra map[string]string) answer) {
	t.Helper()
	post("/Task/$release", "release-nominated.json", nil).want(t, http.StatusOK, "")
	post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0003", "STATUS2": "0004", "MESSAGEID": "d1"}).
		want(t, http.StatusOK, "informational")
}

// editedFixture returns fixture name (tokens replaced by repl) with its
// Bundle entries changed by edit, which returns the entries to keep.
func editedFixture(t *testing.T, name string, repl map[string]string, edit func(entries []any) []any) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(fixture(t, name, repl), &b); err != nil {
		t.Fatal(err)
	}
	b["entry"] = edit(b["entry"].([]any))
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entryResource is the resource of entries[i], as decoded JSON.
func entryResource(entries []any, i int) map[string]any {
	return entries[i].(map[string]any)["resource"].(map[string]any)
}

// wantTranslationRefusal fails t unless a is the EPS API's answer to a
// message it could not translate: 400 and one fatal issue of code
// invalid, coded code (display) under codeSystemSpineErrorR4, at
// expression.
func (a answer) wantTranslationRefusal(t *testing.T, code, display, expression string) {
	t.Helper()
	issues, _ := a.json["issue"].([]any)
	if a.status != http.StatusBadRequest || len(issues) != 1 {
		t.Fatalf("answer %d with %d issues, want 400 with one: %s", a.status, len(issues), a.body)
	}
	raw, _ := json.Marshal(issues[0])
	var got struct {
		Severity, Code string
		Details        struct {
			Coding []struct{ System, Code, Display string }
		}
		Expression []string
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Severity != "fatal" || got.Code != "invalid" || len(got.Details.Coding) != 1 ||
		got.Details.Coding[0].System != codeSystemSpineErrorR4 || got.Details.Coding[0].Code != code ||
		got.Details.Coding[0].Display != display || len(got.Expression) != 1 || got.Expression[0] != expression {
		t.Fatalf("issue %s, want fatal/invalid %s %q at %s", raw, code, display, expression)
	}
}
