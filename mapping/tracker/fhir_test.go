package tracker

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// simTrackerAnswer is a searchset as the simulator's GET /Task writes it: no
// course of therapy, no descriptions, its own item status displays.
const simTrackerAnswer = `{"resourceType":"Bundle","id":"b1","type":"searchset","total":1,"entry":[{"fullUrl":"urn:uuid:t1","search":{"mode":"match"},"resource":{
 "resourceType":"Task","id":"t1","identifier":[{"system":"https://tools.ietf.org/html/rfc4122","value":"t1"}],
 "status":"in-progress","businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"0003","display":"With Dispenser - Active"}]},
 "intent":"order","code":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/message-event","code":"prescription-order"}]},
 "focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"A7B86F-A83008-42F6BL"}},
 "for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449304106"}},
 "authoredOn":"2024-03-01T10:15:00+00:00","lastModified":"2024-03-02T08:00:30+00:00",
 "requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A83008"}},
 "owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FCG71"}},
 "input":[
  {"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[{"url":"dispenseStatus","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001","display":"Item fully dispensed"}}]}],
   "type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005","display":"Prescription"}]},
   "valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"}}},
  {"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[{"url":"dispenseStatus","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0004","display":"Item not dispensed owing"}}]}],
   "type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005","display":"Prescription"}]},
   "valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab7"}}}
 ]}}]}`

// epsTrackerAnswer is a searchset as the EPS API's tracker translation
// writes it for a Spine detail answer: dates without times, requester and
// owner by identifier, release dates on the outputs.
const epsTrackerAnswer = `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"urn:uuid:x","resource":{
 "resourceType":"Task","id":"x",
 "extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription","extension":[{"url":"courseOfTherapyType","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy","code":"acute","display":"Short course (acute) therapy"}}]}],
 "identifier":[{"system":"https://tools.ietf.org/html/rfc4122","value":"x"}],
 "status":"in-progress","businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"0003","display":"With Dispenser - Active"}]},
 "intent":"order","code":{"coding":[{"system":"http://hl7.org/fhir/CodeSystem/task-code","code":"fulfill","display":"Fulfill the focal request"}]},
 "focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"D7AC09-A99968-4BA59C"}},
 "for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}},
 "authoredOn":"2021-09-08",
 "owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"VNFKT"},"display":"FIVE STAR HOMECARE LEEDS LTD"},
 "requester":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A99968"},"display":"SOMERSET BOWEL CANCER SCREENING CENTRE"},
 "input":[{"type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005","display":"Prescription"}]},
   "valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"},"type":"MedicationRequest"},
   "extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[{"url":"dateLastDispensed","valueDateTime":"2021-09-08"},{"url":"dispenseStatus","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001","display":"Dispensed"}}]}]}],
 "output":[{"type":{"coding":[{"system":"http://snomed.info/sct","code":"373784005","display":"Dispensing medication"}]},
   "valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"},"type":"MedicationDispense"},
   "extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingReleaseInformation","extension":[{"url":"dateDownloaded","valueDate":"2021-09-08"}]}]}]
}}]}`

func TestTrackerFromFHIR(t *testing.T) {
	tests := []struct {
		name string
		kind TrackerKind
		body string
		want string
	}{
		{
			name: "simulator summary", kind: TrackerSummary, body: simTrackerAnswer,
			want: `{"statusCode":"0","reason":"","version":"1","prescriptions":{"A7B86F-A83008-42F6BL":{
				"repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},"patientNhsNumber":"9449304106",
				"prescriptionIssueDate":"20240301101500","lastEventDate":"20240302080030","epsVersion":"R2",
				"pendingCancellations":"False","prescriptionTreatmentType":"","prescriptionStatus":"With Dispenser - Active",
				"lineItems":{"a54219b8-f741-4c47-b662-e4f8dfa49ab6":"","a54219b8-f741-4c47-b662-e4f8dfa49ab7":""}}}}`,
		},
		{
			name: "simulator detail", kind: TrackerDetail, body: simTrackerAnswer,
			want: `{"version":"1","reason":"","statusCode":"0","A7B86F-A83008-42F6BL":{
				"prescriptionStatus":"With Dispenser - Active","lastEventDate":"20240302080030","prescriptionIssueDate":"20240301101500",
				"prescriptionDownloadDate":"","prescriptionDispensedDate":"","prescriptionClaimedDate":"","prescriptionLastIssueDispensedDate":"",
				"patientNhsNumber":"9449304106","epsVersion":"R2","pendingCancellations":"False","prescriptionTreatmentType":"",
				"repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},
				"prescriber":{"name":"","address":"","phone":"","ods":"A83008"},
				"nominatedPharmacy":{"name":"","address":"","phone":"","ods":""},
				"dispensingPharmacy":{"name":"","address":"","phone":"","ods":"FCG71"},
				"lineItems":{
				 "a54219b8-f741-4c47-b662-e4f8dfa49ab6":{"description":"","quantity":"","uom":"","dosage":"","itemStatus":"Dispensed","code":""},
				 "a54219b8-f741-4c47-b662-e4f8dfa49ab7":{"description":"","quantity":"","uom":"","dosage":"","itemStatus":"Not Dispensed - Owing","code":""}}}}`,
		},
		{
			name: "EPS detail", kind: TrackerDetail, body: epsTrackerAnswer,
			want: `{"version":"1","reason":"","statusCode":"0","D7AC09-A99968-4BA59C":{
				"prescriptionStatus":"With Dispenser - Active","lastEventDate":"20210908","prescriptionIssueDate":"20210908",
				"prescriptionDownloadDate":"20210908","prescriptionDispensedDate":"20210908","prescriptionClaimedDate":"","prescriptionLastIssueDispensedDate":"",
				"patientNhsNumber":"9449305552","epsVersion":"R2","pendingCancellations":"False","prescriptionTreatmentType":"Acute Prescription",
				"repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},
				"prescriber":{"name":"SOMERSET BOWEL CANCER SCREENING CENTRE","address":"","phone":"","ods":"A99968"},
				"nominatedPharmacy":{"name":"","address":"","phone":"","ods":""},
				"dispensingPharmacy":{"name":"FIVE STAR HOMECARE LEEDS LTD","address":"","phone":"","ods":"VNFKT"},
				"lineItems":{"a54219b8-f741-4c47-b662-e4f8dfa49ab6":{"description":"","quantity":"","uom":"","dosage":"","itemStatus":"Dispensed","code":""}}}}`,
		},
		{
			name: "empty searchset", kind: TrackerSummary, body: `{"resourceType":"Bundle","type":"searchset","total":0}`,
			want: `{"statusCode":"0","reason":"","version":"1","prescriptions":{}}`,
		},
		{
			name: "EPS error for a Spine reason", kind: TrackerSummary,
			body: `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"INVALID","display":"Invalid or missing NHS number"}]}}]}`,
			want: `{"statusCode":"61","reason":"Invalid or missing NHS number","version":"1","prescriptions":{}}`,
		},
		{
			name: "EPS query refusal", kind: TrackerDetail,
			body: `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"Query parameter must be one of: identifier"}]}`,
			want: `{"spineResponse":{"statusCode":"5","reason":"Unexpected exception: Query parameter must be one of: identifier","prescriptions":{},"version":"1"},"error":{}}`,
		},
		{
			name: "EPS not found", kind: TrackerDetail,
			body: `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`,
			want: `{"spineResponse":{"statusCode":"6","reason":"Prescription ID not found","prescriptions":{},"version":"1"},"error":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := TrackerFromFHIR(tt.kind, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !trackerJSONEqual(t, got, []byte(tt.want)) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTrackerFromFHIRMalformed(t *testing.T) {
	task := func(fields string) string {
		return `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Task",` + fields + `}}]}`
	}
	const ok = `"focus":{"identifier":{"value":"A7B86F-A83008-42F6BL"}},"for":{"identifier":{"value":"9449304106"}},"businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"0001"}]}`
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `{"resourceType":`, "reading the EPS answer"},
		{"no resourceType", `{}`, "no resourceType"},
		{"a Parameters", `{"resourceType":"Parameters"}`, "is a Parameters, want a Bundle or an OperationOutcome"},
		{"no focus", task(`"for":{"identifier":{"value":"9449304106"}}`), "focus.identifier: missing"},
		{"no patient", task(`"focus":{"identifier":{"value":"A7B86F-A83008-42F6BL"}}`), "for.identifier: missing"},
		{"no business status", task(`"focus":{"identifier":{"value":"A"}},"for":{"identifier":{"value":"9449304106"}}`), "businessStatus: no https://fhir.nhs.uk/CodeSystem/EPS-task-business-status coding"},
		{"unknown business status", task(`"focus":{"identifier":{"value":"A"}},"for":{"identifier":{"value":"9449304106"}},"businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"7777"}]}`), `unknown prescription status "7777"`},
		{"bad authoredOn", task(ok + `,"authoredOn":"yesterday"`), "authoredOn"},
		{"bad lastModified", task(ok + `,"lastModified":"2024-13-01T00:00:00Z"`), "lastModified"},
		{"unknown course", task(ok + `,"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription","extension":[{"url":"courseOfTherapyType","valueCoding":{"code":"weekly"}}]}]`), `unknown course of therapy "weekly"`},
		{"input without item id", task(ok + `,"input":[{"type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005"}]}}]`), "input[0].valueReference.identifier: missing"},
		{"bad dispense date", task(ok + `,"input":[{"type":{},"valueReference":{"identifier":{"value":"i"}},"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[{"url":"dateLastDispensed","valueDateTime":"08/09/2021"}]}]}]`), "dateLastDispensed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TrackerFromFHIR(TrackerDetail, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseTrackerJSONMalformed(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", `{"statusCode":`, "not JSON"},
		{"an array", `[]`, "want an object"},
		{"trailing data", `{"statusCode":"0","prescriptions":{}} {}`, "data after the object"},
		{"no statusCode", `{"reason":"","prescriptions":{}}`, "$.statusCode: missing"},
		{"number statusCode", `{"statusCode":0,"prescriptions":{}}`, "$.statusCode: want a string"},
		{"repeated key", `{"statusCode":"0","statusCode":"1","prescriptions":{}}`, `key "statusCode" repeated`},
		{"unknown summary member", `{"statusCode":"0","prescriptions":{},"extra":"x"}`, "$.extra: unknown member"},
		{"prescriptions not an object", `{"statusCode":"0","prescriptions":[]}`, "$.prescriptions: want an object"},
		{"empty prescription id", `{"statusCode":"0","prescriptions":{"":{}}}`, "empty prescription id"},
		{"unknown prescription member", `{"statusCode":"0","prescriptions":{"A":{"colour":"red"}}}`, `$.prescriptions["A"].colour: unknown member`},
		{"detail member in a summary", `{"statusCode":"0","prescriptions":{"A":{"prescriptionClaimedDate":""}}}`, "a detail member in a summary"},
		{"organisation in a summary", `{"statusCode":"0","prescriptions":{"A":{"prescriber":{}}}}`, "a detail member in a summary"},
		{"summary line item object", `{"statusCode":"0","prescriptions":{"A":{"lineItems":{"i":{"description":"x"}}}}}`, `lineItems["i"]: want a string`},
		{"detail line item string", `{"statusCode":"0","A":{"lineItems":{"i":"x"}}}`, `lineItems["i"]: want an object`},
		{"unknown line item member", `{"statusCode":"0","A":{"lineItems":{"i":{"strength":"5mg"}}}}`, `lineItems["i"].strength: unknown member`},
		{"empty line item id", `{"statusCode":"0","A":{"lineItems":{"":{}}}}`, "empty line item id"},
		{"unknown repeat member", `{"statusCode":"0","A":{"repeatInstance":{"issue":"1"}}}`, "repeatInstance.issue: unknown member"},
		{"unknown organisation member", `{"statusCode":"0","A":{"prescriber":{"fax":"1"}}}`, "prescriber.fax: unknown member"},
		{"error with prescriptions", `{"statusCode":"5","reason":"x","prescriptions":{"A":{}}}`, `statusCode "5" (an error) with 1 prescriptions`},
		{"wrapper with more", `{"spineResponse":{"statusCode":"8"},"error":{},"x":1}`, "$.x: unknown member beside spineResponse"},
		{"wrapper error not object", `{"spineResponse":{"statusCode":"8"},"error":"boom"}`, "$.error: want an object"},
		{"wrapper unknown member", `{"spineResponse":{"statusCode":"8","detail":"x"}}`, "$.spineResponse.detail: unknown member"},
		{"wrapper with prescriptions", `{"spineResponse":{"statusCode":"8","prescriptions":{"A":{}}}}`, "a wrapped answer carries no prescriptions"},
		{"wrapper without statusCode", `{"spineResponse":{"reason":"x"}}`, "$.spineResponse.statusCode: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrackerJSON([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTrackerToFHIRMalformed(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown status", `{"statusCode":"0","prescriptions":{"A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Lost"}}}`, `prescriptionStatus: "Lost" is not a prescription status`},
		{"no NHS number", `{"statusCode":"0","prescriptions":{"A":{"prescriptionStatus":"Claimed"}}}`, "patientNhsNumber: missing"},
		{"bad date", `{"statusCode":"0","prescriptions":{"A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","prescriptionIssueDate":"5th Nov"}}}`, "prescriptionIssueDate"},
		{"unknown treatment", `{"statusCode":"0","prescriptions":{"A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","prescriptionTreatmentType":"Weekly"}}}`, `"Weekly" is not a treatment type`},
		{"bad repeat count", `{"statusCode":"0","prescriptions":{"A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","repeatInstance":{"currentIssue":"two","totalAuthorised":"6"}}}}`, `currentIssue: "two" is not a whole number`},
		{"bad pending flag", `{"statusCode":"0","prescriptions":{"A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","pendingCancellations":"maybe"}}}`, "want True or False"},
		{"unknown item status", `{"statusCode":"0","A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","lineItems":{"i":{"itemStatus":"Lost"}}}}`, `itemStatus: "Lost" is not a line item status`},
		{"bad quantity", `{"statusCode":"0","A":{"patientNhsNumber":"9449304106","prescriptionStatus":"Claimed","lineItems":{"i":{"quantity":"a few"}}}}`, `quantity: "a few" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TrackerJSONToFHIR([]byte(tt.body), core.CountingIDs())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestTrackerRoundTripEdges takes answers the corpus lacks through FHIR and
// back: treatment-type aliases, R1, pending cancellations, partial dates,
// Spine's "False" dates, an all-empty organisation, a summary error.
func TestTrackerRoundTripEdges(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" means the body itself
	}{
		{name: "alias, R1, pending, no repeat", body: `{"statusCode":"0","reason":"","version":"1","prescriptions":{"A":{
			"repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},"patientNhsNumber":"9449304106","prescriptionIssueDate":"20180319101307",
			"lastEventDate":"20180319115010","epsVersion":"R1","pendingCancellations":"True","prescriptionTreatmentType":"Acute Prescribing",
			"prescriptionStatus":"Repeat Dispense future instance","lineItems":{"636f1b57-e18c-4f45-acae-2d7db86b6e1e":"Hydrocortisone 0.5% cream"}}}}`},
		{name: "dates at day precision and False", body: `{"version":"1","reason":"","statusCode":"0","54A9B7-C81007-000014":{
			"prescriptionStatus":"Claimed","lastEventDate":"20190215105008","prescriptionIssueDate":"20180907120900",
			"prescriptionDownloadDate":"20190213150209","prescriptionDispensedDate":"20190215","prescriptionClaimedDate":"20190215105008",
			"prescriptionLastIssueDispensedDate":"False","patientNhsNumber":"9651614498","epsVersion":"R2","pendingCancellations":"False",
			"prescriptionTreatmentType":"Repeat Prescribing","repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},
			"prescriber":{"name":"VERNON STREET MEDICAL CTR","address":"13 VERNON STREET, DERBY, DERBYSHIRE, DE1 1FW","phone":"01512631737","ods":"C81007"},
			"nominatedPharmacy":{"name":"","address":"","phone":"","ods":""},
			"dispensingPharmacy":{"name":"Test Pharmacy","address":"The Pharmacy, The Street, SW8 3QJ","phone":"07775123456","ods":"FA00D"},
			"lineItems":{"754B10D1-04DA-3828-E050-D20AE3A22BBD":{"description":"Micronor 350microgram tablets (Janssen-Cilag Ltd)","quantity":"84","uom":"tablet","dosage":"As Directed","itemStatus":"Not Dispensed","code":"193611000001107"},
			 "754B10D1-04E9-3828-E050-D20AE3A22BBD":{"description":"Sodium bicarbonate 5% ear drops","quantity":"12.5","uom":"ml","dosage":"As Directed","itemStatus":"Dispensed","code":"330987003"}}}}`,
			want: `{"version":"1","reason":"","statusCode":"0","54A9B7-C81007-000014":{
			"prescriptionStatus":"Claimed","lastEventDate":"20190215105008","prescriptionIssueDate":"20180907120900",
			"prescriptionDownloadDate":"20190213150209","prescriptionDispensedDate":"20190215","prescriptionClaimedDate":"20190215105008",
			"prescriptionLastIssueDispensedDate":"","patientNhsNumber":"9651614498","epsVersion":"R2","pendingCancellations":"False",
			"prescriptionTreatmentType":"Repeat Prescribing","repeatInstance":{"currentIssue":"1","totalAuthorised":"1"},
			"prescriber":{"name":"VERNON STREET MEDICAL CTR","address":"13 VERNON STREET, DERBY, DERBYSHIRE, DE1 1FW","phone":"01512631737","ods":"C81007"},
			"nominatedPharmacy":{"name":"","address":"","phone":"","ods":""},
			"dispensingPharmacy":{"name":"Test Pharmacy","address":"The Pharmacy, The Street, SW8 3QJ","phone":"07775123456","ods":"FA00D"},
			"lineItems":{"754B10D1-04DA-3828-E050-D20AE3A22BBD":{"description":"Micronor 350microgram tablets (Janssen-Cilag Ltd)","quantity":"84","uom":"tablet","dosage":"As Directed","itemStatus":"Not Dispensed","code":"193611000001107"},
			 "754B10D1-04E9-3828-E050-D20AE3A22BBD":{"description":"Sodium bicarbonate 5% ear drops","quantity":"12.5","uom":"ml","dosage":"As Directed","itemStatus":"Dispensed","code":"330987003"}}}}`},
		{name: "summary error", body: `{"reason":"Invalid or missing NHS number","version":"1","prescriptions":{},"statusCode":"61"}`},
		{name: "text with markup and quotes", body: `{"statusCode":"0","reason":"","version":"1","prescriptions":{"A":{
			"repeatInstance":{"currentIssue":"3","totalAuthorised":"6"},"patientNhsNumber":"9449304106","prescriptionIssueDate":"20180319101307",
			"lastEventDate":"20180319115010","epsVersion":"R2","pendingCancellations":"False","prescriptionTreatmentType":"Repeat Dispensing",
			"prescriptionStatus":"Cancelled","lineItems":{"i":"Cream <50g> & \"gel\" – ünïcode"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fhirJSON, back := trackerRoundTrip(t, []byte(tt.body))
			want := tt.want
			if want == "" {
				want = tt.body
			}
			if !trackerJSONEqual(t, back, []byte(want)) {
				t.Errorf("round trip\nFHIR: %s\ngot:  %s\nwant: %s", fhirJSON, back, want)
			}
		})
	}
}
