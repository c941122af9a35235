package gateway

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/outbox"
)

// TestStatePollersShareOneReading: each poll of the live state read the
// newest 20 dead letters from the store, messages and all, to list them:
// with N pages open, N times every 5 s (20 dead letters of 64 KB: 1.7 MB
// out of Redis a poll, 10 pollers 3 times 52 MB). The gateway's part of
// the state is now read at most once every liveEvery for every poller.
func TestStatePollersShareOneReading(t *testing.T) {
	srv, st := redisServerStore(t)
	body := []byte("<PORX_IN020101SM31>" + strings.Repeat("x", 64<<10) + "</PORX_IN020101SM31>")
	for i := range 20 {
		putDeadLetter(t, st, outbox.DeadLetter{At: time.Now(), Stage: outbox.StageProcessing, MessageID: fmt.Sprintf("DL-%03d", i),
			Interaction: "PORX_IN020101SM31", Party: senderParty, Reason: "test", Body: body})
	}
	g := startGateway(t, testConfig(), st, true)
	base := g.adminBase(t)

	before := srv.Stat(t, "total_net_output_bytes")
	if code, _ := get(t, base+admin.PathState); code != 200 {
		t.Fatalf("state = %d", code)
	}
	one := srv.Stat(t, "total_net_output_bytes") - before
	const pollers, rounds = 10, 3
	before = srv.Stat(t, "total_net_output_bytes")
	for range rounds {
		var wg sync.WaitGroup
		for range pollers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, body := get(t, base+admin.PathState); code != 200 || !strings.Contains(body, `"deadLetterCount":20`) {
					t.Errorf("state = %d %.300s", code, body)
				}
			}()
		}
		wg.Wait()
	}
	if used := srv.Stat(t, "total_net_output_bytes") - before; used > rounds*one {
		t.Errorf("%d pollers × %d rounds took %d bytes out of Redis, %.1f readings of the state (one: %d bytes); want at most %d, one per %v at most",
			pollers, rounds, used, float64(used)/float64(one), one, rounds, admin.LiveEvery)
	}
}
