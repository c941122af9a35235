package journal

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// prescriptionV3 is a cut-down ParentPrescription carrying every id the
// journal reads, and a signature.
const prescriptionV3 = `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">
 <id root="11111111-2222-4333-8444-555555555555"/>
 <ControlActEvent><subject><ParentPrescription>
  <recordTarget><Patient><id root="2.16.840.1.113883.2.1.4.1" extension="9449304130"/></Patient></recordTarget>
  <pertinentInformation1><pertinentPrescription>
   <author><AgentPerson><representedOrganization><id root="1.2.826.0.1285.0.1.10" extension="A83008"/></representedOrganization></AgentPerson>
    <signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
     <SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
     <Reference><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><DigestValue>q2Pb0hXeKm1sMxVnN1OSJYyP1LM=</DigestValue></Reference>
    </SignedInfo></Signature></signatureText></author>
   <id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="83C40E-A83008-00001S"/>
  </pertinentPrescription></pertinentInformation1>
 </ParentPrescription></subject></ControlActEvent>
</PORX_IN020101UK31>`

// backends returns a memory and a Redis backend with retention r.
func backends(t *testing.T, r Retention) map[string]Backend {
	t.Helper()
	rb, _ := redisBackend(t, r)
	return map[string]Backend{"memory": NewMemory(r), "redis": rb}
}

// backendsAndCluster is backends with a Redis Cluster backend too (keys
// under the store's hash-tag prefix, as the gateway opens it on a
// Cluster), for the tests that cover the journal's every Redis command.
func backendsAndCluster(t *testing.T, r Retention) map[string]Backend {
	t.Helper()
	bs := backends(t, r)
	cluster := redistest.StartCluster(t)
	rc, err := store.OpenRedis(store.RedisOptions{ClusterAddrs: cluster.Addrs()}, "test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	bs["redis-cluster"] = NewRedis(rc.Client(), rc.Prefix(), r)
	return bs
}

// redisBackend returns a Redis backend with retention r on a fresh
// redis-server, and that server.
func redisBackend(t *testing.T, r Retention) (*Redis, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rs, err := store.NewRedis(srv.URL(), "test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	return NewRedis(rs.Client(), rs.Prefix(), r), srv
}

// run starts j's writer for the test.
func run(t *testing.T, j *Journal) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go j.Run(ctx)
}

// waitAll waits until j has written everything recorded.
func waitAll(t *testing.T, j *Journal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestJournalRecordsAndSearches(t *testing.T) {
	ack, err := os.ReadFile("../../testdata/acks/ae_dispense_with_another_dispenser.xml")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Second) // Redis keeps an exchange MaxAge from its start: one long past lives 1s
	for name, b := range backendsAndCluster(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			j := New(b, Options{Now: func() time.Time { return t0 }})
			run(t, j)
			j.Record(Event{Exchange: "M1", At: t0, Interaction: "PORX_IN020101UK31", Transport: "ebxml", Party: "A83008-801",
				IDs:  IDs{MessageIDs: []string{"M1"}, ConversationID: "C1"},
				Step: &Step{Kind: StepLegacyRequest, Body: prescriptionV3}})
			j.Record(Event{Exchange: "M1", At: t0.Add(time.Second), IDs: IDs{XRequestIDs: []string{"X-REQ-1"}},
				Step: &Step{Kind: StepEPSAnswer, Status: 400, Body: `{"resourceType":"OperationOutcome"}`, TookMS: 12}})
			j.Record(Event{Exchange: "M1", At: t0.Add(2 * time.Second), Step: &Step{Kind: StepV3Answer, Body: string(ack)}})
			j.Record(Event{Exchange: "M2", At: t0.Add(time.Hour), Interaction: "PORX_IN060102UK30",
				Step: &Step{Kind: StepLegacyRequest, Body: "<not xml"}})
			waitAll(t, j)
			ctx := context.Background()
			x, err := b.Get(ctx, "M1")
			if err != nil || x == nil {
				t.Fatalf("Get(M1) = %v, %v", x, err)
			}
			if len(x.Steps) != 3 || x.Outcome.Result != "rejected" || x.Outcome.Code != "0004" {
				t.Errorf("M1 steps %d outcome %+v", len(x.Steps), x.Outcome)
			}
			if x.Signature == nil || x.Signature.Digest != "q2Pb0hXeKm1sMxVnN1OSJYyP1LM=" || !strings.HasSuffix(x.Signature.Algorithm, "rsa-sha1") {
				t.Errorf("signature %+v", x.Signature)
			}
			tests := []struct {
				name string
				q    Query
				want []string
			}{
				{"all newest first", Query{}, []string{"M2", "M1"}},
				{"by prescription id", Query{ID: "83C40E-A83008-00001S"}, []string{"M1"}},
				{"by NHS number", Query{ID: "9449304130"}, []string{"M1"}},
				{"by ODS code", Query{ID: "a83008"}, []string{"M1"}},
				{"by conversation", Query{ID: "C1"}, []string{"M1"}},
				{"by X-Request-ID", Query{ID: "X-REQ-1"}, []string{"M1"}},
				{"by RefToMessageId of the answer", Query{ID: "5F2B8C1E-3D4A-4B6C-9E7F-0A1B2C3D4E5F"}, []string{"M1"}},
				{"by interaction", Query{Interaction: "PORX_IN060102UK30"}, []string{"M2"}},
				{"by outcome", Query{Outcome: "rejected"}, []string{"M1"}},
				{"by time range", Query{From: t0.Add(time.Minute)}, []string{"M2"}},
				{"time range end exclusive", Query{To: t0.Add(time.Hour)}, []string{"M1"}},
				{"nothing", Query{ID: "nope"}, nil},
			}
			for _, tt := range tests {
				got, err := b.Search(ctx, tt.q)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				var ids []string
				for _, s := range got {
					ids = append(ids, s.ID)
				}
				if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
					t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
				}
			}
		})
	}
}

func TestJournalRetention(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second) // see TestJournalRecordsAndSearches
	body := incompressible(1000, 1)
	for name, b := range backendsAndCluster(t, Retention{MaxAge: time.Hour, MaxBytes: 3500}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i, id := range []string{"A", "B", "C", "D"} {
				if err := b.Apply(ctx, Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Minute),
					Step: &Step{Kind: StepLegacyRequest, Body: body}}); err != nil {
					t.Fatal(err)
				}
			}
			st, _ := b.Stats(ctx)
			if st.Bytes > 3500 || st.Exchanges >= 4 {
				t.Errorf("size retention: %+v, want at most 3500 bytes and fewer than 4 exchanges", st)
			}
			if x, _ := b.Get(ctx, "A"); x != nil {
				t.Error("oldest exchange A kept past the size limit")
			}
			if x, _ := b.Get(ctx, "D"); x == nil {
				t.Error("newest exchange D dropped")
			}
			if err := b.Prune(ctx, t0.Add(time.Hour+150*time.Second)); err != nil {
				t.Fatal(err)
			}
			got, _ := b.Search(ctx, Query{})
			if len(got) != 1 || got[0].ID != "D" {
				t.Errorf("after age retention: %+v, want only D", got)
			}
			if st, _ := b.Stats(ctx); st.Exchanges != 1 {
				t.Errorf("stats after prune: %+v", st)
			}
		})
	}
}

func TestJournalAccesses(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for name, b := range backends(t, Retention{MaxAccesses: 2, MaxAge: time.Hour}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i, w := range []string{"a", "b", "c"} {
				if err := b.AddAccess(ctx, Access{At: t0.Add(time.Duration(i) * time.Minute), Who: w, Door: "admin", What: "/x"}); err != nil {
					t.Fatal(err)
				}
			}
			got, _ := b.Accesses(ctx, 10)
			if len(got) != 2 || got[0].Who != "c" || got[1].Who != "b" {
				t.Errorf("accesses %+v, want c then b", got)
			}
			_ = b.Prune(ctx, t0.Add(time.Hour+90*time.Second))
			if got, _ := b.Accesses(ctx, 10); len(got) != 1 || got[0].Who != "c" {
				t.Errorf("after prune %+v, want c", got)
			}
		})
	}
}

func TestJournalDropsWhenFull(t *testing.T) {
	j := New(NewMemory(Retention{}), Options{Queue: 2})
	for range 5 { // no writer running: the queue fills
		j.Record(Event{Exchange: "M", Step: &Step{Kind: StepFault}})
	}
	if j.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", j.Dropped())
	}
	run(t, j)
	waitAll(t, j)
	x, _ := j.Backend().Get(context.Background(), "M")
	if x == nil || len(x.Steps) != 2 {
		t.Fatalf("kept %+v, want the 2 queued steps", x)
	}
	var nilJ *Journal
	nilJ.Record(Event{Exchange: "M"}) // a disabled journal records nothing and does not panic
}

func TestReadV3Malformed(t *testing.T) {
	for _, in := range []string{"", "<", "not xml", "<a><b></a>", "<MCCI_IN010000UK13/>", `<x xmlns="urn:hl7-org:v3"><id root="` + strings.Repeat("a", 10000) + `"/></x>`} {
		f := readV3(in) // must not panic
		if in == "<MCCI_IN010000UK13/>" && (f.outcome == nil || f.outcome.Result != "error") {
			t.Errorf("ack without type code: %+v", f.outcome)
		}
	}
}

func FuzzReadV3(f *testing.F) {
	f.Add(prescriptionV3)
	f.Add("<MCCI_IN010000UK13><acknowledgement typeCode=\"AE\"/></MCCI_IN010000UK13>")
	f.Fuzz(func(t *testing.T, s string) { _ = readV3(s) })
}

// TestJournalConcurrentWriters: the queue's writer and RecordNow (another
// goroutine, or another replica) write the same exchanges at once; no
// step is lost in either backend.
func TestJournalConcurrentWriters(t *testing.T) {
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			j := New(b, Options{})
			run(t, j)
			const n = 40
			done := make(chan error, 1)
			go func() {
				for i := range n {
					if err := j.RecordNow(context.Background(), Event{Exchange: "X" + strconv.Itoa(i%4), Step: &Step{Kind: StepDelivery}}); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := range n {
				j.Record(Event{Exchange: "X" + strconv.Itoa(i%4), Step: &Step{Kind: StepFault}})
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			waitAll(t, j)
			total := 0
			for i := range 4 {
				x, err := b.Get(context.Background(), "X"+strconv.Itoa(i))
				if err != nil || x == nil {
					t.Fatalf("X%d: %v", i, err)
				}
				total += len(x.Steps)
			}
			if total != 2*n {
				t.Errorf("%d steps kept, want %d", total, 2*n)
			}
		})
	}
}

// TestDeliveredAfterDeadLetter: in every backend, an exchange whose answer
// was given up on is "dead-letter" until the answer is delivered after
// all; then its outcome is the answer's own again.
func TestDeliveredAfterDeadLetter(t *testing.T) {
	ack, err := os.ReadFile("../../testdata/acks/ae_dispense_with_another_dispenser.xml")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			j := New(b, Options{})
			run(t, j)
			outcome := func() Outcome {
				t.Helper()
				waitAll(t, j)
				x, err := b.Get(context.Background(), "M1")
				if err != nil || x == nil {
					t.Fatalf("Get: %v, %v", x, err)
				}
				return x.Outcome
			}
			j.Record(Event{Exchange: "M1", At: t0, Step: &Step{Kind: StepV3Answer, Body: string(ack)}})
			j.Record(Event{Exchange: "M1", At: t0.Add(time.Second), Outcome: &Outcome{Result: OutcomeDeadLetter, Text: "MHS down"}})
			if o := outcome(); o.Result != OutcomeDeadLetter {
				t.Fatalf("outcome %+v, want dead-letter", o)
			}
			j.Record(Event{Exchange: "M1", At: t0.Add(2 * time.Second), Delivered: true, Step: &Step{Kind: StepDelivery, Title: "answer delivered to X"}})
			if o := outcome(); o.Result != "rejected" || o.Code != "0004" {
				t.Errorf("outcome after delivery %+v, want the answer's rejected 0004", o)
			}
		})
	}
}
