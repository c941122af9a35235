package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/outbox"
)

// deadLetterList is the JSON of GET /admin/deadletters.
type deadLetterList struct {
	Count       int                 `json:"count"`
	DeadLetters []outbox.DeadLetter `json:"deadLetters"`
}

// waitDeadLetters waits until /admin/deadletters lists n entries and returns them.
func waitDeadLetters(t *testing.T, g *gw, n int) []outbox.DeadLetter {
	t.Helper()
	var list deadLetterList
	waitFor(t, "dead letters", func() bool {
		code, body := get(t, g.adminBase(t)+PathDeadLetters)
		if code != 200 {
			t.Fatalf("%s = %d %s", PathDeadLetters, code, body)
		}
		if strings.Contains(body, `"body"`) {
			t.Fatalf("dead-letter listing shows message bodies: %s", body)
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("dead letters not JSON: %v\n%s", err, body)
		}
		return list.Count >= n
	})
	if list.Count != n || len(list.DeadLetters) != n {
		t.Fatalf("%d dead letters, want %d: %+v", list.Count, n, list.DeadLetters)
	}
	return list.DeadLetters
}

func TestAdminQueries(t *testing.T) {
	g := startGateway(t, testConfig(), newMemoryStore(), true)
	if code, body := get(t, g.adminBase(t)+PathDeadLetters+"?limit=0"); code != 400 {
		t.Errorf("limit=0: %d %s", code, body)
	}
	code, body := get(t, g.adminBase(t)+PathQueues)
	if code != 200 || !strings.Contains(body, `"inbox":0`) || !strings.Contains(body, `"configured":false`) {
		t.Errorf("%s = %d %s", PathQueues, code, body)
	}
}
