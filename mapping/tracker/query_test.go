package tracker

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func trackerQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		n    string
		want bool
	}{
		{"9449304106", true},
		{"9912003489", true},
		{"9000000009", true},
		{"4010232137", true},
		{"9449304107", false}, // wrong check digit
		{"1234567890", false}, // check digit would be 10: never valid
		{"944930410", false},  // nine digits
		{"94493041060", false},
		{"944930410A", false},
		{"944 930 4106", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidNHSNumber(tt.n); got != tt.want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestParseTrackerSearch(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		format string
		want   TrackerSearch
		fhir   url.Values
	}{
		{
			name: "minimal", query: "nhsNumber=9449304106&format=trace-summary", format: TrackerFormatSearch,
			want: TrackerSearch{NHSNumber: "9449304106"},
			fhir: url.Values{"patient:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9449304106"}},
		},
		{
			name:   "every parameter",
			query:  "nhsNumber=9449304106&format=trace-summary&earliestDate=20211001&latestDate=20211130&prescriptionStatus=0003&prescriptionVersion=R2&version=1",
			format: TrackerFormatSearch,
			want:   TrackerSearch{NHSNumber: "9449304106", EarliestDate: "20211001", LatestDate: "20211130", PrescriptionStatus: "0003", PrescriptionVersion: "R2"},
			fhir: url.Values{
				"patient:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9449304106"},
				"business-status":    {"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status|0003"},
				"authored-on":        {"ge2021-10-01", "le2021-11-30"},
			},
		},
		{
			name: "latest date only", query: "nhsNumber=9912003489&format=trace-summary&latestDate=20180501", format: TrackerFormatSearch,
			want: TrackerSearch{NHSNumber: "9912003489", LatestDate: "20180501"},
			fhir: url.Values{"patient:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9912003489"}, "authored-on": {"le2018-05-01"}},
		},
		{
			name: "NHS111 search takes no format", query: "nhsNumber=9912003489", format: "",
			want: TrackerSearch{NHSNumber: "9912003489"},
			fhir: url.Values{"patient:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9912003489"}},
		},
		{
			name: "unknown parameters are ignored", query: "nhsNumber=9912003489&format=trace-summary&lineitemid=x", format: TrackerFormatSearch,
			want: TrackerSearch{NHSNumber: "9912003489"},
			fhir: url.Values{"patient:identifier": {"https://fhir.nhs.uk/Id/nhs-number|9912003489"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrackerSearch(trackerQuery(t, tt.query), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("search = %+v, want %+v", got, tt.want)
			}
			if q := got.FHIRQuery(); !reflect.DeepEqual(q, tt.fhir) {
				t.Errorf("FHIR query = %v, want %v", q, tt.fhir)
			}
		})
	}
}

func TestParseTrackerSearchMalformed(t *testing.T) {
	tests := []struct {
		name, query, code, reason string
	}{
		{"no parameters", "", "50", "Query parameters have not been provided"},
		{"no NHS number", "format=trace-summary", "61", "Invalid or missing NHS number: nhsNumber is required"},
		{"empty NHS number", "nhsNumber=&format=trace-summary", "61", "nhsNumber is required"},
		{"bad check digit", "nhsNumber=9449304107&format=trace-summary", "61", "fails the modulus 11 check digit"},
		{"check digit 10", "nhsNumber=1234567890&format=trace-summary", "61", "modulus 11"},
		{"short NHS number", "nhsNumber=944930410&format=trace-summary", "61", "is not ten digits"},
		{"letters in NHS number", "nhsNumber=94493041O6&format=trace-summary", "61", "is not ten digits"},
		{"NHS number twice", "nhsNumber=9449304106&nhsNumber=9912003489&format=trace-summary", "61", "nhsNumber given 2 times"},
		{"no format", "nhsNumber=9449304106", "50", "Invalid or missing format: format is required and must be trace-summary"},
		{"wrong format", "nhsNumber=9449304106&format=trace", "50", `format "trace", want trace-summary`},
		{"format twice", "nhsNumber=9449304106&format=trace-summary&format=trace-summary", "50", "format given 2 times"},
		{"bad version", "nhsNumber=9449304106&format=trace-summary&version=2", "53", `Invalid version: version "2", want 1`},
		{"bad earliest date", "nhsNumber=9449304106&format=trace-summary&earliestDate=2021-10-01", "57", "earliestDate \"2021-10-01\" is not a date of the form yyyymmdd"},
		{"impossible date", "nhsNumber=9449304106&format=trace-summary&latestDate=20210230", "57", "latestDate"},
		{"bad status", "nhsNumber=9449304106&format=trace-summary&prescriptionStatus=Claimed", "59", "Invalid search prescription state"},
		{"unknown status code", "nhsNumber=9449304106&format=trace-summary&prescriptionStatus=0010", "59", "0010"},
		{"bad prescription version", "nhsNumber=9449304106&format=trace-summary&prescriptionVersion=R3", "60", "Invalid search prescription version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrackerSearch(trackerQuery(t, tt.query), TrackerFormatSearch)
			var te *TrackerError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TrackerError", err)
			}
			if te.StatusCode != tt.code || !strings.Contains(te.Reason, tt.reason) {
				t.Errorf("refusal %s %q, want %s containing %q", te.StatusCode, te.Reason, tt.code, tt.reason)
			}
		})
	}
}

func TestParseTrackerRetrieve(t *testing.T) {
	tests := []struct {
		name, pathID, query, format string
		want                        TrackerRetrieve
	}{
		{"path id", "003D4D-A99968-4C5AAJ", "format=trace", TrackerFormatRetrieve, TrackerRetrieve{PrescriptionID: "003D4D-A99968-4C5AAJ"}},
		{"lower case short form", "003d4d-a99968-4c5aaj", "format=trace", TrackerFormatRetrieve, TrackerRetrieve{PrescriptionID: "003D4D-A99968-4C5AAJ"}},
		{"issue number", "003D4D-A99968-4C5AAJ", "format=trace&issueNumber=02&version=1", TrackerFormatRetrieve, TrackerRetrieve{PrescriptionID: "003D4D-A99968-4C5AAJ", IssueNumber: "2"}},
		{"NHS111 query id", "", "prescriptionId=003D4D-A99968-4C5AAJ&issueNumber=1", "", TrackerRetrieve{PrescriptionID: "003D4D-A99968-4C5AAJ", IssueNumber: "1"}},
		{"unescaped + in the query", "", "prescriptionId=3F7A21-FA565A-0001A+", "", TrackerRetrieve{PrescriptionID: "3F7A21-FA565A-0001A+"}},
		{"long form id", "9BA2F6BD-14FD-6F8B-E050-D20AE3A254FDA", "format=trace", TrackerFormatRetrieve, TrackerRetrieve{PrescriptionID: "9BA2F6BD-14FD-6F8B-E050-D20AE3A254FDA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrackerRetrieve(tt.pathID, trackerQuery(t, tt.query), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("retrieve = %+v, want %+v", got, tt.want)
			}
			want := url.Values{"focus:identifier": {"https://fhir.nhs.uk/Id/prescription-order-number|" + tt.want.PrescriptionID}}
			if q := got.FHIRQuery(); !reflect.DeepEqual(q, want) {
				t.Errorf("FHIR query = %v, want %v", q, want)
			}
		})
	}
}

func TestParseTrackerRetrieveMalformed(t *testing.T) {
	tests := []struct {
		name, pathID, query, code, reason string
	}{
		{"nothing at all", "", "", "50", "Query parameters have not been provided"},
		{"no id", "", "format=trace", "51", "Invalid prescription id: prescriptionId is required"},
		{"bad check character", "003D4D-A99968-4C5AAK", "format=trace", "51", "invalid checksum"},
		{"bad characters", "003D4D-A99968-4C5A*J", "format=trace", "51", "is not A-Z"},
		{"wrong length", "003D4D-A99968", "format=trace", "51", "has 13 characters"},
		{"no format", "003D4D-A99968-4C5AAJ", "", "50", "format is required and must be trace"},
		{"summary format", "003D4D-A99968-4C5AAJ", "format=trace-summary", "50", `format "trace-summary", want trace`},
		{"issue zero", "003D4D-A99968-4C5AAJ", "format=trace&issueNumber=0", "50", "Invalid issue number"},
		{"issue not a number", "003D4D-A99968-4C5AAJ", "format=trace&issueNumber=two", "50", "issueNumber \"two\""},
		{"issue signed", "003D4D-A99968-4C5AAJ", "format=trace&issueNumber=%2B1", "50", "Invalid issue number"},
		{"bad version", "003D4D-A99968-4C5AAJ", "format=trace&version=x", "53", "Invalid version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrackerRetrieve(tt.pathID, trackerQuery(t, tt.query), TrackerFormatRetrieve)
			var te *TrackerError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TrackerError", err)
			}
			if te.StatusCode != tt.code || !strings.Contains(te.Reason, tt.reason) {
				t.Errorf("refusal %s %q, want %s containing %q", te.StatusCode, te.Reason, tt.code, tt.reason)
			}
		})
	}
}
