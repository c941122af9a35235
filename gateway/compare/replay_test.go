package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
)

// TestReplayInterrupted: a replay stopped part way (SIGINT, SIGTERM, a
// cancelled context) reported only the exchanges it had run; when those
// matched, the report was OK and `porxgate compare` exited 0, as a
// comparison that passed. An interrupted replay is now never OK, and its
// report says how far it got: how many of how many exchanges were
// compared, which one the stop cut short, how many were not run.
func TestReplayInterrupted(t *testing.T) {
	answer := []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`)
	recs := make([]Recorded, 4)
	for i := range recs {
		recs[i] = Recorded{Name: fmt.Sprintf("%02d-x", i+1), Request: []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`), Answer: answer}
	}
	tests := []struct {
		name string
		// stopAt is the exchange (1-based) during which the stop comes;
		// cut says whether that run fails because of it (else it ends
		// with its answer, as a run can when the stop comes last moment).
		stopAt     int
		cut        bool
		compared   int
		wantCut    string
		wantNotRun int
	}{
		{name: "stop after a run that still answered", stopAt: 2, compared: 2, wantNotRun: 2},
		{name: "stop cutting a run short", stopAt: 2, cut: true, compared: 1, wantCut: "02-x", wantNotRun: 2},
		{name: "stop before the first", stopAt: 0, compared: 0, wantNotRun: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.stopAt == 0 {
				cancel()
			}
			n := 0
			rep := Replay(ctx, recs, func(ctx context.Context, _ string, _ Recorded) ([]byte, *ebxml.SOAPFault, error) {
				n++
				if n == tt.stopAt {
					cancel()
					if tt.cut {
						return nil, nil, fmt.Errorf("upstream: %w", ctx.Err())
					}
				}
				return answer, nil, nil
			})
			if rep.OK() {
				t.Errorf("an interrupted replay is OK: %+v", rep)
			}
			if !rep.Interrupted || rep.Total != len(recs) || rep.Compared() != tt.compared {
				t.Errorf("interrupted %v, total %d, compared %d; want true, %d, %d", rep.Interrupted, rep.Total, rep.Compared(), len(recs), tt.compared)
			}
			for _, r := range rep.Results {
				if r.Result == "interrupted" && r.Name != tt.wantCut {
					t.Errorf("%s reported cut short, want %q", r.Name, tt.wantCut)
				}
			}
			var b bytes.Buffer
			if err := rep.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("interrupted: %d of %d exchanges compared", tt.compared, len(recs))
			if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), fmt.Sprintf("%d not run", tt.wantNotRun)) {
				t.Errorf("report lacks %q and %d not run:\n%s", want, tt.wantNotRun, b.String())
			}
			if tt.wantCut != "" && !strings.Contains(b.String(), tt.wantCut+" cut short") {
				t.Errorf("report does not name %s as cut short:\n%s", tt.wantCut, b.String())
			}
		})
	}
}

// TestReplayCompleteDespiteStop: a stop that comes once the last exchange
// has its answer leaves nothing unrun: the replay is complete and judged
// on its results, and an error that is not the stop's stays an error.
func TestReplayCompleteDespiteStop(t *testing.T) {
	answer := []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`)
	recs := []Recorded{{Name: "01", Request: []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`), Answer: answer}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := Replay(ctx, recs, func(context.Context, string, Recorded) ([]byte, *ebxml.SOAPFault, error) {
		cancel()
		return answer, nil, nil
	})
	if !rep.OK() || rep.Interrupted {
		t.Errorf("a replay whose every exchange was compared: OK %v interrupted %v", rep.OK(), rep.Interrupted)
	}
	rep = Replay(context.Background(), recs, func(context.Context, string, Recorded) ([]byte, *ebxml.SOAPFault, error) {
		return nil, nil, errors.New("refused")
	})
	if rep.OK() || rep.Interrupted || rep.Results[0].Result != "error" {
		t.Errorf("a failed run: %+v", rep)
	}
}

// TestReplayTakesRecordedEnvelopes: an exchange recorded as its SOAP
// envelopes (as a sync exchange's log keeps them) was replayed as the
// interaction "Envelope", not supported, and its answer compared as an
// envelope; Spine's recorded SOAP fault was compared element by element
// with an HL7 answer. The HL7 payloads are now taken out of the
// envelopes, and a recorded fault is compared as a refusal.
func TestReplayTakesRecordedEnvelopes(t *testing.T) {
	const payload = `<PORX_IN060102UK30 xmlns="urn:hl7-org:v3"><id root="AAAAAAAA-1111-4111-8111-111111111111"/></PORX_IN060102UK30>`
	const answer = `<PORX_IN110101UK30 xmlns="urn:hl7-org:v3"><id root="22222222-0000-4000-8000-000000000002"/><code code="0001"/></PORX_IN110101UK30>`
	req, err := ebxml.BuildSOAPRequest(ebxml.SOAPRequest{MessageID: "6E2F1C2D-0000-4000-8000-000000000001", Action: ebxml.ServiceMM + "/PORX_IN060102UK30",
		To: "https://spine.example/syncservice-mm/mm", FromAddress: "https://dispenser.example", ReplyTo: "https://dispenser.example",
		ReceiverASID: "990101234567", SenderASID: "200000009876", Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := ebxml.BuildSOAPResponse(ebxml.SOAPResponse{MessageID: "6E2F1C2D-0000-4000-8000-000000000002", Action: ebxml.ServiceMM + "/PORX_IN110101UK30",
		RelatesTo: "uuid:6E2F1C2D-0000-4000-8000-000000000001", Payload: []byte(answer)})
	if err != nil {
		t.Fatal(err)
	}
	fault, err := ebxml.BuildSOAPFault(ebxml.SOAPFault{FaultCode: ebxml.FaultCodeServer, FaultString: "Application Exception",
		Errors: []ebxml.SOAPError{{CodeContext: ebxml.TMSCodeContext, Code: "201", Severity: ebxml.SeverityError, Description: "The message is not well formed"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Spine's refusal of an ebXML message, as an MHS logs it.
	msgErr, err := ebxml.BuildMessageError(nil, "", time.Now(), ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 501319, "Unknown eb:CPAId"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"01-env" + RequestSuffix: req, "01-env" + AnswerSuffix: ans, "02-fault" + RequestSuffix: req, "02-fault" + AnswerSuffix: fault,
		"03-msgerror" + RequestSuffix: req, "03-msgerror" + AnswerSuffix: msgErr} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := Replay(context.Background(), recs, func(_ context.Context, interaction string, rec Recorded) ([]byte, *ebxml.SOAPFault, error) {
		if interaction != "PORX_IN060102UK30" || rootTag(rec.Request) != "PORX_IN060102UK30" || !rec.SOAP {
			return nil, nil, fmt.Errorf("run got %s, root %s, SOAP %v", interaction, rootTag(rec.Request), rec.SOAP)
		}
		return []byte(answer), nil, nil
	})
	if len(rep.Results) != 3 {
		t.Fatalf("results %+v", rep.Results)
	}
	if r := rep.Results[0]; r.Result != "match" {
		t.Errorf("envelopes: %+v", r)
	}
	if r := rep.Results[1]; r.Result != "differ" || !strings.Contains(strings.Join(r.Differences, "\n"), "spine refused with SOAP fault 201 (The message is not well formed); fhir answered PORX_IN110101UK30") {
		t.Errorf("recorded fault: %+v", r)
	}
	if r := rep.Results[2]; r.Result != "differ" || !strings.Contains(strings.Join(r.Differences, "\n"),
		"spine refused with ebXML MessageError ValueNotRecognized (501319:Unknown eb:CPAId); fhir answered PORX_IN110101UK30") {
		t.Errorf("recorded MessageError: %+v", r)
	}
}
