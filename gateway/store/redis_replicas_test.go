package store

import (
	"strings"
	"testing"
)

// TestReplicaCount: writes fail with fewer replicas online than they wait
// for, and a failover may lose a write with more online than it waits
// for; with none waited for there is nothing to report.
func TestReplicaCount(t *testing.T) {
	for _, tt := range []struct {
		name           string
		c              ReplicaCount
		missing        string
		unwaitedPrefix string
	}{
		{"none waited for", ReplicaCount{Online: 2}, "", ""},
		{"all waited for", ReplicaCount{Online: 2, Waited: 2}, "", ""},
		{"one missing", ReplicaCount{Online: 1, Waited: 2}, "1 of the 2 replicas", ""},
		{"none online", ReplicaCount{Waited: 1}, "0 of the 1 replicas", ""},
		{"one unwaited", ReplicaCount{Online: 2, Waited: 1}, "", "2 replicas online, each write waits for 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Missing()
			if (err == nil) != (tt.missing == "") || err != nil && !strings.Contains(err.Error(), tt.missing) {
				t.Errorf("Missing() = %v, want %q", err, tt.missing)
			}
			if got := tt.c.Unwaited(); !strings.HasPrefix(got, tt.unwaitedPrefix) || (got == "") != (tt.unwaitedPrefix == "") {
				t.Errorf("Unwaited() = %q, want it to begin %q", got, tt.unwaitedPrefix)
			}
		})
	}
}
