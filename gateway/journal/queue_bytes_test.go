package journal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestQueueIsBoundedInBytes: the writer's queue was bounded by its count
// of events alone (4096), whatever they carry: with Redis hung (SIGSTOP)
// the writer waits on its write, and 200 events of 1 MiB (a legacy
// request within the front door's 4 MiB limit carries as much, its FHIR
// request and its answer more) were all queued, 200 MiB held in memory
// under a soft memory limit of 100 MiB, and 4096 of them would have held
// 4 GiB. The events waiting (and in the write in hand) are now bounded to
// DefaultQueueBytes of payload too: those past it are dropped and
// counted as a full queue's are, and the writer goes on once Redis
// answers again.
func TestQueueIsBoundedInBytes(t *testing.T) {
	b, srv := redisBackend(t, Retention{MaxAge: time.Hour})
	reg := prometheus.NewRegistry()
	j := New(b, Options{Registry: reg})
	run(t, j)
	srv.Pause(t)
	const n, size = 200, 1 << 20
	body := strings.Repeat("x", size)
	for i := range n {
		j.Record(Event{Exchange: fmt.Sprintf("BIG-%03d", i), Step: &Step{Kind: StepFHIRRequest, Body: body}})
	}
	most := DefaultQueueBytes/size + 1
	dropped := counterValue(t, reg, "porxgate_journal_dropped_total", DropQueueFull)
	if held := n - int(dropped); held > most {
		t.Errorf("with Redis hung %d events of %d KiB are held for the writer (%d MiB), want at most %d", held, size>>10, held*size>>20, most)
	}
	srv.Resume()
	waitAll(t, j)
	j.Record(Event{Exchange: "AFTER", Step: &Step{Kind: StepFHIRRequest, Body: body}})
	waitAll(t, j)
	if x, err := b.Get(t.Context(), "AFTER"); err != nil || x == nil {
		t.Errorf("once Redis answers again an event is not written: %v %v", x, err)
	}
}
