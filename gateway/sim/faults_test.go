package sim

import "testing"

// TestFaultsLimitedToOps: with Ops set, only requests of those operations
// get a fault or use up a count; other operations and the token endpoint
// pass untouched.
func TestFaultsLimitedToOps(t *testing.T) {
	tests := []struct {
		name  string
		op    string
		token bool
		want  faultAction
	}{
		{"other operation passes", "tracker", false, actNone},
		{"token endpoint passes", "", true, actNone},
		{"named operation gets the fault", "claim", false, actHangUpAfter},
		{"count used up", "claim", false, actNone},
	}
	fi := &faultInjector{rand: func() float64 { return 0 }}
	fi.set(Faults{DropAfter: 1, Ops: []string{"claim"}})
	for _, tt := range tests {
		if _, act, _ := fi.decide(tt.op, tt.token); act != tt.want {
			t.Errorf("%s: action %d, want %d", tt.name, act, tt.want)
		}
	}
	fi.set(Faults{Force5xx: 1})
	if _, act, _ := fi.decide("tracker", false); act != actFail {
		t.Errorf("without Ops a fault applies to every operation: action %d", act)
	}
}
