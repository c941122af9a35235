package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// consistencyCheck is one consistency check the simulator makes: paths
// compared across the entries of resourceType.
type consistencyCheck struct {
	resourceType string
	paths        []string
}

// consistencyChecks are the consistency checks the simulator makes.
var consistencyChecks = []consistencyCheck{
	{"MedicationRequest", prescriptionConsistentPaths},
	{"MedicationRequest", []string{"dispenseRequest.numberOfRepeatsAllowed", `extension("` + extUKCoreRepeatInformation + `")`}},
	{"MedicationDispense", []string{"whenHandedOver", "subject.identifier.value", `extension("` + extEPSRepeatInformation + `")`}},
}

// sameConsistencyAnswers fails t unless the consistency checks answer
// body the quick way (consistencyIssues, pathIssue) as they answer it
// decoding (consistencyIssuesDecoded, inconsistentIssue).
func sameConsistencyAnswers(t testing.TB, body []byte) {
	t.Helper()
	for _, c := range consistencyChecks {
		got := consistencyIssues(&message{body: body}, c.resourceType, c.paths)
		want := consistencyIssuesDecoded(&message{body: body}, c.resourceType, c.paths)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q: quick %+v, decoded %+v", c.resourceType, c.paths, got, want)
		}
	}
	for _, rt := range []string{"MedicationRequest", "MedicationDispense"} {
		if fewerThanTwo(body, rt) {
			if n := len(rawEntriesOf(&message{body: body}, rt)); n >= 2 {
				t.Fatalf("fewerThanTwo(%s), but encoding/json reads %d of them", rt, n)
			}
			if s := scanEntries(body); s.ok && s.count(rt) >= 2 {
				t.Fatalf("fewerThanTwo(%s), but the scan reads %d of them", rt, s.count(rt))
			}
		}
		got := pathIssue(&message{body: body}, rt, "performer", "performer.actor")
		want := inconsistentIssue(rt, "performer", fhirPathValues(rawEntriesOf(&message{body: body}, rt), "performer.actor"))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s performer.actor: quick %+v, decoded %+v", rt, got, want)
		}
	}
}

// twoRequests is a Bundle of two MedicationRequests written as given.
func twoRequests(mr1, mr2 string) []byte {
	return []byte(`{"resourceType":"Bundle","type":"message","entry":[` +
		`{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader"}},` +
		`{"fullUrl":"urn:uuid:2","resource":{"resourceType":"MedicationRequest",` + mr1 + `}},` +
		`{"fullUrl":"urn:uuid:3","resource":{"resourceType":"MedicationRequest",` + mr2 + `}}]}`)
}

// TestConsistencyQuickWay: the quick way finds values written alike
// without decoding, and answers everything else as the decoding does:
// values written differently (alike or not), arrays flattened, missing
// and null values, JSON the scan does not read as encoding/json reads it.
func TestConsistencyQuickWay(t *testing.T) {
	const ext = `"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType","valueCoding":{"code":"0101"}}]`
	cases := []struct {
		name   string
		body   []byte
		quick  bool // answered without decoding (quicklyConsistent)
		issues int  // the issues of prescriptionConsistentPaths
	}{
		{"written alike", twoRequests(`"subject":{"reference":"a"},`+ext, `"subject":{"reference":"a"},`+ext), true, 0},
		{"keys in another order", twoRequests(`"subject":{"reference":"a","display":"x"}`, `"subject":{"display":"x","reference":"a"}`), false, 0},
		{"other white space", twoRequests(`"subject":{"reference":"a"}`, `"subject": { "reference" : "a" }`), false, 0},
		{"different", twoRequests(`"subject":{"reference":"a"}`, `"subject":{"reference":"b"}`), false, 1},
		{"number written otherwise", twoRequests(`"authoredOn":1`, `"authoredOn":1.0`), false, 1},
		{"arrays flattened", twoRequests(`"category":[{"text":"a"},{"text":"b"}]`, `"category":[{"text":"a"},{"text":"b"}]`), false, 1},
		{"empty arrays", twoRequests(`"category":[]`, `"category":[]`), true, 0},
		{"missing and null", twoRequests(`"authoredOn":null`, `"status":"active"`), false, 1},
		{"null on the way", twoRequests(`"dispenseRequest":null`, `"status":"active"`), true, 0},
		{"not an object on the way", twoRequests(`"dispenseRequest":[1,{"performer":"x"}]`, `"dispenseRequest":{"performer":"x"}`), false, 1},
		{"extension of other url", twoRequests(`"extension":[{"url":"x"}]`, `"extension":["s",{"url":5},null]`), true, 0},
		{"extension url escaped", twoRequests(ext, strings.Replace(ext, "Type", `Typ\u0065`, 1)), false, 0},
		{"extension URL", twoRequests(ext, strings.Replace(ext, `"url"`, `"URL"`, 1)), false, 1},
		{"extension url twice", twoRequests(ext, strings.Replace(ext, `"url"`, `"url":"x","url"`, 1)), false, 0},
		{"extension not a list", twoRequests(`"extension":{"url":"x"}`, `"status":"active"`), true, 0},
		{"name escaped", twoRequests(`"subject":{"reference":"a"}`, `"subj\u0065ct":{"reference":"b"}`), false, 1},
		{"name given twice", twoRequests(`"subject":{"reference":"a"}`, `"subject":{"reference":"a"},"subject":{"reference":"b"}`), false, 1},
		{"resourceType escaped", []byte(strings.Replace(string(twoRequests(`"subject":1`, `"subject":2`)),
			`"MedicationRequest"`, `"MedicationReques\u0074"`, 1)), false, 1},
		{"one request", []byte(`{"entry":[{"resource":{"resourceType":"MedicationRequest","category":[{"text":"a"},{"text":"b"}]}}]}`), true, 0},
		{"Entry", []byte(strings.Replace(string(twoRequests(`"subject":1`, `"subject":2`)), `"entry"`, `"Entry"`, 1)), false, 1},
		{"entry twice", []byte(strings.Replace(string(twoRequests(`"subject":1`, `"subject":2`)), `"entry"`, `"entry":[],"entry"`, 1)), false, 1},
		{"not JSON to encoding/json", twoRequests(`"x":[1,],"subject":1`, `"subject":2`), false, 0},
		{"no entries", []byte(`{"resourceType":"Bundle"}`), true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sameConsistencyAnswers(t, tc.body)
			m := &message{body: tc.body}
			quick := quicklyConsistent(m, "MedicationRequest", prescriptionConsistentPaths)
			if quick != tc.quick {
				t.Errorf("answered without decoding: %v, want %v", quick, tc.quick)
			}
			if got := consistencyIssues(m, "MedicationRequest", prescriptionConsistentPaths); len(got) != tc.issues {
				t.Errorf("%d issues, want %d: %+v", len(got), tc.issues, got)
			}
		})
	}
}

// TestConsistencyQuickWayOnFixtures: the messages the tests send are
// answered without decoding, as the decoding answers them.
func TestConsistencyQuickWayOnFixtures(t *testing.T) {
	p := newRx(t, 1, "FH542")
	for _, name := range []string{"prescription-order.json", "dispense-notification.json", "cancel.json"} {
		body := fixture(t, name, p.repl(map[string]string{"STATUS1": "0001", "STATUS2": "0001"}))
		sameConsistencyAnswers(t, body)
		m := &message{body: body}
		for _, c := range consistencyChecks {
			for _, path := range c.paths {
				if !alikeAlong(m, c.resourceType, path) {
					t.Errorf("%s: %s %s decoded", name, c.resourceType, path)
				}
			}
		}
	}
}

// TestFewerThanTwo: the bound holds however the type is written, and is
// given up where an escape could spell it.
func TestFewerThanTwo(t *testing.T) {
	one := `{"resource":{"resourceType":"MedicationRequest"}}`
	cases := []struct {
		name string
		body string
		want bool
	}{
		{"none", `{"entry":[]}`, true},
		{"one", `{"entry":[` + one + `]}`, true},
		{"one, and named in a reference", `{"entry":[` + one + `,{"resource":{"basedOn":[{"reference":"MedicationRequest/1"}]}}]}`, true},
		{"two", `{"entry":[` + one + `,` + one + `]}`, false},
		{"one, and a longer name ending alike", `{"entry":[` + one + `,{"resource":{"code":"XMedicationRequest"}}]}`, true},
		{"one, and a backslash last", `{"entry":[` + one + `]}\`, true},
		{"one, and the name as another value", `{"entry":[` + one + `,{"resource":{"code":"MedicationRequest"}}]}`, false},
		{"one, and an escape elsewhere", `{"entry":[` + one + `,{"resource":{"text":"caf\u00e9"}}]}`, false},
		{"one written with an escape", `{"entry":[{"resource":{"resourceType":"Medication\u0052equest"}}]}`, false},
		{"an escaped backslash before u", `{"entry":[` + one + `,{"resource":{"text":"a\\u"}}]}`, false},
		{"name given twice in one entry", `{"entry":[{"resource":{"resourceType":"MedicationRequest","ResourceType":"MedicationRequest"}}]}`, false},
	}
	for _, tc := range cases {
		if got := fewerThanTwo([]byte(tc.body), "MedicationRequest"); got != tc.want {
			t.Errorf("%s: %t, want %t", tc.name, got, tc.want)
		}
		sameConsistencyAnswers(t, []byte(tc.body))
	}
}

// FuzzConsistencyIssues: the quick way answers any body as the decoding
// does.
func FuzzConsistencyIssues(f *testing.F) {
	f.Add(twoRequests(`"subject":{"reference":"a"}`, `"subject":{"reference":"b"}`))
	f.Add([]byte(`{"entry":[{"resource":{"resourceType":"MedicationDispense","performer":[{"actor":{"reference":"#a"}},{"actor":{"reference":"#b"}}]}}]}`))
	f.Add([]byte(`{"entry":[{"resource":{"resourceType":"MedicationRequest"}},{"resource":{"resourceType":"Medication\u0052equest"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sameConsistencyAnswers(t, body)
	})
}

// TestConsistencyQuickWayOnTheCorpus: every JSON message of the corpus
// and of the project's testdata/eps-fhir is answered the quick way as
// the decoding answers it, and the accepted ones without decoding.
func TestConsistencyQuickWayOnTheCorpus(t *testing.T) {
	bundles, quick := 0, 0
	for _, body := range jsonMessages(t, func(body []byte) bool {
		return bytes.Contains(body, []byte(`"MedicationRequest"`)) || bytes.Contains(body, []byte(`"MedicationDispense"`))
	}) {
		bundles++
		sameConsistencyAnswers(t, body)
		m := &message{body: body}
		if !slices.ContainsFunc(consistencyChecks, func(c consistencyCheck) bool { return !quicklyConsistent(m, c.resourceType, c.paths) }) {
			quick++
		}
	}
	if bundles < 100 {
		t.Fatalf("%d messages with MedicationRequests or MedicationDispenses, want at least 100", bundles)
	}
	t.Logf("%d messages, %d of them answered without decoding", bundles, quick)
}

// jsonMessages are the JSON files of the corpus and of the project's
// testdata/eps-fhir and testdata/prescribe that keep takes.
func jsonMessages(t *testing.T, keep func(body []byte) bool) [][]byte {
	t.Helper()
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") })
	for _, dir := range []string{"eps-fhir", "prescribe"} {
		own, _ := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.json"))
		files = append(files, own...)
	}
	var out [][]byte
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if keep(body) {
			out = append(out, body)
		}
	}
	return out
}
