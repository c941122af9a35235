package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// shapeOrder is a prescription-order Bundle with an author (role A,
// practitioner X) and a responsible party (role B, practitioner Y).
func shapeOrder(profileB, codeY, spuriousB, validity string) []byte {
	roleB := fmt.Sprintf(`{"system":"https://fhir.nhs.uk/Id/sds-role-profile-id","value":%q}`, profileB)
	if spuriousB != "" {
		roleB += fmt.Sprintf(`,{"system":"https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code","value":%q}`, spuriousB)
	}
	dr := `{}`
	if validity != "" {
		dr = fmt.Sprintf(`{"validityPeriod":{"start":%q}}`, validity)
	}
	return []byte(fmt.Sprintf(`{"resourceType":"Bundle","type":"message","entry":[
{"fullUrl":"urn:uuid:mr","resource":{"resourceType":"MedicationRequest","requester":{"reference":"urn:uuid:A"},
 "extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner","valueReference":{"reference":"urn:uuid:B"}}],
 "dispenseRequest":%s}},
{"fullUrl":"urn:uuid:A","resource":{"resourceType":"PractitionerRole","identifier":[{"system":"https://fhir.nhs.uk/Id/sds-role-profile-id","value":"100102238986"}],
 "practitioner":{"reference":"urn:uuid:X"},"organization":{"reference":"urn:uuid:O"}}},
{"fullUrl":"urn:uuid:X","resource":{"resourceType":"Practitioner","identifier":[{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"555086415105"},{"system":"https://fhir.hl7.org.uk/Id/nmc-number","value":"12A3456B"}]}},
{"fullUrl":"urn:uuid:B","resource":{"resourceType":"PractitionerRole","identifier":[%s],"practitioner":{"reference":"urn:uuid:Y"},"organization":{"reference":"urn:uuid:O"}}},
{"fullUrl":"urn:uuid:Y","resource":{"resourceType":"Practitioner","identifier":[{"system":"https://fhir.hl7.org.uk/Id/gmc-number","value":%q}]}},
{"fullUrl":"urn:uuid:O","resource":{"resourceType":"Organization"}},
{"fullUrl":"urn:uuid:P","resource":{"resourceType":"Provenance","signature":[{"when":"2024-06-01T11:31:07+01:00"}]}}]}`, dr, roleB, codeY))
}

// shaped is epsReleaseShape of an encoded Bundle, encoded.
func shaped(t *testing.T, order []byte) []byte {
	t.Helper()
	var b jsonMap
	if err := json.Unmarshal(order, &b); err != nil {
		t.Fatal(err)
	}
	epsReleaseShape(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEPSReleaseShape: the simulator releases a prescription's people and
// date as the EPS API's release translation gives them.
func TestEPSReleaseShape(t *testing.T) {
	type ids = []string
	tests := []struct {
		name                string
		order               []byte
		entries             ids // fullUrls left, without urn:uuid:
		x, a, y, b          ids // identifiers: system's last segment|value
		responsible, update string
	}{
		{"one role profile: one role, the author's code then the responsible party's",
			shapeOrder("100102238986", "C1234567", "", ""),
			ids{"mr", "A", "X", "O", "P"},
			ids{"nmc-number|12A3456B", "professional-code|1234567"}, ids{"sds-role-profile-id|100102238986"}, nil, nil,
			"urn:uuid:A", "2024-06-01T10:31:07+00:00"},
		{"own roles: a spurious code on the role, the date from validityPeriod",
			shapeOrder("200102238987", "C1234567", "612345", "2024-06-03"),
			ids{"mr", "A", "X", "B", "Y", "O", "P"},
			ids{"nmc-number|12A3456B"}, ids{"sds-role-profile-id|100102238986"},
			nil, ids{"sds-role-profile-id|200102238987", "nhsbsa-spurious-code|612345"},
			"urn:uuid:B", "2024-06-03T00:00:00+00:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b struct {
				Meta  struct{ LastUpdated string }
				Entry []struct {
					FullURL  string
					Resource map[string]any
				}
			}
			if err := json.Unmarshal(shaped(t, tc.order), &b); err != nil {
				t.Fatal(err)
			}
			var urls ids
			res := map[string]map[string]any{}
			for _, e := range b.Entry {
				k := e.FullURL[len("urn:uuid:"):]
				urls = append(urls, k)
				res[k] = e.Resource
			}
			idsOf := func(k string) ids {
				var out ids
				list, _ := res[k]["identifier"].([]any)
				for _, id := range list {
					m := id.(map[string]any)
					out = append(out, lastSegment(m["system"].(string))+"|"+m["value"].(string))
				}
				return out
			}
			if !reflect.DeepEqual(urls, tc.entries) {
				t.Errorf("entries %v, want %v", urls, tc.entries)
			}
			for _, c := range []struct {
				k    string
				want ids
			}{{"X", tc.x}, {"A", tc.a}, {"Y", tc.y}, {"B", tc.b}} {
				if got := idsOf(c.k); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s identifiers %v, want %v", c.k, got, c.want)
				}
			}
			ext := res["mr"]["extension"].([]any)[0].(map[string]any)["valueReference"].(map[string]any)["reference"]
			if ext != tc.responsible {
				t.Errorf("responsible practitioner %v, want %s", ext, tc.responsible)
			}
			if b.Meta.LastUpdated != tc.update {
				t.Errorf("meta.lastUpdated %q, want %q", b.Meta.LastUpdated, tc.update)
			}
		})
	}
}

// lastSegment returns what follows a URL's last slash.
func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// TestCancelNamesTheDispenser: a cancellation of a prescription a dispenser
// holds answers, as the EPS API does, with dispenseRequest.performer naming
// the dispensing organisation and, through Extension-DM-DispensingPerformer,
// the PractitionerRole of the person who released it (from the release
// request's agent), its SDS user id a professional-code.
func TestCancelNamesTheDispenser(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := func(path string, body []byte) answer { return do(t, http.MethodPost, api+path, body, nil) }
	post("/$process-message", fixture(t, "prescription-order.json", p.repl(nil))).want(t, 200, "informational")
	agent := `{"name": "agent", "resource": {"resourceType": "PractitionerRole",
		"identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "700099900011"}],
		"practitioner": {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "700012312312"}, "display": "Pat Dispenser"},
		"telecom": [{"system": "phone", "use": "work", "value": "01130000009"}]}},
    {"name": "status", "valueCode": "accepted"}`
	rel := strings.Replace(string(fixture(t, "release-nominated.json", p.repl(nil))), `{"name": "status", "valueCode": "accepted"}`, agent, 1)
	post("/Task/$release", []byte(rel)).want(t, 200, "")
	ans := post("/$process-message", fixture(t, "cancel.json", p.repl(nil)))
	byURL := map[string]map[string]any{}
	var performer map[string]any
	for _, e := range ans.json["entry"].([]any) {
		em := e.(map[string]any)
		r := em["resource"].(map[string]any)
		byURL[em["fullUrl"].(string)] = r
		if r["resourceType"] == "MedicationRequest" {
			if dr, ok := r["dispenseRequest"].(map[string]any); ok {
				performer, _ = dr["performer"].(map[string]any)
			}
		}
	}
	if performer == nil || performer["display"] != "PORXGATE TEST "+p.pharmacy || performer["identifier"].(map[string]any)["value"] != p.pharmacy {
		t.Fatalf("performer %v; want the dispensing organisation\n%s", performer, ans.body)
	}
	ext := performer["extension"].([]any)[0].(map[string]any)
	role := byURL[ext["valueReference"].(map[string]any)["reference"].(string)]
	if role == nil {
		t.Fatalf("DispensingPerformer names no PractitionerRole of the Bundle: %v", ext)
	}
	prac := byURL[role["practitioner"].(map[string]any)["reference"].(string)]
	id := prac["identifier"].([]any)[0].(map[string]any)
	if id["system"] != systemProfessionalCode || id["value"] != "700012312312" {
		t.Errorf("dispenser's code %v; want the SDS user id as a professional-code", id)
	}
}
