package core

import (
	"strconv"
	"testing"
)

// TestOnceTableSlots holds the look-up of CheckOnce to a table of a slot
// for each tag for the Once of the parties (the fast way), and to a look
// through the tags for a Once whose tags share a key or outnumber the slots.
func TestOnceTableSlots(t *testing.T) {
	var tags64 []string
	for i := range 64 {
		tags64 = append(tags64, "t"+strconv.Itoa(i))
	}
	for _, tt := range []struct {
		name  string
		once  *Once
		table bool
	}{
		{"AgentPerson", agentPersonOnce, true},
		{"agentPerson", agentPersonOnce.Kids["agentPerson"], true},
		{"Organization", organizationOnce, true},
		{"licence", licenceOnce, true},
		{"Patient", patientOnce, true},
		{"patientPerson", patientOnce.Kids["patientPerson"], true},
		{"tags sharing a key", &Once{Tags: []string{"code", "cude"}}, false},
		{"64 tags", &Once{Tags: tags64}, false},
	} {
		tab := tt.once.lookup()
		if got := tab.mul != 0; got != tt.table {
			t.Errorf("%s: a slot table %v, want %v", tt.name, got, tt.table)
		}
		for i := range tab.entries {
			e := &tab.entries[i]
			if got := tab.find(e.tag); got != e {
				t.Errorf("%s: find(%q) = %v, want its entry", tt.name, e.tag, got)
			}
		}
		if e := tab.find("notNamed"); e != nil {
			t.Errorf("%s: find(notNamed) = %v, want none", tt.name, e)
		}
	}
}
