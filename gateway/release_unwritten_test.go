package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// breaksRelease is the simulator's client whose $release answers carry
// the prescription broken (while set) in a way porxgate cannot write as
// v3: its MedicationRequest has no dosageInstruction.
type breaksRelease struct {
	*upstream.Client
	mu     sync.Mutex
	broken string
}

func (b *breaksRelease) setBroken(sf string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.broken = sf
}

func (b *breaksRelease) Release(ctx context.Context, body []byte) (*upstream.Response, error) {
	resp, err := b.Client.Release(ctx, body)
	b.mu.Lock()
	broken := b.broken
	b.mu.Unlock()
	if err != nil || broken == "" || resp.Status != 200 {
		return resp, err
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	var params map[string]any
	if err := dec.Decode(&params); err != nil {
		return resp, nil
	}
	prms, _ := params["parameter"].([]any) // none in an OperationOutcome
	for _, p := range prms {
		sb, _ := p.(map[string]any)["resource"].(map[string]any)
		entries, _ := sb["entry"].([]any)
		for _, outer := range entries {
			inner, _ := outer.(map[string]any)["resource"].(map[string]any)
			es, _ := inner["entry"].([]any)
			for _, e := range es {
				r, _ := e.(map[string]any)["resource"].(map[string]any)
				if gi, ok := r["groupIdentifier"].(map[string]any); ok && gi["value"] == broken {
					delete(r, "dosageInstruction")
				}
			}
		}
	}
	out := *resp
	if out.Body, err = json.Marshal(params); err != nil {
		return nil, err
	}
	return &out, nil
}

// TestReleaseUnwritablePrescriptionIsolated: EPS releases three
// prescriptions to a pharmacy and porxgate cannot write one of them as v3.
// Before, the whole answer failed (a permanent error: dead letter) and
// none reached the pharmacy, though EPS held all three as with it. Now the
// release response carries the other two; the third is owed to the
// pharmacy, and once porxgate can write it the pharmacy's next nominated
// release delivers it, once.
func TestReleaseUnwritablePrescriptionIsolated(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	api := &breaksRelease{Client: client}
	p := NewEPSProcessor(mapping.NewRegistry(), api, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	tpl, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	var sfs []string
	for i := range 3 {
		payload, sf, err := loadgen.Prescription(tpl, uint32(0x30000+i), strings.ToUpper(ids.NewUUID()))
		if err != nil {
			t.Fatal(err)
		}
		if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription %s answered %s", sf, tc)
		}
		sfs = append(sfs, sf)
	}
	release := func() string {
		t.Helper()
		out, err := p.Process(context.Background(), replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)))
		if err != nil {
			t.Fatalf("nominated release: %v", err)
		}
		if len(out.Answers) != 1 {
			t.Fatalf("%d answers", len(out.Answers))
		}
		return string(out.Answers[0].Payload)
	}
	broken := sfs[1]
	api.setBroken(broken)
	first := release()
	if !strings.Contains(first, "PORX_IN070101UK31") {
		t.Fatalf("answer is no release response:\n%.600s", first)
	}
	for _, sf := range sfs {
		if got, want := strings.Contains(first, sf), sf != broken; got != want {
			t.Errorf("release response carries %s: %v, want %v", sf, got, want)
		}
	}
	for _, sf := range sfs {
		if rx, ok := s.State().Get(sf); !ok || rx.Dispenser != "FCG71" {
			t.Fatalf("EPS holds %s as %+v, want with FCG71", sf, rx)
		}
	}
	owed, err := p.index.SetMembers(context.Background(), owedSet("FCG71"))
	if err != nil {
		t.Fatal(err)
	}
	if len(owed) != 1 || !strings.HasPrefix(owed[0], broken+"@") {
		t.Fatalf("owed to FCG71: %v, want %s", owed, broken)
	}

	api.setBroken("") // porxgate can write it now (say, after an upgrade)
	if next := release(); !strings.Contains(next, broken) || strings.Contains(next, sfs[0]) || strings.Contains(next, sfs[2]) {
		t.Fatalf("the pharmacy's next release does not deliver %s alone:\n%.2000s", broken, next)
	}
	if again := release(); strings.Contains(again, broken) {
		t.Errorf("%s delivered a second time", broken)
	}
}
