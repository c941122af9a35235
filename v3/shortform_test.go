package v3

import "testing"

func TestValidateShortFormID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr bool
	}{
		{"A0548B-A99968-451485", false},
		{"A0548B-A99968-451486", true},
		{"A0548B-A99968-45148", true},
		{"A0548BXA99968-451485", true},
		{"", true},
		{"Z0548B-A99968-451485", true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := ValidateShortFormID(tt.id)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateShortFormID(%q) = %v, wantErr %v", tt.id, err, tt.wantErr)
			}
		})
	}
}
