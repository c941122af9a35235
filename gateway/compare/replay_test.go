package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
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
			rep := Replay(ctx, recs, func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
				n++
				if n == tt.stopAt {
					cancel()
					if tt.cut {
						return nil, fmt.Errorf("upstream: %w", ctx.Err())
					}
				}
				return answer, nil
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
	rep := Replay(ctx, recs, func(context.Context, string, []byte) ([]byte, error) {
		cancel()
		return answer, nil
	})
	if !rep.OK() || rep.Interrupted {
		t.Errorf("a replay whose every exchange was compared: OK %v interrupted %v", rep.OK(), rep.Interrupted)
	}
	rep = Replay(context.Background(), recs, func(context.Context, string, []byte) ([]byte, error) {
		return nil, errors.New("refused")
	})
	if rep.OK() || rep.Interrupted || rep.Results[0].Result != "error" {
		t.Errorf("a failed run: %+v", rep)
	}
}
