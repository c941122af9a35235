package ebxml

import "testing"

// TestRefusingErrors: an ErrorList refuses by its errors of severity Error
// (the default, in any letter case or padding), not by its warnings, and
// only DeliveryFailure, Unknown or no code may clear up; the outbox and
// comparison mode judge a receiver's eb:ErrorList by these.
func TestRefusingErrors(t *testing.T) {
	el := &ErrorListError{Errors: []*MessageError{
		{Code: CodeValueNotRecognized, Severity: SeverityWarning},
		{Code: CodeDeliveryFailure},
		{Code: CodeValueNotRecognized, Severity: " error "},
		{Code: CodeUnknown, Severity: " warning"},
	}}
	got := el.Refusing()
	if len(got) != 2 || got[0] != el.Errors[1] || got[1] != el.Errors[2] {
		t.Fatalf("Refusing = %v, want the second and third errors", got)
	}
	for _, tt := range []struct {
		code ErrorCode
		want bool
	}{{CodeDeliveryFailure, true}, {CodeUnknown, true}, {"", true}, {CodeValueNotRecognized, false}, {CodeOtherXML, false}} {
		if m := (&MessageError{Code: tt.code}); m.MayClearUp() != tt.want {
			t.Errorf("%q MayClearUp = %v, want %v", tt.code, !tt.want, tt.want)
		}
	}
}
