package journal

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// BenchmarkRedisApplyAll measures the Redis journal's writer on batches
// shaped like a busy gateway's: each operation writes two batches over
// four exchanges, the first creating them (the legacy request and the
// call to EPS), the second merging into them (EPS's answer, the v3 answer
// with its outcome, the delivery). cpu-ns/op is this process's CPU alone
// (redis-server's is not counted).
func BenchmarkRedisApplyAll(b *testing.B) {
	srv := redistest.Start(b)
	rs, err := store.NewRedis(srv.URL(), "bench:")
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	r := NewRedis(rs.Client(), rs.Prefix(), Retention{MaxBytes: 1 << 40})
	body := "<PORX_IN020101SM31 xmlns=\"urn:hl7-org:v3\">" + strings.Repeat("<x a=\"1\">text &amp; more</x>\n", 150) + "</PORX_IN020101SM31>"
	ctx := context.Background()
	const perBatch = 4
	b.ReportAllocs()
	cpu0 := processCPU(b)
	n := 0
	for b.Loop() {
		now := time.Now()
		first := make([]Event, 0, 2*perBatch)
		second := make([]Event, 0, 3*perBatch)
		for range perBatch {
			n++
			id := fmt.Sprintf("M%08d", n)
			ids := IDs{MessageIDs: []string{id}, ConversationID: id, PrescriptionIDs: []string{fmt.Sprintf("RX%06d", n)},
				NHSNumbers: []string{"9990000000"}, ODSCodes: []string{"FA565", "A99968"}}
			first = append(first,
				Event{Exchange: id, At: now, Interaction: "PORX_IN020101SM31", Transport: "ebxml", Party: "YEA-0000806", IDs: ids,
					Step: &Step{Kind: StepLegacyRequest, Title: "ebXML request", ContentType: "application/xml", Body: body}},
				Event{Exchange: id, At: now.Add(time.Millisecond), IDs: IDs{XRequestIDs: []string{"X" + id}},
					Step: &Step{Kind: StepFHIRRequest, Title: "POST /FHIR/R4/$process-message", Headers: map[string]string{"X-Request-ID": "X" + id}, Body: body}})
			second = append(second,
				Event{Exchange: id, At: now.Add(2 * time.Millisecond),
					Step: &Step{Kind: StepEPSAnswer, Title: "200", Status: 200, Body: body, TookMS: 3}},
				Event{Exchange: id, At: now.Add(3 * time.Millisecond), Outcome: &Outcome{Result: "accepted"},
					Step: &Step{Kind: StepV3Answer, Title: "v3 answer", Body: body}},
				Event{Exchange: id, At: now.Add(4 * time.Millisecond), Delivered: true,
					Step: &Step{Kind: StepDelivery, Title: "delivered", Status: 202}})
		}
		if _, err := r.ApplyAll(ctx, first); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ApplyAll(ctx, second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
