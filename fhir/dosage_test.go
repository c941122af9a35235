package fhir

import (
	"strings"
	"testing"
)

// TestDosageTextPieces: a dosage text is read as a string or, as the EPS
// API writes the text of a v3 dosage instruction that holds a comment, as
// an array of strings joined; anything else is refused, naming the text.
func TestDosageTextPieces(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    string
		wantErr string
	}{
		{"string", `{"text":"take one daily","sequence":1}`, "take one daily", ""},
		{"pieces", `{"text":["take one "," daily"],"sequence":1}`, "take one  daily", ""},
		{"one piece", `{"text":["daily"]}`, "daily", ""},
		{"no text", `{"sequence":1}`, "", ""},
		{"a number", `{"text":3}`, "", "text"},
		{"a number among pieces", `{"text":["a",3]}`, "", "text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Dosage
			err := Unmarshal([]byte(tc.json), &d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Text != tc.want {
				t.Errorf("text %q, want %q", d.Text, tc.want)
			}
			if strings.Contains(tc.json, "sequence") && (d.Sequence == nil || d.Sequence.String() != "1") {
				t.Errorf("sequence %v, want 1", d.Sequence)
			}
		})
	}
}
