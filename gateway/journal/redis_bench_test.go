package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// BenchmarkRedisApplyAll measures the Redis journal's writer on batches
// shaped like a busy gateway's: each operation writes two batches over
// four exchanges, the first creating them (the legacy request and the
// call to EPS), the second merging into them (EPS's answer, the v3 answer
// with its outcome, the delivery). cpu-ns/op is this process's CPU alone
// (redis-server's is not counted).
func BenchmarkRedisApplyAll(b *testing.B) {
	r := benchWriter(b)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	n := 0
	for b.Loop() {
		writeBenchBatches(b, r, &n, 4)
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// benchWriter returns a Redis journal on a redis-server of its own, with
// no size cap to reach.
func benchWriter(b *testing.B) *Redis {
	b.Helper()
	srv := redistest.Start(b)
	rs, err := store.NewRedis(srv.URL(), "bench:")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rs.Close() })
	return NewRedis(rs.Client(), rs.Prefix(), Retention{MaxBytes: 1 << 40})
}

// benchBody is the payload of every step of the writer's benchmarks: a
// v3 message of about 4 KB.
var benchBody = "<PORX_IN020101SM31 xmlns=\"urn:hl7-org:v3\">" + strings.Repeat("<x a=\"1\">text &amp; more</x>\n", 150) + "</PORX_IN020101SM31>"

// writeBenchBatches writes the two batches of perBatch new exchanges
// (benchBatches, numbered on from *n) with r.
func writeBenchBatches(b *testing.B, r *Redis, n *int, perBatch int) {
	b.Helper()
	first, second := benchBatches(n, perBatch, stepBodies{benchBody, benchBody, benchBody, benchBody})
	if _, err := r.ApplyAll(b.Context(), first); err != nil {
		b.Fatal(err)
	}
	if _, err := r.ApplyAll(b.Context(), second); err != nil {
		b.Fatal(err)
	}
}

// stepBodies are the payloads of a benchmark exchange's steps: the legacy
// request, the FHIR request, EPS's answer and the v3 answer.
type stepBodies struct{ legacy, fhirReq, answer, ack string }

// benchBatches returns the two batches the benchmarks write for perBatch
// new exchanges, numbered on from *n: the first creating them (the legacy
// request and the call to EPS), the second merging into them (EPS's
// answer, the v3 answer with its outcome, the delivery).
func benchBatches(n *int, perBatch int, bodies stepBodies) (first, second []Event) {
	now := time.Now()
	first = make([]Event, 0, 2*perBatch)
	second = make([]Event, 0, 3*perBatch)
	for range perBatch {
		*n++
		id := fmt.Sprintf("M%08d", *n)
		ids := IDs{MessageIDs: []string{id}, ConversationID: id, PrescriptionIDs: []string{fmt.Sprintf("RX%06d", *n)},
			NHSNumbers: []string{"9990000000"}, ODSCodes: []string{"FA565", "A99968"}}
		first = append(first,
			Event{Exchange: id, At: now, Interaction: "PORX_IN020101SM31", Transport: "ebxml", Party: "YEA-0000806", IDs: ids,
				Step: &Step{Kind: StepLegacyRequest, Title: "ebXML request", ContentType: "application/xml", Body: bodies.legacy}},
			Event{Exchange: id, At: now.Add(time.Millisecond), IDs: IDs{XRequestIDs: []string{"X" + id}},
				Step: &Step{Kind: StepFHIRRequest, Title: "POST /FHIR/R4/$process-message", Headers: map[string]string{"X-Request-ID": "X" + id}, Body: bodies.fhirReq}})
		second = append(second,
			Event{Exchange: id, At: now.Add(2 * time.Millisecond),
				Step: &Step{Kind: StepEPSAnswer, Title: "200", Status: 200, Body: bodies.answer, TookMS: 3}},
			Event{Exchange: id, At: now.Add(3 * time.Millisecond), Outcome: &Outcome{Result: "accepted"},
				Step: &Step{Kind: StepV3Answer, Title: "v3 answer", Body: bodies.ack}},
			Event{Exchange: id, At: now.Add(4 * time.Millisecond), Delivered: true,
				Step: &Step{Kind: StepDelivery, Title: "delivered", Status: 202}})
	}
	return first, second
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

// BenchmarkRedisJournalPayloads is BenchmarkRedisApplyAll with a
// prescription's real payloads (the corpus's converted Parent
// Prescription, a FHIR prescription bundle, EPS's answer and the v3
// acknowledgement, 26 KB a message), kept as they are ("plain", as before
// compression) and compressed ("s2"), one redis-server each. Besides
// this process's CPU (cpu-ns/op: the writer's) it reports, per message,
// redis-server's CPU (redis-cpu-ns/msg, INFO cpu), the bytes it received
// (redis-in-B/msg, INFO stats) and the memory it holds for an exchange
// kept (redis-mem-B/msg, INFO memory used_memory).
func BenchmarkRedisJournalPayloads(b *testing.B) {
	read := func(path string) string {
		d, err := os.ReadFile(path)
		if err != nil {
			b.Skip(err)
		}
		return string(d)
	}
	legacy := read(filepath.Join(corpustest.Dir(b), "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/3-Convert-Response-Send-200_OK.xml"))
	fhirReq := read("../../testdata/eps-fhir/Send--acute-dosage-sequenced.json")
	answer := read("../../testdata/acks/eps_success.json")
	ack := read("../../testdata/acks/aa_prescription.xml")
	for _, mode := range []struct {
		name  string
		plain bool
	}{{"plain", true}, {"s2", false}} {
		b.Run(mode.name, func(b *testing.B) {
			srv := redistest.Start(b)
			rs, err := store.NewRedis(srv.URL(), "bench:")
			if err != nil {
				b.Fatal(err)
			}
			defer rs.Close()
			r := NewRedis(rs.Client(), rs.Prefix(), Retention{MaxBytes: 1 << 40}, Uncompressed(mode.plain))
			ctx := context.Background()
			const perBatch = 4
			n := 0
			write := func() {
				first, second := benchBatches(&n, perBatch, stepBodies{legacy, fhirReq, answer, ack})
				if _, err := r.ApplyAll(ctx, first); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ApplyAll(ctx, second); err != nil {
					b.Fatal(err)
				}
			}
			write() // the index key made, the scripts loaded
			info0 := redisInfo(b, r)
			pid := int(info0["process_id"])
			n0 := n
			b.ReportAllocs()
			flt0, rflt0 := processFaults(b), minorFaults(b, pid)
			cpu0 := processCPU(b)
			for b.Loop() {
				write()
			}
			cpu := processCPU(b) - cpu0
			flt, rflt := processFaults(b)-flt0, minorFaults(b, pid)-rflt0
			info1 := redisInfo(b, r)
			msgs := float64(n - n0)
			b.ReportMetric(float64(flt)/msgs, "faults/msg")
			b.ReportMetric(float64(rflt)/msgs, "redis-faults/msg")
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric((info1["used_cpu_sys"]+info1["used_cpu_user"]-info0["used_cpu_sys"]-info0["used_cpu_user"])*1e9/msgs, "redis-cpu-ns/msg")
			b.ReportMetric((info1["total_net_input_bytes"]-info0["total_net_input_bytes"])/msgs, "redis-in-B/msg")
			b.ReportMetric((info1["used_memory"]-info0["used_memory"])/msgs, "redis-mem-B/msg")
		})
	}
}

// processFaults returns this process's minor page faults so far.
func processFaults(b *testing.B) int64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Minflt
}

// minorFaults returns process pid's minor page faults so far
// (/proc/<pid>/stat).
func minorFaults(b *testing.B, pid int) int64 {
	b.Helper()
	d, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skip(err) // not Linux, or Redis elsewhere
	}
	_, after, _ := strings.Cut(string(d), ") ")
	f := strings.Fields(after)
	if len(f) < 8 {
		b.Fatalf("/proc/%d/stat: %q", pid, d)
	}
	n, err := strconv.ParseInt(f[7], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// redisInfo returns the numeric fields of r's Redis INFO.
func redisInfo(b *testing.B, r *Redis) map[string]float64 {
	b.Helper()
	s, err := r.c.Info(context.Background(), "server", "cpu", "stats", "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if f, err := strconv.ParseFloat(v, 64); ok && err == nil {
			out[k] = f
		}
	}
	return out
}

// BenchmarkRedisApplyAllBusy writes batches as a gateway at about 1,000
// messages a second makes them: 100 exchanges a batch, their requests and
// calls to EPS, then EPS's answers, the v3 answers and the deliveries. It
// reports exchanges/s, the writer's throughput against a redis-server
// that has the rest of the machine.
func BenchmarkRedisApplyAllBusy(b *testing.B) {
	r := benchWriter(b)
	const perBatch = 100
	n := 0
	for b.Loop() {
		writeBenchBatches(b, r, &n, perBatch)
	}
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "exchanges/s")
}
