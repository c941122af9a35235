package fhir

import (
	"strings"
	"testing"
)

// TestTextPiecesJoined: a resource whose text EPS gives in pieces (its
// reading of a v3 element that holds a comment) decodes with the pieces
// joined, wherever EPS takes an element's text; text that is not in
// pieces is read as ever (a list of given names stays a list), and what
// is neither a string nor pieces of one is still refused.
func TestTextPiecesJoined(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		check   func(r Resource) string // what was read, to compare with want
		want    string
		wantErr string
	}{
		{"dosage text", `{"resourceType":"MedicationRequest","dosageInstruction":[{"text":["4 times a ","day - Oral"]}]}`,
			func(r Resource) string { return r.(*MedicationRequest).DosageInstruction[0].Text }, "4 times a day - Oral", ""},
		{"family name", `{"resourceType":"Patient","name":[{"family":["TWIT","CHETT"],"given":["STACEY","MARISA"]}]}`,
			func(r Resource) string {
				n := r.(*Patient).Name[0]
				return n.Family + "|" + strings.Join(n.Given, ",")
			}, "TWITCHETT|STACEY,MARISA", ""},
		{"a given name", `{"resourceType":"Patient","name":[{"family":"TWITCHETT","given":[["STA","CEY"],"MARISA"],"prefix":[["M","RS"]]}]}`,
			func(r Resource) string {
				n := r.(*Patient).Name[0]
				return strings.Join(n.Given, ",") + "|" + strings.Join(n.Prefix, ",")
			}, "STACEY,MARISA|MRS", ""},
		{"address line and postcode", `{"resourceType":"Patient","address":[{"line":[["10 HEATH","FIELD"],"COBHAM"],"postalCode":["KT11"," 2QY"]}]}`,
			func(r Resource) string {
				a := r.(*Patient).Address[0]
				return strings.Join(a.Line, ",") + "|" + a.PostalCode
			}, "10 HEATHFIELD,COBHAM|KT11 2QY", ""},
		{"organisation name", `{"resourceType":"Organization","name":["HALLGART","H SURGERY"]}`,
			func(r Resource) string { return r.(*Organization).Name }, "HALLGARTH SURGERY", ""},
		{"numbers kept as written", `{"resourceType":"MedicationRequest","dosageInstruction":[{"text":["a","b"]}],"dispenseRequest":{"quantity":{"value":0.50}}}`,
			func(r Resource) string { return string(r.(*MedicationRequest).DispenseRequest.Quantity.Value) }, "0.50", ""},
		{"a number is no text", `{"resourceType":"Organization","name":3}`, nil, "", "Organization"},
		{"a number among pieces", `{"resourceType":"Organization","name":["a",3]}`, nil, "", "Organization"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, decode := range []func([]byte) (Resource, error){DecodeResource, DecodeResourceRef} {
				r, err := decode([]byte(tc.json))
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.check(r); got != tc.want {
					t.Errorf("read %q, want %q", got, tc.want)
				}
			}
		})
	}
}
